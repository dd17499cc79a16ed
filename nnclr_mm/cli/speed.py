"""``nnclr-mm speed``: NNCLR's cost against mmpretrain's SimCLR and
the hardware, in sections:

step:   a training step of NNCLR vs SimCLR, same ResNet, interleaved in one
        process (who goes first alternates), median of several steps; the
        ratio is NNCLR / SimCLR; images/s count the views through the
        backbone (2 per sample); on a GPU also the peak memory of each.
        ResNet-50 runs at 224 px with batch 256 on a GPU (if that does not
        fit in fp32: --amp or --r50-batch), 8 on the CPU. --amp trains
        with AmpOptimWrapper: fp16 autocast on a GPU, fp32 on the CPU.
lookup: support-set search in fp32, chunked (the plugin's) vs dense, time
        (median over rounds that alternate the two, each a
        torch.utils.benchmark median) and peak extra memory (growth of the
        peak RSS of a fresh process on the CPU, max allocated on a GPU
        after a warm-up call, which allocates cuBLAS's workspace). Dense
        runs where its similarity matrix fits in half the free memory.
knn:    the kNN evaluation's classification (KNNValLoop's float16 bank on
        a GPU: ImageNet's 1,281,167 x 2048 random unit rows, 10,000 of
        its 50,000 queries, k = 200), time and peak memory beyond the
        bank, with the default similarity block and, on a GPU, a 32 times
        larger one; smaller and float32 on the CPU.
loader: images/s (two views each) of the paper recipe's training
        pipeline (BYOL's, pillow and cv2), of decoding alone, of decoding,
        cropping and flipping, and of what its device-aug config leaves to
        the workers, on 500 x 375 JPEG files: in one process (per core)
        and through a DataLoader with 1..N workers.
device-aug: time per sample (two views) of the paper recipe's
        photometric augmentations: mmcv's transforms image by image on one
        core, DeviceAugDataPreprocessor on a batch on the CPU and the GPU.
lightly: a training step of the lightly-recipe config against lightly's
        own NNCLR example on the same images, interleaved, with
        channels_last off and on (as_shipped: the config's); needs
        lightly.
e2e:    quickstart training samples/s, data loading included.
Nothing here is asserted: numbers are recorded (docs/measured/speed.md), not
tested.
"""
import contextlib
import copy
import functools
import json
import logging
import multiprocessing
import os.path as osp
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils import benchmark as torch_benchmark

from .._configs import MIM_DIR
from ..utils import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine
from . import common

CONFIGS = osp.join(MIM_DIR, 'configs')
QUICKSTART_FILE = osp.join(CONFIGS, 'nnclr',
                           'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py')
MODEL_BASES = osp.join(CONFIGS, '_base_', 'models')
EXAMPLE = ('nnclr-mm speed --sections step lookup --amp --channels-last '
           '--bank-size 98304')


def device() -> torch.device:
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')


def alternate(runs: dict, steps: int) -> tuple:
    """Call each of ``runs`` (name: callable) once to warm up, then
    ``steps`` times, in one process, who goes first alternating (the
    position in a pair shifts timings): the median seconds of each and,
    on a GPU, its peak memory in bytes."""
    times = {name: [] for name in runs}
    peaks = {}
    names = list(runs)
    cuda = device().type == 'cuda'
    for step in range(steps + 1):
        for name in names if step % 2 else names[::-1]:
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            runs[name]()
            if cuda:
                torch.cuda.synchronize()
                peaks[name] = max(peaks.get(name, 0),
                                  torch.cuda.max_memory_allocated())
            if step:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, peaks


@contextlib.contextmanager
def one_thread():
    """One torch thread inside, as a DataLoader worker has."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# -- step ------------------------------------------------------------------
def models_for(depth: int, channels_last: bool, amp: bool, bank_size: int):
    """The shipped NNCLR and SimCLR ResNet-18 models (configs/_base_/models),
    at ``depth``: one backbone and one 3-layer projection for both, so only
    NNCLR's additions (predictor, search, enqueue) differ."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    from ..registry import MODELS
    in_ch = 512 if depth == 18 else 2048
    widths = {
        'model.backbone.depth': depth,
        'model.neck.in_channels': in_ch,
        'model.neck.hid_channels': in_ch,
        'model.neck.num_layers': 3,
    }
    models = {}
    for name, extra in (('nnclr', {'model.memory_bank.size': bank_size}),
                        ('simclr', {})):
        cfg = Config.fromfile(osp.join(MODEL_BASES, f'{name}_resnet18.py'))
        cfg.merge_from_dict({**widths, **extra})
        models[name] = cfg.model
    built = {}
    with DefaultScope.overwrite_default_scope('nnclr_mm'):
        for name, cfg in models.items():
            torch.manual_seed(0)
            model = MODELS.build(cfg).to(device()).train()
            if channels_last:
                model = model.to(memory_format=torch.channels_last)
            optim = build_optim_wrapper(
                model, dict(type='AmpOptimWrapper' if amp else 'OptimWrapper',
                            optimizer=dict(type='SGD', lr=0.01,
                                           momentum=0.9)))
            built[name] = (model, optim)
    return built


def bench_step(depth, size, batch, steps, channels_last, amp, bank_size):
    from mmpretrain.structures import DataSample
    built = models_for(depth, channels_last, amp, bank_size)
    # The bank starts full, as after the first epoch.
    bank = built['nnclr'][0].memory_bank
    bank.enqueue(torch.randn(bank_size, bank.feat_dim, device=device()))
    data = dict(
        inputs=[torch.randint(0, 256, (batch, 3, size, size),
                              dtype=torch.uint8) for _ in range(2)],
        data_samples=[DataSample() for _ in range(batch)])
    medians, peaks = alternate(
        {name: functools.partial(model.train_step, data, optim)
         for name, (model, optim) in built.items()}, steps)
    row = dict(
        backbone=f'ResNet-{depth}', size=size, batch=batch, steps=steps,
        bank=bank_size, channels_last=channels_last, amp=amp,
        nnclr_s=round(medians['nnclr'], 4),
        simclr_s=round(medians['simclr'], 4),
        ratio=round(medians['nnclr'] / medians['simclr'], 3),
        nnclr_images_per_s=round(2 * batch / medians['nnclr'], 1),
        simclr_images_per_s=round(2 * batch / medians['simclr'], 1))
    if peaks:
        # Both models stay on the GPU: each peak includes the other's
        # weights and optimizer state (a few hundred MB for ResNet-50).
        row.update({f'{name}_peak_gb': round(peak / 2**30, 2)
                    for name, peak in peaks.items()})
    return row


# -- lookup ----------------------------------------------------------------
def _search(batch, bank_size, mode):
    # Both in fp32: the plugin's search is fp32 also under --amp.
    dev = device()
    queries = F.normalize(torch.randn(batch, 256, device=dev), dim=1)
    bank = F.normalize(torch.randn(bank_size, 256, device=dev), dim=1)
    if mode == 'dense':
        return lambda: (queries @ bank.T).argmax(1)
    return lambda: chunked_topk_cosine(queries, bank, 1,
                                       DEFAULT_CHUNK_ELEMS)[1]


def _peak_extra_mb(batch, bank_size, mode):
    """Peak memory the search adds on top of queries and bank."""
    fn = _search(batch, bank_size, mode)
    if device().type == 'cuda':
        fn()  # the first product allocates cuBLAS's workspace, kept after
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    # ru_maxrss is inherited across fork+exec, so reset this process's
    # high-water mark (Linux) and read it back from /proc.
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    base = _status_kb('VmRSS')
    fn()
    return (_status_kb('VmHWM') - base) / 1024


def _status_kb(field: str, path: str = '/proc/self/status') -> int:
    with open(path) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def dense_limit_bytes() -> int:
    """The largest dense similarity matrix measured: half the free memory
    of the GPU, or of the machine."""
    if device().type == 'cuda':
        return torch.cuda.mem_get_info()[0] // 2
    return _status_kb('MemAvailable', '/proc/meminfo') * 1024 // 2


def bench_lookup(batches, bank_sizes, rounds):
    rows = []
    ctx = multiprocessing.get_context('spawn')
    limit = dense_limit_bytes()
    for batch in batches:
        for bank_size in bank_sizes:
            row = dict(batch=batch, bank=bank_size)
            modes = ['chunked', 'dense']
            if batch * bank_size * 4 > limit:
                row['dense_ms'] = row['dense_peak_mb'] = None
                modes.remove('dense')
            timers = {
                mode: torch_benchmark.Timer(
                    stmt='fn()',
                    globals=dict(fn=_search(batch, bank_size, mode)))
                for mode in modes
            }
            # Alternate the modes: a slow spell of a shared machine then
            # hits both, and the median over rounds discards it.
            times = {mode: [] for mode in modes}
            for _ in range(rounds):
                for mode in modes:
                    times[mode].append(timers[mode].blocked_autorange(
                        min_run_time=0.5).median)
            for mode in modes:
                row[f'{mode}_ms'] = round(
                    statistics.median(times[mode]) * 1e3, 2)
                if device().type == 'cuda':  # peaks reset in-process
                    peak = _peak_extra_mb(batch, bank_size, mode)
                else:
                    with ctx.Pool(1) as pool:  # fresh process: clean peak
                        peak = pool.apply(_peak_extra_mb,
                                          (batch, bank_size, mode))
                row[f'{mode}_peak_mb'] = round(peak, 1)
            if row['dense_ms']:
                row['chunked_over_dense'] = round(
                    row['chunked_ms'] / row['dense_ms'], 3)
            rows.append(row)
    return rows


# -- knn -------------------------------------------------------------------
def bench_knn(bank_size, dim, num_queries, batch, dtype, chunks, k=200):
    """KNNValLoop's classification of ``num_queries`` held-out features in
    batches of ``batch`` against a bank of ``bank_size`` random unit rows
    in ``dtype`` (1,000 classes), with similarity blocks of each of
    ``chunks`` elements; one row each."""
    from nnclr_mm.evaluation import weighted_knn_scores
    dev = device()
    gen = torch.Generator(dev).manual_seed(0)
    bank = torch.empty(bank_size, dim, dtype=dtype, device=dev)
    for rows in bank.split(65536):  # filled in pieces: no float32 copy
        rows.copy_(F.normalize(
            torch.randn(rows.shape, generator=gen, device=dev), dim=1))
    labels = torch.randint(1000, (bank_size, ), generator=gen, device=dev)
    queries = F.normalize(
        torch.randn(num_queries, dim, generator=gen, device=dev), dim=1)

    def classify(queries, chunk_elems):
        for part in queries.split(batch):
            weighted_knn_scores(part, bank, labels, 1000, k=k,
                                chunk_elems=chunk_elems, normalized=True)

    rows = []
    for chunk_elems in chunks:
        classify(queries[:batch], chunk_elems)  # warm-up: kernels, cuBLAS
        if dev.type == 'cuda':
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        classify(queries, chunk_elems)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        row = dict(bank=bank_size, dim=dim, dtype=str(dtype).split('.')[-1],
                   bank_gb=round(bank.numel() * bank.element_size() / 2**30,
                                 2),
                   queries=num_queries, batch=batch, k=k,
                   chunk_elems=chunk_elems, seconds=round(seconds, 3),
                   ms_per_1000_queries=round(seconds * 1e6 / num_queries, 1))
        if dev.type == 'cuda':
            row['peak_extra_gb'] = round(
                (torch.cuda.max_memory_allocated() - base) / 2**30, 3)
        rows.append(row)
    return rows


# -- loader ----------------------------------------------------------------
PAPER = osp.join(CONFIGS, 'nnclr',
                 'nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py')
PAPER_DEVICE_AUG = osp.join(
    CONFIGS, 'nnclr',
    'nnclr_resnet50_8xb512-lars-coslr-1000e_device-aug_in1k.py')


def write_jpegs(folder: str, count: int, size=(500, 375)) -> list:
    """``count`` JPEG files of ImageNet's typical size: smooth colour
    fields with noise, so that decoding costs what a photo's does."""
    from PIL import Image
    rng = np.random.RandomState(0)
    paths = []
    for i in range(count):
        field = Image.fromarray(rng.randint(0, 256, (12, 16, 3), np.uint8))
        img = np.asarray(field.resize(size, Image.BICUBIC), np.int16)
        img = img + rng.randint(-24, 25, img.shape)
        paths.append(osp.join(folder, f'{i:04d}.jpg'))
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(
            paths[-1], quality=90)
    return paths


def loader_pipelines() -> dict:
    """The paper recipe's training pipeline and what its device-aug variant
    leaves to the workers, from the shipped configs."""
    from mmengine.config import Config
    paper = Config.fromfile(PAPER).train_dataloader.dataset.pipeline
    device_aug = Config.fromfile(
        PAPER_DEVICE_AUG).train_dataloader.dataset.pipeline
    cv2 = copy.deepcopy(paper)
    for view in cv2[1]['transforms']:
        for t in view:
            for inner in (t, *t.get('transforms', [])):
                if 'backend' in inner or inner['type'] == 'RandomResizedCrop':
                    inner['backend'] = 'cv2'
    return {
        'decode only': paper[:1],
        'decode + crop + flip': device_aug[:-1],
        'device-aug workers (+ pack to uint8)': device_aug,
        'paper (BYOL two views), pillow': paper,
        'paper (BYOL two views), cv2': cv2,
    }


def _compose(pipeline):
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return Compose(pipeline)


class _Files(torch.utils.data.Dataset):

    def __init__(self, paths, pipeline):
        self.paths, self.pipeline = paths, pipeline
        self.transform = None

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        if self.transform is None:  # built in the worker
            self.transform = _compose(self.pipeline)
        return self.transform(dict(img_path=self.paths[index]))


def _count(batch):
    return len(batch)


def bench_loader(images: int, workers: list) -> list:
    """Images per second (both views) of each pipeline: in one process
    (per core), and through a DataLoader with each number of workers."""
    import tempfile
    rows = []
    with tempfile.TemporaryDirectory(prefix='bench_loader_') as folder:
        paths = write_jpegs(folder, images)
        for name, pipeline in loader_pipelines().items():
            transform = _compose(pipeline)
            np.random.seed(0)
            with one_thread():
                transform(dict(img_path=paths[0]))  # warm-up
                start = time.perf_counter()
                for path in paths:
                    transform(dict(img_path=path))
                row = dict(pipeline=name, images_per_s_per_core=round(
                    len(paths) / (time.perf_counter() - start), 1))
            for num in workers:
                loader = torch.utils.data.DataLoader(
                    _Files(paths * 4, pipeline), batch_size=len(paths) // 4,
                    num_workers=num, collate_fn=_count)
                batches = iter(loader)
                seen = next(batches)  # workers started and warm
                start = time.perf_counter()
                seen = sum(batches)
                row[f'workers_{num}_images_per_s'] = round(
                    seen / (time.perf_counter() - start), 1)
            rows.append(row)
    return rows


# -- device-aug ------------------------------------------------------------
def photometric_transforms(pipeline) -> list:
    """Each view's transforms of ``pipeline`` after its crop and flip: what
    DeviceAugDataPreprocessor takes over."""
    return [[t for t in view
             if t['type'] not in ('RandomResizedCrop', 'RandomFlip')]
            for view in pipeline[1]['transforms']]


def bench_device_aug(batch: int, repeats: int) -> list:
    """Time per sample (both views) of the paper recipe's photometric
    augmentations: mmcv's transforms, image by image on one core, against
    DeviceAugDataPreprocessor on the whole batch, on the CPU and, when
    there is one, the GPU."""
    import tempfile

    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from ..registry import MODELS
    cfg = Config.fromfile(PAPER_DEVICE_AUG)
    with tempfile.TemporaryDirectory(prefix='bench_aug_') as folder:
        paths = write_jpegs(folder, min(batch, 32))
        crop = _compose(cfg.train_dataloader.dataset.pipeline)
        packed = [crop(dict(img_path=p))['inputs'] for p in paths]
    views = [torch.stack([packed[i % len(packed)][v]
                          for i in range(batch)]) for v in range(2)]
    rows = []
    mmcv = [_compose(view) for view in photometric_transforms(
        Config.fromfile(PAPER).train_dataloader.dataset.pipeline)]
    hwc = [[v[i].permute(1, 2, 0).numpy().copy() for i in range(len(paths))]
           for v in views]
    np.random.seed(0)
    with one_thread():
        start = time.perf_counter()
        for _ in range(repeats):
            for v, transform in enumerate(mmcv):
                for img in hwc[v]:
                    transform(dict(img=img.copy()))
        per_sample = (time.perf_counter() - start) / (repeats * len(paths))
    rows.append(dict(where='mmcv transforms, CPU, one core',
                     ms_per_sample=round(1000 * per_sample, 3)))
    with DefaultScope.overwrite_default_scope('nnclr_mm'):
        pre = MODELS.build(cfg.data_preprocessor)
    devices = [torch.device('cpu')] + (
        [torch.device('cuda')] if torch.cuda.is_available() else [])
    for dev in devices:
        pre.to(dev)
        on_device = [v.to(dev) for v in views]

        def augment(on_device=on_device):
            for view, augments in zip(on_device, pre.view_augments):
                pre.augment(view, augments)

        medians, _ = alternate(dict(augment=augment), repeats)
        rows.append(dict(
            where=f'DeviceAugDataPreprocessor, {dev.type}' +
            ('' if dev.type == 'cuda' else
             f', {torch.get_num_threads()} threads'),
            batch=batch,
            ms_per_sample=round(1000 * medians['augment'] / batch, 3)))
    return rows


# -- lightly ---------------------------------------------------------------
LIGHTLY_RECIPE = osp.join(CONFIGS, 'nnclr',
                          'nnclr_resnet18_1xb256-sgd-10e_cifar10-lightly.py')


def lightly_example(bank_size: int):
    """lightly 1.6's ``examples/pytorch/nnclr.py`` training step: returns
    ``step(x0, x1)`` on normalised float views."""
    import torchvision
    from lightly.loss import NTXentLoss
    from lightly.models.modules import (
        NNCLRPredictionHead,
        NNCLRProjectionHead,
        NNMemoryBankModule,
    )
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18()
    backbone = torch.nn.Sequential(*list(resnet.children())[:-1])
    projection = NNCLRProjectionHead(512, 512, 128)
    prediction = NNCLRPredictionHead(128, 512, 128)
    model = torch.nn.ModuleList([backbone, projection, prediction])
    model.to(device()).train()
    bank = NNMemoryBankModule(size=(bank_size, 128)).to(device())
    criterion = NTXentLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.06)

    def forward(x):
        z = projection(backbone(x).flatten(start_dim=1))
        return z.detach(), prediction(z)

    def step(x0, x1):
        z0, p0 = forward(x0)
        z1, p1 = forward(x1)
        z0 = bank(z0, update=False)
        z1 = bank(z1, update=True)
        loss = 0.5 * (criterion(z0, p1) + criterion(z1, p0))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def ours_lightly_recipe(channels_last: bool):
    """The shipped lightly-recipe config's model and optimizer: returns
    ``step(data)`` on the uint8 views its preprocessor takes."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    from ..registry import MODELS
    cfg = Config.fromfile(LIGHTLY_RECIPE)
    cfg.model.channels_last = channels_last
    with DefaultScope.overwrite_default_scope('nnclr_mm'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).to(device()).train()
        # As the runner does; its line per parameter is not wanted here.
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)
        model.init_weights()
        logger.setLevel(level)
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
    bank = model.memory_bank
    bank.enqueue(F.normalize(torch.randn(bank.size, bank.feat_dim,
                                         device=device()), dim=1))
    return lambda data: model.train_step(data, optim)


def bench_lightly(batch: int, steps: int, bank_size: int = 4096) -> list:
    """A training step of the lightly-recipe config against lightly's own
    example, in one process on the same images, who goes first alternating;
    the ratio is ours / lightly's median step. Ours starts from the uint8
    views (its step normalises them), lightly's from the same views
    normalised beforehand (its transform normalises them in the loader)."""
    from mmengine.config import Config
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    views = [torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8)
             for _ in range(2)]
    data = dict(inputs=views,
                data_samples=[DataSample() for _ in range(batch)])
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255
    floats = [((v.flip(1).float() - mean) / std).to(device()) for v in views]
    shipped = Config.fromfile(LIGHTLY_RECIPE).model.get('channels_last',
                                                         False)
    rows = []
    for channels_last in (False, True):
        medians, _ = alternate(
            dict(ours=functools.partial(ours_lightly_recipe(channels_last),
                                        data),
                 lightly=functools.partial(lightly_example(bank_size),
                                           *floats)), steps)
        rows.append(dict(
            channels_last=channels_last,
            as_shipped=channels_last == shipped,
            batch=batch, bank=bank_size, steps=steps,
            ours_s=round(medians['ours'], 4),
            lightly_s=round(medians['lightly'], 4),
            ratio=round(medians['ours'] / medians['lightly'], 3)))
    return rows


# -- e2e -------------------------------------------------------------------
def bench_e2e(iters, batch):
    import tempfile

    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(QUICKSTART_FILE)
    cfg.train_dataloader.batch_size = batch
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = None
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.log_processor = dict(by_epoch=False)
    cfg.work_dir = tempfile.mkdtemp(prefix='bench_e2e_')
    runner = Runner.from_cfg(cfg)
    runner.train()
    step = runner.message_hub.get_scalar('train/time').data[0][2:]
    median = float(np.median(step))
    return dict(batch=batch, iters=iters, step_s=round(median, 3),
                samples_per_s=round(batch / median, 1),
                images_per_s=round(2 * batch / median, 1))


def parse_args(argv=None):
    parser = common.parser_for(
        'speed', 'Speed and memory of NNCLR against SimCLR and the '
        'hardware; nothing is asserted.', EXAMPLE)
    sections = ['step', 'lookup', 'knn', 'loader', 'device-aug', 'lightly',
                'e2e']
    parser.add_argument('--sections', nargs='+', default=sections,
                        choices=sections)
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes, to check that it runs')
    parser.add_argument('--channels-last', action='store_true',
                        help='NHWC backbones in the step section')
    parser.add_argument('--amp', action='store_true',
                        help='training steps with AmpOptimWrapper: fp16 on a '
                        'GPU, fp32 on the CPU')
    parser.add_argument('--bank-size', type=int, default=4096,
                        help='support-set size in the step section '
                        '(the quickstart\'s; the paper uses 98304)')
    parser.add_argument('--r50-batch', type=int,
                        help='images per view of the ResNet-50 step; '
                        'defaults to 256 on a GPU, 8 on the CPU')
    parser.add_argument('--rounds', type=int,
                        help='lookup rounds per size (median); defaults to '
                        '5, 1 with --quick')
    parser.add_argument('--workers', type=int, nargs='+',
                        help='DataLoader workers in the loader section; '
                        'defaults to 1 .. the CPU count')
    parser.add_argument('--out', default='speed.json')
    args = parser.parse_args(argv)
    args.r18_batch = 8 if args.quick else 256
    args.r50_batch = args.r50_batch or (
        2 if args.quick else 256 if device().type == 'cuda' else 8)
    batch = max(args.r18_batch, args.r50_batch)
    if args.bank_size < batch:
        parser.error(f'--bank-size ({args.bank_size}) must hold one view\'s '
                     f'batch ({batch})')
    return args


def main(argv=None):
    args = parse_args(argv)
    quick = args.quick
    gpu = device().type == 'cuda'
    results = dict(machine=dict(
        device=(torch.cuda.get_device_name() if torch.cuda.is_available()
                else f'CPU: {platform.processor() or platform.machine()}'),
        threads=torch.get_num_threads(), torch=torch.__version__))
    if 'step' in args.sections:
        options = (args.channels_last, args.amp, args.bank_size)
        steps = 2 if quick else 10
        results['step'] = [
            bench_step(18, 32, args.r18_batch, steps, *options),
            bench_step(50, 64 if quick else 224, args.r50_batch, steps,
                       *options)
        ]
    if 'lookup' in args.sections:
        results['lookup'] = bench_lookup(
            [256] if quick else [256, 4096],
            [4096] if quick else [4096, 65536, 98304, 1048576],
            rounds=args.rounds or (1 if quick else 5))
    if 'knn' in args.sections:
        if quick:
            size = dict(bank_size=4096, dim=64, num_queries=64, batch=32)
        elif gpu:  # ImageNet: the training set votes for the validation set
            size = dict(bank_size=1281167, dim=2048, num_queries=10000,
                        batch=256)
        else:
            size = dict(bank_size=65536, dim=2048, num_queries=512,
                        batch=256)
        results['knn'] = bench_knn(
            **size, dtype=torch.float16 if gpu else torch.float32,
            chunks=[DEFAULT_CHUNK_ELEMS] + ([32 * DEFAULT_CHUNK_ELEMS]
                                            if gpu else []))
    if 'loader' in args.sections:
        workers = args.workers or list(
            range(1, (1 if quick else multiprocessing.cpu_count()) + 1))
        results['loader'] = bench_loader(8 if quick else 64, workers)
    if 'device-aug' in args.sections:
        results['device-aug'] = bench_device_aug(
            4 if quick else 256 if gpu else 32, 1 if quick else 5)
    if 'lightly' in args.sections:
        results['lightly'] = bench_lightly(8 if quick else 256,
                                           2 if quick else 10)
    if 'e2e' in args.sections:
        results['e2e'] = bench_e2e(3 if quick else 12, 16 if quick else 256)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    for section, rows in results.items():
        print(f'\n== {section}')
        for row in rows if isinstance(rows, list) else [rows]:
            print('  ' + '  '.join(f'{k}={v}' for k, v in row.items()))
    print(f'\nwrote {args.out}')
    return results

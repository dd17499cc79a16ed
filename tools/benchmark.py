"""Measure NNCLR's cost against mmpretrain's SimCLR and the hardware.

    python tools/benchmark.py [--sections step lookup data e2e] [--quick]
        [--channels-last] [--amp] [--bank-size N] [--r50-batch N]
        [--out benchmark.json]

step:   a training step of NNCLR vs SimCLR, same ResNet, interleaved in one
        process (who goes first alternates), median of several steps; the
        ratio is NNCLR / SimCLR. ResNet-50 runs at 224 px with batch 256 on
        a GPU (if that does not fit in fp32: --amp or --r50-batch), 8 on
        the CPU.
lookup: support-set search in fp32, chunked (the plugin's) vs dense, time
        (median over rounds that alternate the two, each a
        torch.utils.benchmark median) and peak extra memory (growth of the
        peak RSS of a fresh process on the CPU, max allocated on a GPU).
data:   two-view augmentation throughput (images/s) of the quickstart's
        SimCLR pipeline and of BYOL's 224 px pipeline, pillow vs cv2.
e2e:    quickstart training samples/s, data loading included.
Nothing here is asserted: numbers are recorded (docs/benchmarks.md), not
tested.
"""
import argparse
import json
import multiprocessing
import os.path as osp
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils import benchmark as torch_benchmark

import nnclr_mm  # noqa: F401
from nnclr_mm.utils import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(ROOT, 'configs', 'nnclr',
                      'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py')
MODEL_BASES = osp.join(ROOT, 'configs', '_base_', 'models')


def device() -> torch.device:
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')


# -- step ------------------------------------------------------------------
def models_for(depth: int, channels_last: bool, amp: bool, bank_size: int):
    """The shipped NNCLR and SimCLR ResNet-18 models (configs/_base_/models),
    at ``depth``: one backbone and one 3-layer projection for both, so only
    NNCLR's additions (predictor, search, enqueue) differ."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
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
    with DefaultScope.overwrite_default_scope('mmpretrain'):
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
    times = {name: [] for name in built}
    names = list(built)
    for step in range(steps + 1):  # the first step of each is warm-up
        # Alternate who goes first: the position in a pair shifts timings.
        for name in names if step % 2 else names[::-1]:
            model, optim = built[name]
            if device().type == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.train_step(data, optim)
            if device().type == 'cuda':
                torch.cuda.synchronize()
            if step:
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    return dict(
        backbone=f'ResNet-{depth}', size=size, batch=batch, steps=steps,
        bank=bank_size, channels_last=channels_last, amp=amp,
        nnclr_s=round(medians['nnclr'], 4),
        simclr_s=round(medians['simclr'], 4),
        ratio=round(medians['nnclr'] / medians['simclr'], 3),
        images_per_s=round(2 * batch / medians['nnclr'], 1))


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


def _status_kb(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def bench_lookup(batches, bank_sizes, dense_limit_gb, rounds):
    rows = []
    ctx = multiprocessing.get_context('spawn')
    for batch in batches:
        for bank_size in bank_sizes:
            row = dict(batch=batch, bank=bank_size)
            modes = ['chunked', 'dense']
            if batch * bank_size * 4 > dense_limit_gb * 2**30:
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
                with ctx.Pool(1) as pool:  # fresh process: clean peak
                    row[f'{mode}_peak_mb'] = round(
                        pool.apply(_peak_extra_mb,
                                   (batch, bank_size, mode)), 1)
            if row['dense_ms']:
                row['chunked_over_dense'] = round(
                    row['chunked_ms'] / row['dense_ms'], 3)
            rows.append(row)
    return rows


# -- data ------------------------------------------------------------------
def bench_pipeline(pipeline, images, repeats):
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        transform = Compose(pipeline)
    np.random.seed(0)
    start = time.perf_counter()
    for _ in range(repeats):
        for img in images:
            transform(dict(img=img.copy()))
    return len(images) * repeats / (time.perf_counter() - start)


def bench_data(repeats):
    from mmengine.config import Config
    cfg = Config.fromfile(QUICKSTART)
    rng = np.random.RandomState(0)
    small = [rng.randint(0, 256, (28, 28, 3), np.uint8) for _ in range(64)]
    large = [rng.randint(0, 256, (375, 500, 3), np.uint8) for _ in range(8)]
    # The paper config inherits BYOL's pipeline from mmpretrain.
    byol = Config.fromfile(osp.join(ROOT, 'configs', 'nnclr_r50.py'))
    rows = [dict(pipeline='quickstart SimCLR, 28 -> 32 px, pillow',
                 images_per_s_per_core=round(
                     bench_pipeline(cfg.train_pipeline, small, repeats), 1))]
    for backend in ('pillow', 'cv2'):
        pipeline = byol.train_pipeline[1:]  # decoded images, no file I/O
        for views in pipeline[0]['transforms']:
            for t in views:
                if 'backend' in t or t['type'] in ('RandomResizedCrop', ):
                    t['backend'] = backend
                for inner in t.get('transforms', []):
                    inner['backend'] = backend
        rows.append(dict(
            pipeline=f'BYOL two views, 500x375 -> 224 px, {backend}',
            images_per_s_per_core=round(
                bench_pipeline(pipeline, large, max(1, repeats // 4)), 1)))
    return rows


# -- e2e -------------------------------------------------------------------
def bench_e2e(iters, batch):
    import tempfile

    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(QUICKSTART)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sections', nargs='+',
                        default=['step', 'lookup', 'data', 'e2e'],
                        choices=['step', 'lookup', 'data', 'e2e'])
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes, to check that it runs')
    parser.add_argument('--channels-last', action='store_true',
                        help='NHWC backbones in the step section')
    parser.add_argument('--amp', action='store_true',
                        help='training steps under fp16 autocast (GPU)')
    parser.add_argument('--bank-size', type=int, default=4096,
                        help='support-set size in the step section '
                        '(the quickstart\'s; the paper uses 98304)')
    parser.add_argument('--r50-batch', type=int,
                        help='images per view of the ResNet-50 step; '
                        'defaults to 256 on a GPU, 8 on the CPU')
    parser.add_argument('--out', default='benchmark.json')
    args = parser.parse_args()
    if args.amp and device().type != 'cuda':
        parser.error('--amp needs a CUDA GPU: mmengine\'s AmpOptimWrapper '
                     'refuses the CPU')
    quick = args.quick
    gpu = device().type == 'cuda'
    r18_batch = 8 if quick else 256
    r50_batch = args.r50_batch or (2 if quick else 256 if gpu else 8)
    if args.bank_size < max(r18_batch, r50_batch):
        parser.error(f'--bank-size ({args.bank_size}) must hold one view\'s '
                     f'batch ({max(r18_batch, r50_batch)})')
    results = dict(machine=dict(
        device=(torch.cuda.get_device_name() if torch.cuda.is_available()
                else f'CPU: {platform.processor() or platform.machine()}'),
        threads=torch.get_num_threads(), torch=torch.__version__))
    if 'step' in args.sections:
        options = (args.channels_last, args.amp, args.bank_size)
        steps = 2 if quick else 10
        results['step'] = [
            bench_step(18, 32, r18_batch, steps, *options),
            bench_step(50, 64 if quick else 224, r50_batch, steps,
                       *options)
        ]
    if 'lookup' in args.sections:
        results['lookup'] = bench_lookup(
            [256] if quick else [256, 4096],
            [4096] if quick else [4096, 65536, 98304, 1048576],
            dense_limit_gb=32 if gpu else 8, rounds=1 if quick else 5)
    if 'data' in args.sections:
        results['data'] = bench_data(1 if quick else 8)
    if 'e2e' in args.sections:
        results['e2e'] = bench_e2e(3 if quick else 12, 16 if quick else 256)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    for section, rows in results.items():
        print(f'\n== {section}')
        for row in rows if isinstance(rows, list) else [rows]:
            print('  ' + '  '.join(f'{k}={v}' for k, v in row.items()))
    print(f'\nwrote {args.out}')


if __name__ == '__main__':
    main()

"""Helpers shared by the tests: paths, small configs, running the tools."""
import copy
import glob
import math
import os
import os.path as osp
import socket
import subprocess
import sys

import torch
from mmengine.config import Config

# -- paths ------------------------------------------------------------------
#: The repository root.
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Configs that tests name, relative to ROOT.
QUICKSTART = 'configs/nnclr/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'
LONGER = 'configs/nnclr/nnclr_resnet18_1xb256-coslr-30e_fashion-mnist.py'
PAPER = 'configs/nnclr_r50.py'
PAPER_FULL_NAME = ('configs/nnclr/'
                   'nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py')
LIGHTLY = 'configs/nnclr/nnclr_resnet18_1xb256-sgd-10e_cifar10-lightly.py'
SIMCLR = 'configs/simclr/simclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'
KNN_FMNIST = ('configs/nnclr/benchmarks/'
              'resnet18_knn-k200-t0.07_fashion-mnist.py')
KNN_IN1K = 'configs/nnclr/benchmarks/resnet50_knn-k200-t0.07_in1k.py'
LINEAR_FMNIST = ('configs/nnclr/benchmarks/'
                 'resnet18_linear-probe-1xb256-coslr-10e_fashion-mnist.py')
LINEAR_IN1K = ('configs/nnclr/benchmarks/'
               'resnet50_8xb512-linear-coslr-90e_in1k.py')
RETRIEVAL_FMNIST = ('configs/nnclr/benchmarks/'
                    'resnet18_retrieval_fashion-mnist.py')
RETRIEVAL_IN1K = 'configs/nnclr/benchmarks/resnet50_retrieval_in1k.py'

#: Every config a user can train or test with: all but the ``_base_`` parts.
SHIPPED = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
#: The other methods' Fashion-MNIST configs (configs/<method>/ beside
#: configs/nnclr/), the quickstart's data and budget.
COMPARE = [
    c for c in SHIPPED if c.count('/') == 2
    and not c.startswith('configs/nnclr/') and c.endswith('fashion-mnist.py')
]
NNBYOL = 'configs/nnbyol/nnbyol_resnet18_1xb256-coslr-5e_fashion-mnist.py'
NNSIAM = 'configs/nnsiam/nnsiam_resnet18_1xb256-coslr-5e_fashion-mnist.py'
#: The nearest-neighbour variants' ImageNet recipes, on mmpretrain's.
NN_VARIANTS_IN1K = [
    'configs/nnbyol/nnbyol_resnet50_16xb256-coslr-200e_in1k.py',
    'configs/nnsiam/nnsiam_resnet50_8xb32-coslr-100e_in1k.py',
]
#: The quickstart with its photometric augmentations on the device
#: (DeviceAugDataPreprocessor).
DEVICE_AUG = ('configs/nnclr/'
              'nnclr_resnet18_1xb256-coslr-5e_device-aug_fashion-mnist.py')
#: The ImageNet recipes with device augmentation, each with the recipe it
#: changes.
DEVICE_AUG_IN1K = {
    'configs/nnclr/nnclr_resnet50_8xb512-lars-coslr-1000e_device-aug_in1k.py':
    PAPER,
    'configs/nnbyol/nnbyol_resnet50_16xb256-coslr-200e_device-aug_in1k.py':
    NN_VARIANTS_IN1K[0],
    'configs/nnsiam/nnsiam_resnet50_8xb32-coslr-100e_device-aug_in1k.py':
    NN_VARIANTS_IN1K[1],
}


# -- devices ----------------------------------------------------------------
#: The autocast dtype of ``--amp`` on each device: CUDA's float16, and the
#: CPU's only one, bfloat16.
AUTOCAST_DTYPE = {'cpu': torch.bfloat16, 'cuda': torch.float16}


def autocast(device):
    """``--amp``'s autocast on ``device``."""
    return torch.autocast(device.type, dtype=AUTOCAST_DTYPE[device.type])


# -- models -----------------------------------------------------------------
def tiny_nnclr_cfg(bank_size: int = 64, feat_dim: int = 32,
                   loss: dict = None) -> dict:
    """A ResNet-18 NNCLR small enough for CPU unit tests."""
    return dict(
        type='NNCLR',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(
            type='NNCLRNeck',
            in_channels=512,
            hid_channels=64,
            out_channels=feat_dim),
        head=dict(
            type='NNCLRHead',
            predictor=dict(in_channels=feat_dim, hid_channels=64),
            loss=loss or dict(type='NNCLRLoss', temperature=0.1)),
        memory_bank=dict(
            type='NNMemoryBank', size=bank_size, feat_dim=feat_dim))


def tiny_nn_variant_cfg(method: str, bank_size: int = 64,
                        feat_dim: int = 32) -> dict:
    """A ResNet-18 NNBYOL or NNSiam small enough for CPU unit tests, with
    its parent's neck and head shapes (BYOL: 2-layer projection; SimSiam:
    3-layer projection, bottleneck predictor)."""
    mlp = dict(type='NonLinearNeck', hid_channels=64, with_last_bn=False,
               with_avg_pool=False, norm_cfg=dict(type='BN1d'))
    neck = dict(mlp, in_channels=512, out_channels=feat_dim,
                with_avg_pool=True)
    predictor = dict(mlp, in_channels=feat_dim, out_channels=feat_dim)
    if method == 'NNBYOL':
        neck.update(with_bias=True)
        predictor.update(with_bias=True)
    else:
        neck.update(num_layers=3, with_last_bn=True,
                    with_last_bn_affine=False)
        predictor.update(hid_channels=16, with_last_bias=True)
    return dict(
        type=method,
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=neck,
        head=dict(type='LatentPredictHead', predictor=predictor,
                  loss=dict(type='CosineSimilarityLoss')),
        memory_bank=dict(
            type='NNMemoryBank', size=bank_size, feat_dim=feat_dim))


# -- configs ----------------------------------------------------------------
#: Every dataloader a config may define.
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader',
           'val_cfg.bank_dataloader', 'test_cfg.bank_dataloader')
#: Overrides that turn validation off, as ``tools/train.py --no-validate``.
NO_VALIDATION = dict(val_cfg=None, val_dataloader=None, val_evaluator=None)


def load_config(config, **overrides) -> Config:
    """``config`` (relative to ``ROOT``) with ``overrides`` merged in as a
    config inheriting it would merge them: dicts key by key (a dict with
    ``_delete_=True`` replaces its base), anything else replaced."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    if overrides:
        cfg.merge_from_dict(copy.deepcopy(overrides))
    return cfg


def shrink_overrides(cfg, data_root=None, batch_size=4, epochs=1) -> dict:
    """The dotted overrides that shrink ``cfg``: every loader it defines
    reads ``data_root`` in batches of ``batch_size`` with no workers,
    training lasts ``epochs``, and the support set's warm-up as many
    batches as in ``cfg``; a ``None`` keeps the config's own."""
    overrides = {}
    for loader in LOADERS:
        section, _, sub = loader.partition('.')
        if not (cfg.get(section) and (not sub or cfg[section].get(sub))):
            continue
        if data_root is not None:
            overrides[f'{loader}.dataset.data_root'] = str(data_root)
        if batch_size is not None:
            overrides[f'{loader}.batch_size'] = batch_size
        overrides[f'{loader}.num_workers'] = 0
        overrides[f'{loader}.persistent_workers'] = False
    if epochs is not None and cfg.get('train_cfg'):
        overrides['train_cfg.max_epochs'] = epochs
    if batch_size is not None:
        # The support set's warm-up lasts as many batches as the recipe's.
        for i, hook in enumerate(cfg.get('custom_hooks', [])):
            if hook.type == 'NNMemoryBankHook' and hook.get('warmup'):
                overrides[f'custom_hooks.{i}.warmup'] = math.ceil(
                    hook.warmup * batch_size /
                    cfg.train_dataloader.batch_size)
    return overrides


def tiny_options(config, data_root=None, batch_size=4, epochs=1):
    """:func:`shrink_overrides` of ``config`` as ``--cfg-options``: the only
    overrides a test of a shipped config makes."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    return [
        f'{key}={value}' for key, value in shrink_overrides(
            cfg, data_root, batch_size, epochs).items()
    ]


def serial_options(config):
    """``--cfg-options`` that run every loader of ``config`` in the tool's
    own process (no workers), changing nothing else."""
    return tiny_options(config, batch_size=None, epochs=None)


def tiny_config(config, data_root=None, batch_size=4, epochs=1,
                **overrides) -> Config:
    """``config`` shrunk as :func:`tiny_options` shrinks it, then with
    ``overrides`` merged in as :func:`load_config` merges them."""
    cfg = load_config(config)
    cfg.merge_from_dict(shrink_overrides(cfg, data_root, batch_size, epochs))
    cfg.merge_from_dict(copy.deepcopy(overrides))
    return cfg


def write_config(cfg: Config, path) -> str:
    """Write ``cfg`` to the Python config file ``path`` for a tool run in
    another process; returns the path."""
    path = str(path)
    cfg.dump(path)
    return path


# -- the guide --------------------------------------------------------------
def guide_code(page, starts=''):
    """The Python blocks of ``docs/<page>`` that start with ``starts``, in
    the order the page shows them."""
    import re
    with open(osp.join(ROOT, 'docs', page)) as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    return [b for b in blocks if b.startswith(starts)]


# -- training states --------------------------------------------------------
def assert_identical(straight, resumed):
    """Two checkpoints at one iteration hold the same training state."""
    assert straight['meta']['iter'] == resumed['meta']['iter']
    # Weights, BN statistics, and the support set: bank, pointer, fill
    # count and labels.
    state = straight['state_dict']
    assert state.keys() == resumed['state_dict'].keys()
    assert 'memory_bank.bank' in state and 'memory_bank.ptr' in state
    for name, value in state.items():
        assert torch.equal(value, resumed['state_dict'][name]), name
    # Optimizer (SGD momentum) and LR schedule.
    buffers = straight['optimizer']['state']
    for idx, slot in buffers.items():
        assert torch.equal(
            slot['momentum_buffer'],
            resumed['optimizer']['state'][idx]['momentum_buffer']), idx
    assert straight['param_schedulers'] == resumed['param_schedulers']
    assert straight['optimizer']['param_groups'][0]['lr'] == \
        resumed['optimizer']['param_groups'][0]['lr']


# -- files ------------------------------------------------------------------
def flip_a_bit(checkpoint, member='data/0', at=64):
    """Flip one bit of a tensor's bytes in a torch checkpoint file, in
    place: same size, still a readable zip, only the recorded CRC-32 of
    that member tells."""
    import struct
    import zipfile
    with zipfile.ZipFile(checkpoint) as archive:
        info = next(i for i in archive.infolist()
                    if i.filename.endswith('/' + member))
    with open(checkpoint, 'r+b') as f:
        f.seek(info.header_offset + 26)
        name, extra = struct.unpack('<HH', f.read(4))
        f.seek(info.header_offset + 30 + name + extra + at)
        byte = f.read(1)[0]
        f.seek(-1, 1)
        f.write(bytes([byte ^ 1]))


# -- processes --------------------------------------------------------------
def free_port() -> int:
    """A TCP port free on this machine, for a process group's rendezvous."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# -- tools ------------------------------------------------------------------
def tool_command(tool, *args):
    """The command line of ``tools/<tool> args``: a shell script run by
    bash, a Python script by this interpreter."""
    program = 'bash' if tool.endswith('.sh') else sys.executable
    return [program, osp.join(ROOT, 'tools', tool), *map(str, args)]


def run_tool_subprocess(tool, *args, env=None):
    """Run ``tools/<tool> args`` in a new process from the repository root,
    with ``env`` added to this process's environment; returns the
    completed process with its output as text."""
    return subprocess.run(tool_command(tool, *args), cwd=ROOT,
                          env=dict(os.environ, **(env or {})),
                          capture_output=True, text=True)

"""Fixes for the OpenMMLab 2.0 releases on today's Python stack.

mmengine 0.10, mmcv 2.2 and mmpretrain 1.2 are no longer maintained and
break on setuptools >= 81, numpy 2 and torch >= 2.6 in known ways, and
mmengine's runner mishandles configs inherited from ``mmpretrain::`` bases.
Each fix below replaces one function with a correct one; none disables a
check.
:func:`apply_all` is called once when ``nnclr_mm`` is imported.
"""
import importlib.metadata
import importlib.util
import os.path as osp
import sys
from typing import Callable, Iterable, Optional

import numpy as np

_PACKAGE_UTILS_USERS = ('mmengine.utils.package_utils', 'mmengine.utils',
                        'mmengine.config.config', 'mmengine.hub.hub')


def _replace(modules: Iterable[str], name: str, fn: Callable) -> None:
    """Rebind ``name`` to ``fn`` in every loaded module that imported it."""
    for module_name in modules:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, name):
            setattr(module, name, fn)


# ---------------------------------------------------------------------------
# 1. mmengine's package helpers import ``pkg_resources``, which setuptools 81
#    removed, so ``_base_ = 'mmpretrain::...'`` configs fail to load.
# ---------------------------------------------------------------------------
def is_installed(package: str) -> bool:
    """Whether ``package`` is installed (``importlib.metadata`` version of
    :func:`mmengine.utils.is_installed`).

    Args:
        package (str): Distribution or module name.
    """
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def package2module(package: str) -> str:
    """Module name of an installed distribution, from its ``top_level.txt``.

    Args:
        package (str): Distribution name, e.g. ``'mmcv-lite'``.
    """
    top_level = importlib.metadata.distribution(package).read_text(
        'top_level.txt')
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return top_level.split('\n')[0]


def get_installed_path(package: str) -> str:
    """Directory of an installed package (``importlib.metadata`` version of
    :func:`mmengine.utils.get_installed_path`).

    Args:
        package (str): Distribution or module name.
    """
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as error:
        # Not installed, but possibly importable through PYTHONPATH.
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise
        if spec.origin is None:
            raise RuntimeError(
                f'{package} is a namespace package, which is invalid '
                'for `get_install_path`') from error
        return osp.dirname(spec.origin)
    location = str(dist.locate_file(''))
    possible_path = osp.join(location, package)
    if osp.exists(possible_path):
        return possible_path
    return osp.join(location, package2module(package))


def fix_package_utils() -> None:
    """Use :mod:`importlib.metadata` instead of ``pkg_resources``."""
    import mmengine.config.config  # noqa: F401
    import mmengine.hub.hub  # noqa: F401
    import mmengine.utils.package_utils  # noqa: F401
    for fn in (is_installed, get_installed_path, package2module):
        _replace(_PACKAGE_UTILS_USERS, fn.__name__, fn)


# ---------------------------------------------------------------------------
# 2. ``mmcv.adjust_hue`` computes ``np.uint8(hue_factor * 255)``, which raises
#    OverflowError under numpy 2 for a negative factor, so SimCLR-style
#    ``ColorJitter(hue=...)`` crashes the data pipeline.
# ---------------------------------------------------------------------------
def hue_shift(hue_factor: float) -> np.uint8:
    """The uint8 hue shift for ``hue_factor``, wrapped modulo 256.

    This is the value numpy 1 produced for ``np.uint8(hue_factor * 255)``
    (truncation toward zero, then two's-complement wrap-around).

    Args:
        hue_factor (float): Shift in [-0.5, 0.5].
    """
    return np.uint8(int(hue_factor * 255) % 256)


def adjust_hue(img: np.ndarray,
               hue_factor: float,
               backend: Optional[str] = None) -> np.ndarray:
    """:func:`mmcv.adjust_hue` with a hue shift that is valid under numpy 2.

    Args:
        img (ndarray): Image to be adjusted, HxW or HxWx3 in BGR order.
        hue_factor (float): How much to shift the hue channel, in
            [-0.5, 0.5].
        backend (str, optional): ``'cv2'`` or ``'pillow'``. Defaults to None,
            which uses mmcv's global ``imread_backend``.

    Returns:
        ndarray: Hue adjusted image.
    """
    import cv2
    from mmcv.image import photometric
    from PIL import Image

    if backend is None:
        backend = photometric.imread_backend
    if backend not in ['cv2', 'pillow']:
        raise ValueError(f'backend: {backend} is not supported.'
                         f"Supported backends are 'cv2', 'pillow'")
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and (img.ndim in {2, 3})):
        raise TypeError('img should be ndarray with dim=[2 or 3].')

    shift = hue_shift(hue_factor)
    if backend == 'pillow':
        if img.dtype != np.uint8:
            raise TypeError('Pillow backend only support uint8 type, got '
                            f'{img.dtype}')
        pil_image = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil_image.convert('HSV').split()
        np_h = np.array(h, dtype=np.uint8)
        # uint8 addition wraps around the hue circle.
        np_h += shift
        h = Image.fromarray(np_h, 'L')
        pil_image = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.array(pil_image, dtype=img.dtype)[..., ::-1]
    dtype = img.dtype
    hsv_img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    h, s, v = cv2.split(hsv_img)
    h = h.astype(np.uint8) + shift
    hsv_img = cv2.merge([h, s, v])
    return cv2.cvtColor(hsv_img, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def fix_adjust_hue() -> None:
    """Replace ``mmcv.adjust_hue`` everywhere it is looked up."""
    import mmcv
    import mmcv.image
    import mmcv.image.photometric  # noqa: F401
    del mmcv  # imported only so that the modules below are loaded
    _replace(('mmcv', 'mmcv.image', 'mmcv.image.photometric'), 'adjust_hue',
             adjust_hue)


# ---------------------------------------------------------------------------
# 3. torch >= 2.6 loads with ``weights_only=True``, and mmengine's resume then
#    fails on the ``HistoryBuffer`` and numpy objects of the message hub. We
#    allow-list exactly those types, so loading still never runs code.
# ---------------------------------------------------------------------------
_HISTORY_BUFFER_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_getattr(obj: type, name: str) -> Callable:
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Registered under the name
    ``builtins.getattr`` for ``weights_only`` loading, this resolves exactly
    those references and refuses any other attribute of any other object.

    Args:
        obj (type): Must be :class:`mmengine.logging.HistoryBuffer`.
        name (str): A statistics method registered on it.
    """
    import pickle

    from mmengine.logging import HistoryBuffer

    # The defaults are registered lazily by HistoryBuffer.__init__, so a
    # fresh process may not have them in _statistics_methods yet.
    allowed = {*_HISTORY_BUFFER_DEFAULT_STATISTICS,
               *HistoryBuffer._statistics_methods}
    if obj is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint:'
            ' only HistoryBuffer statistics methods are allowed')
    return getattr(obj, name)


def checkpoint_safe_globals() -> list:
    """The globals an mmengine checkpoint needs beyond torch's defaults.

    Each entry is an object or an ``(object, 'dotted.name')`` pair, the form
    :func:`torch.serialization.add_safe_globals` takes. numpy types are
    listed under their numpy 1 and numpy 2 module paths, so checkpoints
    written under either load.
    """
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1
        from numpy.core import multiarray
    safe = [HistoryBuffer, np.ndarray, np.dtype,
            (history_buffer_getattr, 'builtins.getattr')]
    for core in ('numpy.core', 'numpy._core'):
        safe += [(multiarray._reconstruct, f'{core}.multiarray._reconstruct'),
                 (multiarray.scalar, f'{core}.multiarray.scalar')]
    # numpy >= 1.25 pickles dtypes through their classes in numpy.dtypes.
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes)
             if name.endswith('DType') and name not in ('ObjectDType',
                                                        'VoidDType')]
    return safe


def load_from_local(filename: str, map_location=None):
    """mmengine's local checkpoint loader, with ``weights_only=True`` said
    explicitly and a refusal that names the file.

    torch's own message suggests loading with ``weights_only=False``; a
    checkpoint written by mmengine never needs that, and one that does
    holds objects that could run code when loaded.

    Args:
        filename (str): Local checkpoint path.
        map_location (optional): Same as :func:`torch.load`.
    """
    import pickle

    import torch
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message is long; keep the line that names the global.
        reason = next((line.strip() for line in str(error).splitlines()
                       if 'GLOBAL' in line), 'unsupported content')
        raise pickle.UnpicklingError(
            f'refusing to load checkpoint {filename}: it holds objects '
            f'outside the allow-list of safe types ({reason}). Checkpoints '
            'written by mmengine never do; loading this one could run '
            'arbitrary code.') from None


def allow_checkpoint_types() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``weights_only`` and
    load local checkpoints through :func:`load_from_local`."""
    import torch.serialization
    from mmengine.runner.checkpoint import CheckpointLoader
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


# ---------------------------------------------------------------------------
# 4. Distributed training without GPUs: mmengine's ``init_dist`` selects a
#    CUDA device and keeps ``backend='nccl'``, its DDP wrapper passes
#    ``device_ids`` for a CPU module, and torch's SyncBatchNorm has no CPU
#    kernel (DDP refuses it in a CPU module). Each fix changes only the CPU
#    path; with CUDA nothing changes.
# ---------------------------------------------------------------------------
def _cpu_init_dist(init_dist: Callable) -> Callable:
    """Wrap mmengine's ``init_dist`` for machines without CUDA."""
    import functools

    import torch
    from mmengine.logging import print_log

    @functools.wraps(init_dist)
    def wrapper(launcher, backend='nccl', init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return init_dist(launcher, backend, init_backend, **kwargs)
        if backend == 'nccl':
            print_log('no CUDA device: using the gloo backend instead of '
                      'nccl', logger='current')
            backend = 'gloo'
        # mmengine calls torch.cuda.set_device(local_rank) unconditionally;
        # without CUDA the process simply stays on the CPU.
        set_device = torch.cuda.set_device
        torch.cuda.set_device = lambda device: None
        try:
            return init_dist(launcher, backend, init_backend, **kwargs)
        finally:
            torch.cuda.set_device = set_device

    wrapper.__wrapped_by_nnclr_mm__ = True
    return wrapper


def _cpu_ddp_init(ddp_init: Callable) -> Callable:
    """For a module on the CPU: no ``device_ids``, and SyncBN layers that
    run on the CPU (torch's own DDP refuses SyncBatchNorm there)."""
    import functools

    from .models.utils.sync_bn import convert_sync_batchnorm_for_cpu

    @functools.wraps(ddp_init)
    def wrapper(self, module, *args, **kwargs):
        params = list(module.parameters())
        if params and params[0].device.type == 'cpu':
            kwargs['device_ids'] = None
            kwargs['output_device'] = None
            module = convert_sync_batchnorm_for_cpu(module)
        return ddp_init(self, module, *args, **kwargs)

    wrapper.__wrapped_by_nnclr_mm__ = True
    return wrapper


def fix_cpu_distributed() -> None:
    """Let mmengine's runner train with DDP and SyncBN on CPUs (gloo)."""
    import mmengine.dist
    import mmengine.dist.utils
    import mmengine.runner.runner
    from mmengine.model import MMDistributedDataParallel

    if not hasattr(mmengine.dist.init_dist, '__wrapped_by_nnclr_mm__'):
        init_dist = _cpu_init_dist(mmengine.dist.utils.init_dist)
        _replace(('mmengine.dist', 'mmengine.dist.utils',
                  'mmengine.runner.runner'), 'init_dist', init_dist)
    if not hasattr(MMDistributedDataParallel.__init__,
                   '__wrapped_by_nnclr_mm__'):
        MMDistributedDataParallel.__init__ = _cpu_ddp_init(
            MMDistributedDataParallel.__init__)


# ---------------------------------------------------------------------------
# 5. mmengine tags every dict a config inherits from a ``mmpretrain::`` base
#    with ``_scope_='mmpretrain'``, and ``Runner.build_dataloader`` passes all
#    keys of ``collate_fn`` but ``type`` to the function:
#    ``default_collate() got an unexpected keyword argument '_scope_'``.
# ---------------------------------------------------------------------------
def _scoped_collate_fn(build_dataloader: Callable) -> Callable:
    """Wrap ``Runner.build_dataloader`` so that a ``collate_fn`` with a
    ``_scope_`` key is resolved in that scope, as ``build_from_cfg`` resolves
    ``_scope_`` of any other component, instead of receiving it."""
    import copy
    import functools

    from mmengine.registry import FUNCTIONS

    @functools.wraps(build_dataloader)
    def wrapper(dataloader, *args, **kwargs):
        collate_fn = (dataloader.get('collate_fn')
                      if isinstance(dataloader, dict) else None)
        if isinstance(collate_fn, dict) and '_scope_' in collate_fn:
            dataloader = copy.copy(dataloader)
            collate_fn = dict(collate_fn)
            scope = collate_fn.pop('_scope_')
            if isinstance(collate_fn.get('type'), str):
                with FUNCTIONS.switch_scope_and_registry(scope) as registry:
                    function = registry.get(collate_fn['type'])
                if function is None:
                    raise KeyError(
                        f'collate_fn type {collate_fn["type"]!r} is not in '
                        f'the {scope}::function registry')
                collate_fn['type'] = function
            dataloader['collate_fn'] = collate_fn
        return build_dataloader(dataloader, *args, **kwargs)

    wrapper.__wrapped_by_nnclr_mm__ = True
    return wrapper


def fix_collate_fn_scope() -> None:
    """Let dataloaders inherited from ``mmpretrain::`` bases build."""
    from mmengine.runner import FlexibleRunner, Runner

    for runner in (Runner, FlexibleRunner):
        build = runner.__dict__['build_dataloader'].__func__
        if not hasattr(build, '__wrapped_by_nnclr_mm__'):
            runner.build_dataloader = staticmethod(_scoped_collate_fn(build))


def apply_all() -> None:
    """Apply every fix in this module. Safe to call more than once."""
    fix_package_utils()
    fix_adjust_hue()
    allow_checkpoint_types()
    fix_cpu_distributed()
    fix_collate_fn_scope()

"""Distributed training with mmengine's runner on machines without CUDA.

mmengine <= 0.10.7 cannot train with DDP on CPUs: its ``init_dist`` keeps
``backend='nccl'`` and calls ``torch.cuda.set_device`` unconditionally, its
``MMDistributedDataParallel`` passes ``device_ids`` for a CPU module, and
torch's SyncBatchNorm has no CPU kernel (DDP refuses it in a CPU module).
The fix makes ``init_dist`` use gloo without selecting a device, and DDP
wrap CPU modules without ``device_ids`` and with
:class:`~nnclr_mm.models.utils.sync_bn.CPUSyncBatchNorm` layers. It is
applied only where CUDA is not available; with CUDA nothing changes.
"""
import functools
from typing import Callable

import torch

from ._patching import is_wrapper, mark_wrapper, rebind


def needed() -> bool:
    """Whether this process has no CUDA device, so trains on the CPU."""
    return not torch.cuda.is_available()


def _cpu_init_dist(init_dist: Callable) -> Callable:
    """Wrap mmengine's ``init_dist`` for machines without CUDA."""
    from mmengine.logging import print_log

    @functools.wraps(init_dist)
    def wrapper(launcher, backend='nccl', init_backend='torch', **kwargs):
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

    return mark_wrapper(wrapper)


def _cpu_ddp_init(ddp_init: Callable) -> Callable:
    """For a module on the CPU: no ``device_ids``, and SyncBN layers that
    run on the CPU (torch's own DDP refuses SyncBatchNorm there)."""
    from ..models.utils.sync_bn import convert_sync_batchnorm_for_cpu

    @functools.wraps(ddp_init)
    def wrapper(self, module, *args, **kwargs):
        params = list(module.parameters())
        if params and params[0].device.type == 'cpu':
            kwargs['device_ids'] = None
            kwargs['output_device'] = None
            module = convert_sync_batchnorm_for_cpu(module)
        return ddp_init(self, module, *args, **kwargs)

    return mark_wrapper(wrapper)


def fix_cpu_distributed() -> None:
    """Let mmengine's runner train with DDP and SyncBN on CPUs (gloo)."""
    import mmengine.dist
    import mmengine.dist.utils
    import mmengine.runner.runner
    from mmengine.model import MMDistributedDataParallel

    if not is_wrapper(mmengine.dist.init_dist):
        init_dist = _cpu_init_dist(mmengine.dist.utils.init_dist)
        rebind(('mmengine.dist', 'mmengine.dist.utils',
                'mmengine.runner.runner'), 'init_dist', init_dist)
    if not is_wrapper(MMDistributedDataParallel.__init__):
        MMDistributedDataParallel.__init__ = _cpu_ddp_init(
            MMDistributedDataParallel.__init__)

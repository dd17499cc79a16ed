"""mmengine's ``AmpOptimWrapper`` on CPU-only machines.

mmengine <= 0.10.7 asserts an accelerator when it builds an
``AmpOptimWrapper``, so ``--amp`` and every recipe that trains in mixed
precision (the ImageNet recipes) stop on a machine without one
(``AmpOptimizerWrapper is only available training on gpu, npu, mlu or
musa``). The fix builds the wrapper there without loss scaling (torch's
CUDA ``GradScaler`` would disable itself on the CPU anyway) and trains in
float32, with a notice: the CPU's only autocast type, bfloat16, is many
times slower than float32 on CPUs without bfloat16 units. With
``dtype='bfloat16'`` it autocasts in bfloat16, whose float32 exponent
range needs no loss scaling. Its checkpoints carry no ``loss_scaler``
entry, as a run without AMP, so a GPU run resumes them with a fresh
scaler. Applied only where no accelerator is available.
"""
import contextlib
import functools
from typing import Callable

import torch

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most

#: The newest mmengine release whose AmpOptimWrapper refuses the CPU.
LAST_BROKEN_MMENGINE = '0.10.7'


def needed() -> bool:
    """Whether mmengine refuses AMP here: a release with the assertion on a
    machine without an accelerator."""
    from mmengine.device import get_device
    return mmengine_at_most(LAST_BROKEN_MMENGINE) and get_device() == 'cpu'


def _disabled_scaler():
    # torch >= 2.3 names the device; older releases have only CUDA's.
    if hasattr(torch.amp, 'GradScaler'):
        return torch.amp.GradScaler('cpu', enabled=False)
    return torch.cuda.amp.GradScaler(enabled=False)


def _cpu_init(init: Callable) -> Callable:
    """Wrap ``AmpOptimWrapper.__init__`` to build a float32 or bfloat16
    wrapper without loss scaling."""
    from mmengine.logging import print_log
    from mmengine.optim import OptimWrapper

    @functools.wraps(init)
    def wrapper(self, loss_scale='dynamic', dtype=None, use_fsdp=False,
                **kwargs) -> None:
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype is {dtype!r}, but this machine has no '
                'GPU and the CPU autocasts in bfloat16 only: set '
                "optim_wrapper.dtype='bfloat16' or leave it unset")
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = _disabled_scaler()
        self.cast_dtype = None if dtype is None else torch.bfloat16
        print_log(
            'AmpOptimWrapper without a GPU: ' +
            ('autocast in bfloat16' if self.cast_dtype else
             "training in float32 (optim_wrapper.dtype='bfloat16' "
             'autocasts in the CPU\'s bfloat16, which most CPUs run slower)')
            + ', no loss scaling', logger='current')

    return mark_wrapper(wrapper)


def _autocast_if_asked(optim_context: Callable) -> Callable:
    """Wrap ``AmpOptimWrapper.optim_context`` to autocast only when a
    dtype was given."""
    from mmengine.optim import OptimWrapper

    @functools.wraps(optim_context)
    @contextlib.contextmanager
    def wrapper(self, model):
        context = (optim_context if self.cast_dtype else
                   OptimWrapper.optim_context)
        with context(self, model):
            yield

    return mark_wrapper(wrapper)


def _without_disabled_scaler(state_dict: Callable) -> Callable:
    """Wrap ``AmpOptimWrapper.state_dict`` to leave out the empty state of
    a disabled scaler, which a GPU's scaler refuses to load."""

    @functools.wraps(state_dict)
    def wrapper(self) -> dict:
        state = state_dict(self)
        if not state.get('loss_scaler', True):
            del state['loss_scaler']
        return state

    return mark_wrapper(wrapper)


def allow_cpu_amp() -> None:
    """Let ``AmpOptimWrapper`` train on the CPU."""
    from mmengine.optim import AmpOptimWrapper

    if not is_wrapper(AmpOptimWrapper.__init__):
        AmpOptimWrapper.__init__ = _cpu_init(AmpOptimWrapper.__init__)
        AmpOptimWrapper.optim_context = _autocast_if_asked(
            AmpOptimWrapper.optim_context)
        AmpOptimWrapper.state_dict = _without_disabled_scaler(
            AmpOptimWrapper.state_dict)

"""Fixes for the OpenMMLab 2.0 releases on today's Python stack.

mmengine 0.10, mmcv 2.2 and mmpretrain 1.2 are no longer maintained and
break on setuptools >= 81, numpy 2 and torch >= 2.6 in known ways;
mmengine's runner mishandles configs inherited from ``mmpretrain::`` bases,
distributed training and mixed precision without CUDA, writes checkpoints
so that a kill can destroy them, restarts the epoch of a mid-epoch
checkpoint, loads checkpoints that do not fit the model silently, and
trains on data too small for one batch. Each module
here fixes one breakage: its ``needed()`` tells whether the installed
upstream is the broken one, and its fix replaces one function with a
correct one; none disables a check. :func:`apply_all` is called once when
``nnclr_mm`` is imported.
"""
from . import (
    atomic_checkpoint,
    checkpoint_fit,
    checkpoint_load,
    collate_scope,
    cpu_amp,
    cpu_distributed,
    mid_epoch_resume,
    mmcv_hue,
    package_utils,
    train_data_size,
)

_FIXES = (
    (package_utils.needed, package_utils.fix_package_utils),
    (mmcv_hue.needed, mmcv_hue.fix_adjust_hue),
    (checkpoint_load.needed, checkpoint_load.allow_checkpoint_types),
    (checkpoint_fit.needed, checkpoint_fit.fit_checkpoints),
    (cpu_distributed.needed, cpu_distributed.fix_cpu_distributed),
    (cpu_amp.needed, cpu_amp.allow_cpu_amp),
    (collate_scope.needed, collate_scope.fix_collate_fn_scope),
    (atomic_checkpoint.needed, atomic_checkpoint.make_checkpoints_atomic),
    (mid_epoch_resume.needed, mid_epoch_resume.resume_mid_epoch),
    (train_data_size.needed, train_data_size.check_train_data_size),
)


def apply_all() -> None:
    """Apply every fix whose breakage the installed upstream has. Safe to
    call more than once."""
    for needed, fix in _FIXES:
        if needed():
            fix()

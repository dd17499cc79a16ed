from .hooks import (
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    ResumeLRHook,
    RNGStateHook,
)
from .work_dir_lock import WorkDirBusyError, WorkDirLock

__all__ = [
    'InvalidLossHook', 'NNMemoryBankHook', 'PreemptionCheckpointHook',
    'ResumeLRHook', 'RNGStateHook', 'WorkDirBusyError', 'WorkDirLock'
]

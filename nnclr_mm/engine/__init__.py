from .hooks import (
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    RNGStateHook,
)
from .work_dir_lock import WorkDirBusyError, WorkDirLock

__all__ = [
    'InvalidLossHook', 'NNMemoryBankHook', 'PreemptionCheckpointHook',
    'RNGStateHook', 'WorkDirBusyError', 'WorkDirLock'
]

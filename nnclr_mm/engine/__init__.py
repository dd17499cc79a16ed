from .hooks import (
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    ResumeLRHook,
    RNGStateHook,
)
from .runners import KNNTestLoop, KNNValLoop
from .work_dir_lock import WorkDirBusyError, WorkDirLock

__all__ = [
    'InvalidLossHook', 'KNNTestLoop', 'KNNValLoop', 'NNMemoryBankHook',
    'PreemptionCheckpointHook', 'ResumeLRHook', 'RNGStateHook',
    'WorkDirBusyError', 'WorkDirLock'
]

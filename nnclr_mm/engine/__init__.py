from .hooks import (
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    RNGStateHook,
)
from .runner import build_runner, runner_with_checkpoint

__all__ = [
    'InvalidLossHook', 'NNMemoryBankHook', 'PreemptionCheckpointHook',
    'RNGStateHook', 'build_runner', 'runner_with_checkpoint'
]

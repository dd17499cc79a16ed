from .hooks import (
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    RNGStateHook,
)

__all__ = [
    'InvalidLossHook', 'NNMemoryBankHook', 'PreemptionCheckpointHook',
    'RNGStateHook'
]

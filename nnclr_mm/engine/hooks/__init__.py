from .invalid_loss_hook import InvalidLossHook
from .nn_memory_bank_hook import NNMemoryBankHook
from .preemption_hook import PreemptionCheckpointHook
from .resume_lr_hook import ResumeLRHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'InvalidLossHook', 'NNMemoryBankHook', 'PreemptionCheckpointHook',
    'ResumeLRHook', 'RNGStateHook'
]

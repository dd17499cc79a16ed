from .nn_memory_bank_hook import NNMemoryBankHook

__all__ = ['NNMemoryBankHook']

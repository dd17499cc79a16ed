from .hooks import NNMemoryBankHook

__all__ = ['NNMemoryBankHook']

from .nn_memory_bank import NNMemoryBank, chunked_topk_cosine

__all__ = ['NNMemoryBank', 'chunked_topk_cosine']

from .nn_memory_bank import (
    DEFAULT_CHUNK_ELEMS,
    NNMemoryBank,
    chunked_topk_cosine,
)

__all__ = ['DEFAULT_CHUNK_ELEMS', 'NNMemoryBank', 'chunked_topk_cosine']

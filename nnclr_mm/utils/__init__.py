from .search import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine

__all__ = ['DEFAULT_CHUNK_ELEMS', 'chunked_topk_cosine']

from .gather import concat_all_gather

__all__ = ['concat_all_gather']

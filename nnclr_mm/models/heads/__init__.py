from .nnclr_head import NNCLRHead

__all__ = ['NNCLRHead']

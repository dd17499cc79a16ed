from .nnclr_neck import NNCLRNeck

__all__ = ['NNCLRNeck']

from .nnclr_loss import NNCLRLoss

__all__ = ['NNCLRLoss']

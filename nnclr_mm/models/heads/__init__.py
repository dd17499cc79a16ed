from .nnclr_head import NNCLRHead, paper_predictor

__all__ = ['NNCLRHead', 'paper_predictor']

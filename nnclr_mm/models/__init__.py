from .algorithms import NNBYOL, NNCLR, NNSiam, SupportSetMixin
from .heads import NNCLRHead
from .losses import NNCLRLoss
from .memories import NNMemoryBank
from .necks import NNCLRNeck

__all__ = [
    'NNBYOL', 'NNCLR', 'NNCLRHead', 'NNCLRLoss', 'NNCLRNeck', 'NNMemoryBank',
    'NNSiam', 'SupportSetMixin'
]

from .algorithms import NNCLR
from .heads import NNCLRHead
from .losses import NNCLRLoss
from .memories import NNMemoryBank
from .necks import NNCLRNeck

__all__ = [
    'NNCLR', 'NNCLRHead', 'NNCLRLoss', 'NNCLRNeck', 'NNMemoryBank'
]

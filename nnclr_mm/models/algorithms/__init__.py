from .nnbyol import NNBYOL
from .nnclr import NNCLR
from .nnsiam import NNSiam
from .support_set import SupportSetMixin

__all__ = ['NNBYOL', 'NNCLR', 'NNSiam', 'SupportSetMixin']

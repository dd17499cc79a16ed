"""NNCLR for the OpenMMLab 2.0 self-supervised ecosystem.

Importing this package registers NNCLR's components into mmpretrain's
registries, applies the fixes in :mod:`nnclr_mm._compat` (each only where
the installed upstream is the broken one) and adds the plugin's configs to
mmpretrain's model index (``list_models``).
"""
import warnings

# mmcv-lite, our mmcv by design, warns on import that it has no compiled
# ops; the plugin uses none of them.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

from ._compat import apply_all  # noqa: E402

apply_all()

from ._model_index import register_model_index  # noqa: E402
from .datasets import OfflineFashionMNIST  # noqa: E402
from .engine import (  # noqa: E402
    InvalidLossHook,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    RNGStateHook,
)
from .evaluation import KNNTestLoop, KNNValLoop  # noqa: E402
from .models import (  # noqa: E402
    NNCLR,
    NNCLRHead,
    NNCLRLoss,
    NNCLRNeck,
    NNMemoryBank,
)
from .version import __version__  # noqa: E402

register_model_index()

__all__ = [
    'InvalidLossHook', 'KNNTestLoop', 'KNNValLoop', 'NNCLR', 'NNCLRHead',
    'NNCLRLoss', 'NNCLRNeck', 'NNMemoryBank', 'NNMemoryBankHook',
    'OfflineFashionMNIST', 'PreemptionCheckpointHook', 'RNGStateHook',
    '__version__'
]

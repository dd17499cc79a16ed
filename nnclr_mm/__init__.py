"""NNCLR for the OpenMMLab 2.0 self-supervised ecosystem.

Importing this package registers NNCLR's components in the ``nnclr_mm``
registry scope and in mmpretrain's registries (:mod:`nnclr_mm.registry`),
applies the fixes in :mod:`nnclr_mm._compat` (each only where the installed
upstream is the broken one), and makes the plugin's configs reachable as
``nnclr_mm::...`` and by name (``list_models``).
"""
import warnings

# mmcv-lite, our mmcv by design, warns on import that it has no compiled
# ops; the plugin uses none of them.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
# mmcv's ColorJitter asks adjust_color for the saturation with only alpha,
# and pillow's blend with the grey image is then what cv2 computes (beta
# defaults to 1 - alpha); the warning on every image says nothing here.
warnings.filterwarnings(
    'ignore', message="Only use 'alpha' for pillow backend",
    module='mmcv.image.photometric')

from ._compat import apply_all  # noqa: E402

apply_all()

from ._configs import register_configs  # noqa: E402
from .datasets import OfflineFashionMNIST  # noqa: E402
from .engine import (  # noqa: E402
    InvalidLossHook,
    KNNTestLoop,
    KNNValLoop,
    NNMemoryBankHook,
    PreemptionCheckpointHook,
    RNGStateHook,
)
from .models import (  # noqa: E402
    NNBYOL,
    NNCLR,
    NNCLRHead,
    NNCLRLoss,
    NNCLRNeck,
    NNMemoryBank,
    NNSiam,
)
from .registry import add_to_mmpretrain  # noqa: E402
from .version import __version__  # noqa: E402

add_to_mmpretrain()
register_configs()

__all__ = [
    'InvalidLossHook', 'KNNTestLoop', 'KNNValLoop', 'NNBYOL', 'NNCLR',
    'NNCLRHead', 'NNCLRLoss', 'NNCLRNeck', 'NNMemoryBank', 'NNMemoryBankHook',
    'NNSiam', 'OfflineFashionMNIST', 'PreemptionCheckpointHook',
    'RNGStateHook', '__version__'
]

from .features import embed_batch, embed_dataset
from .knn import weighted_knn_scores
from .knn_val_loop import KNNTestLoop, KNNValLoop
from .linear_probe import fit_linear_probe

__all__ = [
    'KNNTestLoop', 'KNNValLoop', 'embed_batch', 'embed_dataset',
    'fit_linear_probe', 'weighted_knn_scores'
]

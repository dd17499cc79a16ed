from .features import embed_batch, embed_dataset
from .knn import weighted_knn_scores
from .linear_probe import fit_linear_probe

__all__ = [
    'embed_batch', 'embed_dataset', 'fit_linear_probe', 'weighted_knn_scores'
]

from .features import embed_batch, embed_dataset
from .knn import weighted_knn_scores
from .knn_val_loop import KNNValLoop

__all__ = [
    'KNNValLoop', 'embed_batch', 'embed_dataset', 'weighted_knn_scores'
]

from .features import embed_batch, embed_dataset
from .knn import weighted_knn_scores
from .knn_val_loop import KNNTestLoop, KNNValLoop

__all__ = [
    'KNNTestLoop', 'KNNValLoop', 'embed_batch', 'embed_dataset',
    'weighted_knn_scores'
]

from .knn import topk_accuracy, weighted_knn_scores
from .knn_val_loop import KNNValLoop

__all__ = ['KNNValLoop', 'topk_accuracy', 'weighted_knn_scores']

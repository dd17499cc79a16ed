from .knn_loops import KNNTestLoop, KNNValLoop

__all__ = ['KNNTestLoop', 'KNNValLoop']

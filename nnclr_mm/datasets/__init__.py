from .fashion_mnist import OfflineFashionMNIST, read_idx

__all__ = ['OfflineFashionMNIST', 'read_idx']

from .fashion_mnist import OfflineFashionMNIST, read_idx
from .transforms import SafeLoadImageFromFile

__all__ = ['OfflineFashionMNIST', 'SafeLoadImageFromFile', 'read_idx']

from .device_aug_preprocessor import DeviceAugDataPreprocessor
from .gather import concat_all_gather, gather_rows

__all__ = ['DeviceAugDataPreprocessor', 'concat_all_gather', 'gather_rows']

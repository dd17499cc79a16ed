"""``mmcv.adjust_hue`` that works under numpy 2.

mmcv <= 2.2.0 computes the hue shift as ``np.uint8(hue_factor * 255)``,
which numpy 2 refuses with an OverflowError for a negative factor, so
SimCLR-style ``ColorJitter(hue=...)`` crashes the data pipeline on half of
its draws. The fix replaces ``adjust_hue`` with the same function computing
numpy 1's wrapped value explicitly; positive factors give identical images.
"""
from typing import Optional

import numpy as np

from ._patching import rebind

#: The newest mmcv release with the numpy-2 overflow.
LAST_BROKEN_MMCV = '2.2.0'


def needed() -> bool:
    """Whether numpy is >= 2 and mmcv is a release with the overflow."""
    import mmcv
    from mmengine.utils import digit_version
    return (digit_version(np.__version__) >= digit_version('2.0.0')
            and digit_version(mmcv.__version__) <= digit_version(
                LAST_BROKEN_MMCV))


def hue_shift(hue_factor: float) -> np.uint8:
    """The uint8 hue shift for ``hue_factor``, wrapped modulo 256.

    This is the value numpy 1 produced for ``np.uint8(hue_factor * 255)``
    (truncation toward zero, then two's-complement wrap-around).

    Args:
        hue_factor (float): Shift in [-0.5, 0.5].
    """
    return np.uint8(int(hue_factor * 255) % 256)


def adjust_hue(img: np.ndarray,
               hue_factor: float,
               backend: Optional[str] = None) -> np.ndarray:
    """:func:`mmcv.adjust_hue` with a hue shift that is valid under numpy 2.

    Args:
        img (ndarray): Image to be adjusted, HxW or HxWx3 in BGR order.
        hue_factor (float): How much to shift the hue channel, in
            [-0.5, 0.5].
        backend (str, optional): ``'cv2'`` or ``'pillow'``. Defaults to None,
            which uses mmcv's global ``imread_backend``.

    Returns:
        ndarray: Hue adjusted image.
    """
    import cv2
    from mmcv.image import photometric
    from PIL import Image

    if backend is None:
        backend = photometric.imread_backend
    if backend not in ['cv2', 'pillow']:
        raise ValueError(f'backend: {backend} is not supported.'
                         f"Supported backends are 'cv2', 'pillow'")
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and (img.ndim in {2, 3})):
        raise TypeError('img should be ndarray with dim=[2 or 3].')

    shift = hue_shift(hue_factor)
    if backend == 'pillow':
        if img.dtype != np.uint8:
            raise TypeError('Pillow backend only support uint8 type, got '
                            f'{img.dtype}')
        pil_image = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil_image.convert('HSV').split()
        np_h = np.array(h, dtype=np.uint8)
        # uint8 addition wraps around the hue circle.
        np_h += shift
        h = Image.fromarray(np_h, 'L')
        pil_image = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.array(pil_image, dtype=img.dtype)[..., ::-1]
    dtype = img.dtype
    hsv_img = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    h, s, v = cv2.split(hsv_img)
    h = h.astype(np.uint8) + shift
    hsv_img = cv2.merge([h, s, v])
    return cv2.cvtColor(hsv_img, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def fix_adjust_hue() -> None:
    """Replace ``mmcv.adjust_hue`` everywhere it is looked up."""
    import mmcv
    import mmcv.image
    import mmcv.image.photometric  # noqa: F401
    del mmcv  # imported only so that the modules below are loaded
    rebind(('mmcv', 'mmcv.image', 'mmcv.image.photometric'), 'adjust_hue',
           adjust_hue)

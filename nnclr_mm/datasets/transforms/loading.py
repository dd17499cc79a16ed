import logging
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class SafeLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names a file it cannot decode, or
    skips and counts it.

    A corrupt or truncated file raises a ``ValueError`` that names it. With
    ``skip_corrupt=True`` the transform returns None instead, so the
    dataset draws another sample, and logs the file with the number of
    files skipped so far in this process (each dataloader worker counts its
    own). Grayscale and RGBA files load as 3-channel images, as with
    ``LoadImageFromFile(color_type='color')``.

    Args:
        skip_corrupt (bool): Skip undecodable files instead of failing.
            Defaults to False.
        **kwargs: Arguments of :class:`mmcv.transforms.LoadImageFromFile`.
    """

    def __init__(self, skip_corrupt: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.skip_corrupt = skip_corrupt
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as error:  # mmcv raises AssertionError, IOError...
            path = results.get('img_path')
            if not self.skip_corrupt:
                raise ValueError(
                    f'cannot decode image file {path}: it is corrupt, '
                    'truncated or not an image; fix or remove it, or set '
                    'skip_corrupt=True in SafeLoadImageFromFile to skip such '
                    'files') from error
            self.num_skipped += 1
            print_log(
                f'skipped undecodable image file {path} ({self.num_skipped} '
                'skipped so far in this process)',
                logger='current',
                level=logging.WARNING)
            return None

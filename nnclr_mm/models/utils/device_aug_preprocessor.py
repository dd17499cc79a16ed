from typing import Dict, List, Sequence

import torch
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor

from ...registry import MODELS
from . import batch_photometric as photometric

#: The pipeline transforms this preprocessor can take over, with the keys
#: each takes (those of the mmcv/mmpretrain transform of that name).
AUGMENTS = {
    'ColorJitter': ('brightness', 'contrast', 'saturation', 'hue', 'prob'),
    'RandomGrayscale': ('prob', 'channel_weights'),
    'GaussianBlur': ('magnitude_range', 'prob'),
    'Solarize': ('thr', 'prob'),
}


def _uniform(n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, dtype=torch.float64)


def _applies(n: int, prob: float) -> torch.Tensor:
    return torch.rand(n, dtype=torch.float64) < prob


@MODELS.register_module()
class DeviceAugDataPreprocessor(SelfSupDataPreprocessor):
    """mmpretrain's ``SelfSupDataPreprocessor`` that first applies the
    photometric augmentations of each view to the whole batch on the
    model's device, each image with its own random parameters.

    The CPU workers then only decode, crop and flip (uint8 tensors of one
    size); colour jitter, grayscale, blur and solarize run here, with the
    ranges and probabilities of the pipeline transforms they replace and
    Pillow's or mmcv's arithmetic (:mod:`.batch_photometric`). Parameters
    are drawn from torch's CPU generator, which the run seeds and
    ``RNGStateHook`` restores on resume.

    Args:
        view_augments (list[list[dict]]): For each view, the augmentations
            in order, written as the pipeline transforms: ``ColorJitter``
            (``brightness``, ``contrast``, ``saturation``, ``hue`` as
            mmpretrain takes them, ``prob`` as ``RandomApply``'s),
            ``RandomGrayscale`` (``prob``, ``channel_weights`` in the
            images' BGR order), ``GaussianBlur`` (``magnitude_range``,
            ``prob``), ``Solarize`` (``thr``, ``prob``).
        **kwargs: ``SelfSupDataPreprocessor``'s arguments.

    Examples:
        >>> import torch
        >>> pre = DeviceAugDataPreprocessor(
        ...     view_augments=[[dict(type='Solarize', thr=128, prob=1.0)]],
        ...     mean=[0, 0, 0], std=[1, 1, 1])
        >>> view = torch.full((2, 3, 4, 4), 200, dtype=torch.uint8)
        >>> batch = dict(inputs=[view], data_samples=None)
        >>> pre(batch, training=True)['inputs'][0].unique()
        tensor([55.])
    """

    def __init__(self, view_augments: Sequence[Sequence[dict]],
                 **kwargs) -> None:
        super().__init__(**kwargs)
        for view in view_augments:
            for augment in view:
                kind = augment.get('type')
                if kind not in AUGMENTS:
                    raise ValueError(
                        f'DeviceAugDataPreprocessor: view_augments type must '
                        f'be one of {tuple(AUGMENTS)}, got {kind!r}')
                unknown = set(augment) - {'type', *AUGMENTS[kind]}
                if unknown:
                    raise ValueError(
                        f'DeviceAugDataPreprocessor: {kind} takes '
                        f'{AUGMENTS[kind]}, got {sorted(unknown)}')
        self.view_augments = [[dict(a) for a in view]
                              for view in view_augments]

    def forward(self, data: dict, training: bool = False) -> dict:
        """Augment each view (in training), then cast, convert and
        normalise as ``SelfSupDataPreprocessor`` does."""
        if training:
            data = dict(data)
            views = [v.to(self._device) for v in data['inputs']]
            if len(views) != len(self.view_augments):
                raise ValueError(
                    f'DeviceAugDataPreprocessor: {len(self.view_augments)} '
                    f'views in view_augments, the batch has {len(views)}')
            data['inputs'] = [
                self.augment(view, augments)
                for view, augments in zip(views, self.view_augments)]
        return super().forward(data, training)

    def augment(self, img: torch.Tensor,
                augments: List[Dict]) -> torch.Tensor:
        """Apply ``augments`` to a batch of uint8 BGR images.

        Args:
            img (Tensor): ``(N, 3, H, W)`` uint8 images, BGR as mmcv loads.
            augments (list[dict]): One view's augmentations.

        Returns:
            Tensor: The augmented uint8 images.
        """
        for augment in augments:
            apply = getattr(self, '_' + augment['type'].lower())
            img = apply(img, **{k: v for k, v in augment.items()
                                if k != 'type'})
        return img

    @staticmethod
    def _where(chosen: torch.Tensor, new: torch.Tensor,
               old: torch.Tensor) -> torch.Tensor:
        return torch.where(chosen.to(old.device)[:, None, None, None], new,
                           old)

    def _colorjitter(self, img, brightness=None, contrast=None,
                     saturation=None, hue=None, prob=1.0):
        n = img.shape[0]
        chosen = _applies(n, prob)
        # mmpretrain draws an order of the four, then the four factors.
        order = torch.argsort(torch.rand(n, 4), dim=1)
        factors = []
        for value, is_hue in ((brightness, False), (contrast, False),
                              (saturation, False), (hue, True)):
            if value is None:
                factors.append(None)
                continue
            # mmpretrain's ranges: [max(0, 1 - v), 1 + v], hue [-v, v].
            if isinstance(value, (int, float)):
                value = (-value, value) if is_hue else (max(0, 1 - value),
                                                        1 + value)
            factors.append(_uniform(n, *value))
        ops = (photometric.adjust_brightness, photometric.adjust_contrast,
               photometric.adjust_saturation, photometric.adjust_hue)
        rgb = img.flip(1)  # Pillow works in RGB
        out = rgb
        for position in range(4):
            for kind, (op, factor) in enumerate(zip(ops, factors)):
                if factor is None:
                    continue
                rows = ((order[:, position] == kind) & chosen).nonzero()[:, 0]
                if len(rows):
                    on_device = rows.to(img.device)
                    out = out.index_copy(
                        0, on_device, op(out[on_device], factor[rows]))
        return out.flip(1)

    def _randomgrayscale(self, img, prob=0.1,
                         channel_weights=(1., 1., 1.)):
        chosen = _applies(img.shape[0], prob)
        return self._where(chosen, photometric.grayscale(img, channel_weights),
                           img)

    def _gaussianblur(self, img, magnitude_range=(0.1, 2.0), prob=0.5):
        n = img.shape[0]
        chosen = _applies(n, prob)
        sigma = _uniform(n, *magnitude_range)
        rows = chosen.nonzero()[:, 0]
        if not len(rows):
            return img
        on_device = rows.to(img.device)
        return img.index_copy(
            0, on_device,
            photometric.gaussian_blur(img[on_device], sigma[rows]))

    def _solarize(self, img, thr=128, prob=0.5):
        chosen = _applies(img.shape[0], prob)
        return self._where(chosen, photometric.solarize(img, thr), img)

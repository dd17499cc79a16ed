"""Pillow's colour adjustments on a batch of uint8 images, each image with
its own factor, on any device.

``mmpretrain``'s ``ColorJitter`` with ``backend='pillow'`` (the pipelines
of the Fashion-MNIST recipes) calls ``PIL.ImageEnhance`` one image at a
time on the CPU. These functions compute what Pillow computes, in the
same arithmetic, for a whole batch at once: Pillow's 8-bit luma
(``(19595 R + 38470 G + 7471 B + 2**15) >> 16``), its rounded mean for
contrast, and ``Image.blend``'s float32 interpolation truncated to uint8.
Images are ``(N, 3, H, W)`` uint8 tensors in RGB order; factors are one
per image.
"""
import torch

#: Pillow's integer weights of R, G and B in its 8-bit luma (sum 2**16).
_LUMA_WEIGHTS = (19595, 38470, 7471)


def _per_image(factor: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    return factor.to(img.device, torch.float32).reshape(-1, 1, 1, 1)


def luma(img: torch.Tensor) -> torch.Tensor:
    """Pillow's ``convert('L')`` of RGB images.

    Args:
        img (Tensor): ``(N, 3, H, W)`` uint8 RGB images.

    Returns:
        Tensor: ``(N, 1, H, W)`` uint8 luma.

    Examples:
        >>> img = torch.tensor([255, 0, 0], dtype=torch.uint8)
        >>> luma(img.reshape(1, 3, 1, 1)).item()  # 255 * 0.299, rounded
        76
    """
    weights = torch.tensor(_LUMA_WEIGHTS, dtype=torch.int32,
                           device=img.device).reshape(1, 3, 1, 1)
    weighted = (img.to(torch.int32) * weights).sum(1, keepdim=True)
    return ((weighted + (1 << 15)) >> 16).to(torch.uint8)


def blend(degenerate: torch.Tensor, img: torch.Tensor,
          factor: torch.Tensor) -> torch.Tensor:
    """Pillow's ``Image.blend(degenerate, img, factor)``: ``degenerate +
    factor * (img - degenerate)`` in float32, clipped to [0, 255] and
    truncated to uint8.

    Args:
        degenerate (Tensor): uint8 images broadcastable to ``img``.
        img (Tensor): ``(N, C, H, W)`` uint8 images.
        factor (Tensor): ``(N,)`` blend factors; 1 keeps ``img``.

    Returns:
        Tensor: The blended uint8 images.
    """
    low = degenerate.to(torch.float32)
    out = low + _per_image(factor, img) * (img.to(torch.float32) - low)
    return out.clamp_(0, 255).to(torch.uint8)


def adjust_brightness(img: torch.Tensor,
                      factor: torch.Tensor) -> torch.Tensor:
    """``ImageEnhance.Brightness(img).enhance(factor)`` per image.

    Args:
        img (Tensor): ``(N, 3, H, W)`` uint8 RGB images.
        factor (Tensor): ``(N,)`` factors; 0 gives black, 1 the image.

    Examples:
        >>> img = torch.full((2, 3, 1, 1), 100, dtype=torch.uint8)
        >>> adjust_brightness(img, torch.tensor([0.5, 1.5])).flatten(1)
        tensor([[ 50,  50,  50],
                [150, 150, 150]], dtype=torch.uint8)
    """
    return blend(torch.zeros_like(img), img, factor)


def adjust_contrast(img: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``ImageEnhance.Contrast(img).enhance(factor)`` per image: a blend
    with the image's mean luma, rounded.

    Args:
        img (Tensor): ``(N, 3, H, W)`` uint8 RGB images.
        factor (Tensor): ``(N,)`` factors; 0 gives the mean grey.
    """
    mean = luma(img).to(torch.float64).mean(dim=(1, 2, 3), keepdim=True)
    return blend(torch.floor(mean + 0.5), img, factor)


def adjust_saturation(img: torch.Tensor,
                      factor: torch.Tensor) -> torch.Tensor:
    """``ImageEnhance.Color(img).enhance(factor)`` per image: a blend with
    the image's luma.

    Args:
        img (Tensor): ``(N, 3, H, W)`` uint8 RGB images.
        factor (Tensor): ``(N,)`` factors; 0 gives the luma.
    """
    return blend(luma(img), img, factor)

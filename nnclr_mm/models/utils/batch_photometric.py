"""The photometric augmentations of the SSL pipelines (brightness,
contrast, saturation, hue, grayscale, Gaussian blur, solarize) on a batch
of uint8 images, each image with its own parameters, on any device.

``mmpretrain``'s ``ColorJitter`` with ``backend='pillow'`` (the pipelines
of the Fashion-MNIST recipes) calls ``PIL.ImageEnhance`` one image at a
time on the CPU. These functions compute what Pillow computes, in the
same arithmetic, for a whole batch at once: Pillow's 8-bit luma
(``(19595 R + 38470 G + 7471 B + 2**15) >> 16``), its rounded mean for
contrast, ``Image.blend``'s float32 interpolation truncated to uint8, its
HSV conversions with their float32 and float64 steps, and its Gaussian
blur as three box blurs per axis in 24-bit fixed point (int32 here, fast
on any GPU); grayscale and solarize as mmcv computes them. Each equals
its CPU counterpart pixel for pixel
(``tests/test_models/test_batch_photometric.py``).
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


def _rgb_to_hsv(img: torch.Tensor) -> torch.Tensor:
    """Pillow's ``convert('HSV')``: its float32 and float64 steps and its
    truncations, on ``(N, 3, H, W)`` uint8 RGB."""
    rgb = img.to(torch.int32)
    r, g, b = rgb.unbind(1)
    maxc, minc = rgb.amax(1), rgb.amin(1)
    grey = maxc == minc
    cr = (maxc - minc).to(torch.float32).masked_fill(grey, 1)
    s = cr / maxc.to(torch.float32).clamp(min=1)
    rc, gc, bc = ((maxc - c).to(torch.float32) / cr for c in (r, g, b))
    # Pillow adds the float32 terms in double and stores a float32.
    h = torch.where(
        r == maxc, bc.double() - gc.double(),
        torch.where(g == maxc, 2.0 + rc.double() - bc.double(),
                    4.0 + gc.double() - rc.double())).float()
    # ... and keeps the wrapped hue in a float32 too.
    h = torch.fmod(h.double() / 6.0 + 1.0, 1.0).float().double()
    uh = (h * 255.0).to(torch.int32).clamp(0, 255).masked_fill(grey, 0)
    us = (s.double() * 255.0).to(torch.int32).clamp(0, 255).masked_fill(
        grey, 0)
    return torch.stack([uh, us, maxc], 1)


#: For R, G and B, which of (v, p, q, t) Pillow's HSV to RGB takes in each
#: of the six hue sectors.
_HSV_SECTORS = ((0, 2, 1, 1, 3, 0), (3, 0, 0, 2, 1, 1), (1, 1, 3, 0, 0, 2))


def _hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """Pillow's HSV to RGB conversion of int32 ``(N, 3, H, W)`` HSV."""
    h, s, v = (c.double() for c in hsv.unbind(1))
    sector = torch.floor(h.float().double() * 6.0 / 255.0)
    f = h.float().double() * 6.0 / 255.0 - sector.float().double()
    f = f.float().double()  # Pillow keeps the remainder in a float
    fs = (s.float().double() / 255.0).float().double()
    p = torch.round(v * (1.0 - fs)).clamp(0, 255)
    q = torch.round(v * (1.0 - fs * f)).clamp(0, 255)
    t = torch.round(v * (1.0 - fs * (1.0 - f))).clamp(0, 255)
    sector = sector.to(torch.int64) % 6
    # Pillow's switch: each channel takes one of v, p, q, t by sector.
    candidates = torch.stack([v, p, q, t]).to(torch.uint8)
    table = torch.tensor(_HSV_SECTORS, device=hsv.device)
    rgb = torch.stack([candidates.gather(0, row[sector][None])[0]
                       for row in table], 1)
    grey = (s == 0)[:, None]
    return torch.where(grey, hsv[:, 2:].to(torch.uint8), rgb)


def adjust_hue(img: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """mmcv's ``adjust_hue(backend='pillow')`` per image: Pillow's HSV,
    the hue channel shifted by ``int(factor * 255)`` modulo 256, and back.

    Args:
        img (Tensor): ``(N, 3, H, W)`` uint8 RGB images.
        factor (Tensor): ``(N,)`` shifts in [-0.5, 0.5]; 0 keeps the hue.
    """
    hsv = _rgb_to_hsv(img)
    # int() truncates toward zero, as mmcv's shift does.
    shift = (factor.to(img.device, torch.float64) * 255).trunc().to(
        torch.int32).reshape(-1, 1, 1)
    hsv[:, 0] = (hsv[:, 0] + shift) % 256
    return _hsv_to_rgb(hsv)


def grayscale(img: torch.Tensor, channel_weights) -> torch.Tensor:
    """mmcv's ``RandomGrayscale`` applied to each image of a batch: the
    weighted sum of the channels in float64, in channel order, truncated
    to uint8 and repeated over the channels.

    Args:
        img (Tensor): ``(N, C, H, W)`` uint8 images.
        channel_weights (Sequence[float]): One weight per channel, in the
            images' channel order (mmcv's images are BGR); normalised to
            sum 1 as mmcv does.

    Examples:
        >>> img = torch.tensor([10, 20, 30], dtype=torch.uint8)
        >>> grayscale(img.reshape(1, 3, 1, 1), (1, 1, 1)).flatten()
        tensor([20, 20, 20], dtype=torch.uint8)
    """
    weights = torch.tensor(channel_weights, dtype=torch.float64)
    weights = (weights / weights.sum()).tolist()
    channels = img.to(torch.float64).unbind(1)
    # numpy adds the three products in channel order.
    gray = channels[0] * weights[0]
    for channel, weight in zip(channels[1:], weights[1:]):
        gray = gray + channel * weight
    return gray.to(torch.uint8)[:, None].expand_as(img).contiguous()


def solarize(img: torch.Tensor, threshold: float = 128) -> torch.Tensor:
    """mmcv's ``solarize``: values at or above ``threshold`` inverted.

    Args:
        img (Tensor): uint8 images.
        threshold (float): The threshold. Defaults to 128.

    Examples:
        >>> solarize(torch.tensor([0, 127, 128, 255], dtype=torch.uint8))
        tensor([  0, 127, 127,   0], dtype=torch.uint8)
    """
    return torch.where(img < threshold, img, 255 - img)


def _box_radius(sigma: torch.Tensor, passes: int = 3) -> torch.Tensor:
    """Pillow's box radius of ``passes`` box blurs approximating a Gaussian
    of standard deviation ``sigma`` (float32 and float64 steps as in C)."""
    sigma = sigma.to(torch.float32)
    sigma2 = sigma * sigma / passes
    length = torch.sqrt(12.0 * sigma2.double() + 1.0).float()
    whole = torch.floor((length.double() - 1.0) / 2.0).float()
    frac = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2)
    frac = frac / (6 * (sigma2 - (whole + 1) * (whole + 1)))
    return whole + frac


def _box_weights(radius: torch.Tensor) -> tuple:
    """Pillow's 24-bit fixed-point weights of a box blur of ``radius`` per
    image: the whole taps' count, the weight of each, the weight of the
    two edge taps, and the widest reach."""
    whole = radius.to(torch.int64)
    # (1 << 24) / (2 r + 1) in float32, truncated, as Pillow's UINT32.
    ww = (torch.tensor(float(1 << 24), dtype=torch.float32,
                       device=radius.device) /
          (radius.float() * 2 + 1)).to(torch.int64)
    fw = ((1 << 24) - (whole * 2 + 1) * ww) // 2
    return whole, ww, fw, int(whole.max()) + 1


def _box_blur(img: torch.Tensor, weights: tuple, dim: int) -> torch.Tensor:
    """One of Pillow's box blurs along ``dim`` (3: rows, 2: columns) with
    :func:`_box_weights`' ``weights``: edge pixels repeated, rounded.
    ``img`` is int32 ``(N, C, H, W)`` in [0, 255]."""
    shape = (-1, 1, 1, 1)
    whole, ww, fw, reach = weights
    size = img.shape[dim]
    pad = [0, 0, 0, 0]
    pad[(3 - dim) * 2:(3 - dim) * 2 + 2] = [reach, reach]
    padded = torch.nn.functional.pad(img, pad, mode='replicate')
    # The integer sums of the whole-weight window and of its two edge
    # pixels (fractional weight), per image.
    window = padded.narrow(dim, reach, size).clone()
    edges = torch.zeros_like(window)
    for d in range(1, reach + 1):
        pair = (padded.narrow(dim, reach - d, size) +
                padded.narrow(dim, reach + d, size))
        window.addcmul_(pair, (d <= whole).to(img.dtype).reshape(shape))
        edges.addcmul_(pair, (d == whole + 1).to(img.dtype).reshape(shape))
    # (ww * window + fw * edges + 2**23) >> 24, exact in int32: the
    # weights split into 12-bit halves, the low part carried into the
    # high one (its last 12 bits cannot reach bit 24).
    high = (window * (ww >> 12).to(img.dtype).reshape(shape) +
            edges * (fw >> 12).to(img.dtype).reshape(shape))
    low = (window * (ww & 4095).to(img.dtype).reshape(shape) +
           edges * (fw & 4095).to(img.dtype).reshape(shape) + (1 << 23))
    return (high + (low >> 12)) >> 12


def gaussian_blur(img: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Pillow's ``ImageFilter.GaussianBlur(sigma)`` (what mmpretrain's
    ``GaussianBlur`` calls) per image: three box blurs along rows, then
    three along columns, in Pillow's fixed-point arithmetic.

    Args:
        img (Tensor): ``(N, C, H, W)`` uint8 images.
        sigma (Tensor): ``(N,)`` standard deviations (Pillow's radius).
    """
    weights = _box_weights(_box_radius(sigma.to(img.device)))
    out = img.to(torch.int32)  # integers: no float64, fast on any GPU
    for dim in (3, 3, 3, 2, 2, 2):
        out = _box_blur(out, weights, dim)
    return out.to(torch.uint8)

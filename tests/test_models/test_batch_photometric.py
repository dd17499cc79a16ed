"""The batched colour adjustments equal mmcv's pillow backend (what
mmpretrain's ColorJitter calls) image by image, pixel for pixel, on each
device (the GPU acceptance run takes the CUDA cases)."""
import mmcv
import numpy as np
import pytest
import torch

from nnclr_mm.models.utils.batch_photometric import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    gaussian_blur,
    grayscale,
    luma,
    solarize,
)


def images(n=16, size=24, seed=0):
    """Random RGB images with smooth regions and saturated pixels."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randint(0, 256, (n, 3, size, size), generator=g)
    ramp = torch.linspace(0, 255, size).expand(n, 3, size, size)
    mixed = torch.where(torch.rand(n, 1, size, size, generator=g) < 0.5,
                        noise.float(), ramp)
    return mixed.round().to(torch.uint8)


def mmcv_each(img, fn, factors):
    """mmcv on each image: RGB tensor -> BGR array -> RGB tensor."""
    out = []
    for image, factor in zip(img, factors.tolist()):
        bgr = image.permute(1, 2, 0).numpy()[..., ::-1].copy()
        result = fn(bgr, factor)
        out.append(torch.from_numpy(result[..., ::-1].copy()).permute(2, 0, 1))
    return torch.stack(out)


CASES = [
    (adjust_brightness,
     lambda img, f: mmcv.adjust_brightness(img, f, backend='pillow')),
    (adjust_contrast,
     lambda img, f: mmcv.adjust_contrast(img, f, backend='pillow')),
    (adjust_saturation,
     lambda img, f: mmcv.adjust_color(img, alpha=f, backend='pillow')),
]


@pytest.mark.filterwarnings("ignore:Only use 'alpha'")
@pytest.mark.parametrize('ours, reference', CASES,
                         ids=['brightness', 'contrast', 'saturation'])
def test_equals_mmcv_pillow_image_by_image(ours, reference, device):
    img = images()
    # The recipes' ranges (1 +- 0.8 at most), the ends, and extrapolation.
    factors = torch.tensor([0.0, 0.2, 0.6, 0.999, 1.0, 1.2, 1.8, 2.5] * 2)
    # Pillow's own arithmetic, so every pixel is equal, not only close.
    assert torch.equal(ours(img.to(device), factors.to(device)).cpu(),
                       mmcv_each(img, reference, factors))


def test_luma_is_pillows(device):
    from PIL import Image
    img = images(n=2)
    for image, gray in zip(img, luma(img.to(device)).cpu()):
        pil = Image.fromarray(image.permute(1, 2, 0).numpy()).convert('L')
        assert np.array_equal(np.asarray(pil), gray[0].numpy())



def test_hue_equals_mmcv_pillow_image_by_image(device):
    # Pillow's HSV conversions in its float32 and float64 steps; the shift
    # as mmcv's (numpy-2 fix: nnclr_mm._compat.mmcv_hue).
    img = images(n=32)
    factors = torch.linspace(-0.5, 0.5, 32)
    expected = mmcv_each(
        img, lambda im, f: mmcv.adjust_hue(im, f, backend='pillow'), factors)
    assert torch.equal(adjust_hue(img.to(device), factors).cpu(), expected)


@pytest.mark.parametrize('weights', [(0.114, 0.587, 0.2989), (1, 1, 1)])
def test_grayscale_equals_mmcv_random_grayscale(weights, device):
    from mmcv.transforms import RandomGrayscale
    img = images(n=8)
    transform = RandomGrayscale(prob=1.0, keep_channels=True,
                                channel_weights=weights)
    # mmcv's images are HxWxC in the same channel order as the weights.
    expected = torch.stack([
        torch.from_numpy(transform(dict(img=image.permute(1, 2, 0).numpy(
        )))['img']).permute(2, 0, 1) for image in img])
    assert torch.equal(grayscale(img.to(device), weights).cpu(), expected)


def test_solarize_equals_mmcv(device):
    img = images(n=4)
    expected = torch.from_numpy(mmcv.solarize(img.numpy(), thr=128))
    assert torch.equal(solarize(img.to(device)).cpu(), expected)


def test_gaussian_blur_equals_pillow_image_by_image(device):
    from PIL import Image, ImageFilter
    img = images(n=12, size=32)
    # The recipes' range (0.1 to 2.0) and beyond.
    sigmas = torch.tensor([0.1, 0.3, 0.5, 0.77, 1.0, 1.234, 1.5, 1.9, 2.0,
                           2.5, 3.0, 0.2])
    expected = torch.stack([
        torch.from_numpy(np.array(Image.fromarray(
            image.permute(1, 2, 0).numpy()).filter(
                ImageFilter.GaussianBlur(float(sigma))))).permute(2, 0, 1)
        for image, sigma in zip(img, sigmas)])
    assert torch.equal(gaussian_blur(img.to(device), sigmas).cpu(), expected)

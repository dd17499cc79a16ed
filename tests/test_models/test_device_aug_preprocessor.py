"""DeviceAugDataPreprocessor: each augmentation equals the pipeline
transform it replaces for the same parameter, and its parameters follow
the transform's ranges and probabilities."""

import mmcv
import pytest
import torch
from test_batch_photometric import images
from toolkit import (
    DEVICE_AUG,
    DEVICE_AUG_IN1K,
    QUICKSTART,
    guide_code,
    load_config,
)

from nnclr_mm.models.utils import DeviceAugDataPreprocessor
from nnclr_mm.models.utils import batch_photometric as photometric


def preprocess(augments, img):
    pre = DeviceAugDataPreprocessor(view_augments=[augments],
                                    mean=[0, 0, 0], std=[1, 1, 1])
    out = pre(dict(inputs=[img], data_samples=None), training=True)
    return out['inputs'][0].round().to(torch.uint8)


def mmcv_bgr(img, fn):
    """``fn`` on each image as mmcv holds it (HxWx3 BGR), the results in
    the batch's (N, 3, H, W) layout."""
    out = [torch.from_numpy(fn(i.permute(1, 2, 0).numpy().copy()).copy())
           for i in img]
    return torch.stack(out).permute(0, 3, 1, 2)


@pytest.mark.filterwarnings("ignore:Only use 'alpha'")
@pytest.mark.parametrize('key, factor, reference', [
    ('brightness', 0.55, lambda im: mmcv.adjust_brightness(
        im, 0.55, backend='pillow')),
    ('contrast', 1.3, lambda im: mmcv.adjust_contrast(
        im, 1.3, backend='pillow')),
    ('saturation', 0.7, lambda im: mmcv.adjust_color(
        im, alpha=0.7, backend='pillow')),
    ('hue', 0.08, lambda im: mmcv.adjust_hue(im, 0.08, backend='pillow')),
])
def test_color_jitter_on_bgr_batches_equals_mmcv(key, factor, reference):
    img = images(n=6)  # read as BGR, as mmcv loads images
    out = preprocess([dict(type='ColorJitter', prob=1.0,
                           **{key: (factor, factor)})], img)
    assert torch.equal(out, mmcv_bgr(img, reference))


def test_grayscale_blur_solarize_equal_their_transforms():
    from mmcv.transforms import RandomGrayscale
    img = images(n=4)
    weights = (0.114, 0.587, 0.2989)
    gray = RandomGrayscale(prob=1.0, keep_channels=True,
                           channel_weights=weights)
    assert torch.equal(
        preprocess([dict(type='RandomGrayscale', prob=1.0,
                         channel_weights=weights)], img),
        mmcv_bgr(img, lambda im: gray(dict(img=im))['img']))
    assert torch.equal(
        preprocess([dict(type='Solarize', thr=128, prob=1.0)], img),
        mmcv_bgr(img, lambda im: mmcv.solarize(im, thr=128)))
    blurred = preprocess([dict(type='GaussianBlur', magnitude_range=(1.5,
                                                                     1.5),
                               prob=1.0)], img)
    assert torch.equal(blurred,
                       photometric.gaussian_blur(img, torch.full((4, ), 1.5)))


def test_parameters_follow_the_pipeline_ranges(monkeypatch):
    # The SimCLR pipeline's jitter: RandomApply(p=0.8) of ColorJitter(0.4,
    # 0.4, 0.2, 0.1) in a random order; 20,000 one-pixel images.
    seen = {}

    def spy(name):
        op = getattr(photometric, name)

        def record(img, factor):
            seen.setdefault(name, []).append(factor)
            return op(img, factor)
        return record

    for name in ('adjust_brightness', 'adjust_contrast', 'adjust_saturation',
                 'adjust_hue'):
        monkeypatch.setattr(photometric, name, spy(name))
    n = 20000
    img = torch.zeros(n, 3, 1, 1, dtype=torch.uint8)
    preprocess([dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                     saturation=0.2, hue=0.1, prob=0.8)], img)
    bounds = dict(adjust_brightness=(0.6, 1.4), adjust_contrast=(0.6, 1.4),
                  adjust_saturation=(0.8, 1.2), adjust_hue=(-0.1, 0.1))
    for name, (low, high) in bounds.items():
        factors = torch.cat(seen[name])
        # Each op runs once per chosen image: 80 % of them, 4 sigma.
        assert abs(len(factors) / n - 0.8) < 4 * (0.8 * 0.2 / n)**0.5
        # Uniform over the whole range: the ends are reached, the mean and
        # variance are those of U(low, high).
        assert low <= factors.min() < low + 0.01 * (high - low)
        assert high - 0.01 * (high - low) < factors.max() <= high
        width = high - low
        assert abs(factors.mean() - (low + high) / 2) < 0.01 * width
        assert abs(factors.var() - width**2 / 12) < 0.05 * width**2 / 12
    # The order is a uniform permutation: brightness comes first for a
    # quarter of the images (the first call of the first position).
    first_position = len(seen['adjust_brightness'][0])
    assert abs(first_position / (0.8 * n) - 0.25) < 0.02


def test_same_seed_same_augmentation():
    img = images(n=8)
    augments = [dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                     saturation=0.2, hue=0.1, prob=0.8),
                dict(type='RandomGrayscale', prob=0.2,
                     channel_weights=(0.114, 0.587, 0.2989)),
                dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
                     prob=0.5),
                dict(type='Solarize', thr=128, prob=0.2)]
    torch.manual_seed(3)
    first = preprocess(augments, img)
    torch.manual_seed(3)
    assert torch.equal(preprocess(augments, img), first)
    assert not torch.equal(preprocess(augments, img), first)


def test_a_wrong_augment_is_named():
    with pytest.raises(ValueError, match="got 'ColourJitter'"):
        DeviceAugDataPreprocessor(view_augments=[[dict(type='ColourJitter')]])
    with pytest.raises(ValueError, match=r"Solarize takes .*got \['p'\]"):
        DeviceAugDataPreprocessor(
            view_augments=[[dict(type='Solarize', p=0.2)]])


def split_view(view):
    """A pipeline view's CPU transforms (types) and its photometric ones
    as DeviceAugDataPreprocessor steps."""
    from nnclr_mm.models.utils.device_aug_preprocessor import AUGMENTS
    cpu, device = [], []
    for transform in view:
        prob = transform.get('prob', 1.0)
        if transform['type'] == 'RandomApply':
            (transform, ) = transform['transforms']
        if transform['type'] not in AUGMENTS:
            cpu.append(transform['type'])
            continue
        step = {k: v for k, v in transform.items()
                if k in AUGMENTS[transform['type']]}
        step.update(type=transform['type'], prob=prob)
        device.append({k: list(v) if isinstance(v, tuple) else v
                       for k, v in step.items()})
    return cpu, device


def views(cfg):
    multi = next(t for t in cfg.train_dataloader.dataset.pipeline
                 if t['type'] == 'MultiView')
    pipelines = multi['transforms']
    return pipelines * 2 if len(pipelines) == 1 else pipelines


@pytest.mark.parametrize('config, original', [
    (DEVICE_AUG, QUICKSTART), *DEVICE_AUG_IN1K.items()])
def test_a_device_aug_config_moves_its_recipe_s_photometric_transforms(
        tmp_path, config, original):
    from mmengine.runner import Runner
    cfg = load_config(config, work_dir=str(tmp_path))
    before = [split_view(view) for view in views(load_config(original))]
    after = [split_view(view) for view in views(cfg)]
    # The workers keep the rest of each view (decode, crop, flip) ...
    assert [cpu for cpu, _ in after] == [
        [t for t in cpu if t != 'RandomFlip'] + ['RandomFlip']
        for cpu, _ in before]
    assert all(not device for _, device in after)
    # ... and the preprocessor does the rest, with the same parameters.
    model = Runner.from_cfg(cfg).model
    assert isinstance(model.data_preprocessor, DeviceAugDataPreprocessor)
    assert [[{k: list(v) if isinstance(v, tuple) else v
              for k, v in step.items()} for step in view]
            for view in model.data_preprocessor.view_augments] == [
                device for _, device in before]


def test_the_guide_s_own_config_is_the_shipped_quickstart_one(tmp_path):
    # docs/user_guides/device_augmentation.md shows how to switch a config
    # by hand; written out, it is the shipped device-aug quickstart.
    from mmengine.config import Config
    code, = guide_code('user_guides/device_augmentation.md',
                       "_base_ = 'nnclr_mm::")
    path = tmp_path / 'mine.py'
    path.write_text(code)
    mine = Config.fromfile(str(path))
    shipped = load_config(DEVICE_AUG)
    assert mine.data_preprocessor == shipped.data_preprocessor
    assert (mine.train_dataloader.dataset.pipeline ==
            shipped.train_dataloader.dataset.pipeline)

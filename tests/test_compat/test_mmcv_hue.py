"""``mmcv.adjust_hue`` under numpy 2: unfixed overflows, fixed works."""
import cv2
import mmcv
import numpy as np
import pytest
from unpatched import load_unpatched

from nnclr_mm._compat import mmcv_hue

broken_upstream = pytest.mark.skipif(
    not mmcv_hue.needed(), reason='numpy < 2 or a fixed mmcv: not fixed')


@pytest.fixture
def image():
    return (np.random.RandomState(0).rand(16, 16, 3) * 255).astype(np.uint8)


@pytest.mark.parametrize('numpy_version, mmcv_version, needed', [
    ('2.0.0', mmcv_hue.LAST_BROKEN_MMCV, True),
    ('1.26.4', mmcv_hue.LAST_BROKEN_MMCV, False),
    ('2.0.0', '2.2.1', False),
])
def test_needed_for_numpy2_and_a_broken_mmcv(monkeypatch, numpy_version,
                                             mmcv_version, needed):
    monkeypatch.setattr(np, '__version__', numpy_version)
    monkeypatch.setattr(mmcv, '__version__', mmcv_version)
    assert mmcv_hue.needed() is needed


@broken_upstream
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_unpatched_adjust_hue_overflows_on_negative_factor(image, backend):
    unpatched = load_unpatched('mmcv.image.photometric')
    with pytest.raises(OverflowError):
        unpatched.adjust_hue(image, -0.1, backend=backend)


@pytest.mark.parametrize('factor, shift', [(0.1, 25), (-0.1, 231),
                                           (0.5, 127), (-0.5, 129),
                                           (0.0, 0)])
def test_hue_shift_is_numpy1_wraparound(factor, shift):
    # numpy 1: float -> int truncates toward zero, then wraps modulo 256.
    assert mmcv_hue.hue_shift(factor) == shift


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('factor', [0.0, 0.2, 0.5])
def test_adjust_hue_unchanged_for_positive_factors(image, backend, factor):
    unpatched = load_unpatched('mmcv.image.photometric')
    expected = unpatched.adjust_hue(image, factor, backend=backend)
    np.testing.assert_array_equal(
        mmcv_hue.adjust_hue(image, factor, backend=backend), expected)


@broken_upstream
def test_negative_hue_shift_rotates_the_hue_channel(image):
    assert mmcv.adjust_hue is mmcv_hue.adjust_hue
    out = mmcv.adjust_hue(image, -0.1, backend='cv2')
    # Reference: rotate the full-range hue channel by -25 (mod 256) in HSV.
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = (hsv[..., 0].astype(int) - 25) % 256
    expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)
    np.testing.assert_array_equal(out, expected)


def test_mmpretrain_color_jitter_with_hue_runs(image):
    from mmpretrain.datasets.transforms import ColorJitter
    jitter = ColorJitter(hue=0.5, backend='pillow')
    np.random.seed(0)
    for _ in range(20):  # half of the draws are negative
        out = jitter(dict(img=image.copy()))['img']
        assert out.shape == image.shape and out.dtype == np.uint8

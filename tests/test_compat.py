"""Each known breakage of the OpenMMLab stack: unfixed fails, fixed works.

The unfixed functions are loaded afresh from mmengine's and mmcv's own
source files, so these tests show the breakage on the installed stack.
"""
import importlib.util
import io
import pickle
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from nnclr_mm import compat


def load_unpatched(module_name):
    """A fresh copy of ``module_name`` as shipped, beside the patched one."""
    origin = importlib.util.find_spec(module_name).origin
    spec = importlib.util.spec_from_file_location(module_name + '_unpatched',
                                                  origin)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = module_name.rpartition('.')[0]
    spec.loader.exec_module(module)
    return module


# 1. pkg_resources ----------------------------------------------------------
@pytest.fixture
def no_pkg_resources(monkeypatch):
    # setuptools >= 81 ships no pkg_resources; None makes its import fail.
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)


def test_unpatched_is_installed_needs_pkg_resources(no_pkg_resources):
    unpatched = load_unpatched('mmengine.utils.package_utils')
    with pytest.raises(ImportError):
        unpatched.is_installed('mmpretrain')
    with pytest.raises(ImportError):
        unpatched.get_installed_path('mmpretrain')


def test_package_utils_work_without_pkg_resources(no_pkg_resources):
    import mmpretrain
    assert compat.is_installed('mmpretrain')
    assert compat.is_installed('json')  # a module without a distribution
    assert not compat.is_installed('surely_not_a_package_xyz')
    assert compat.get_installed_path('mmpretrain') == \
        mmpretrain.__path__[0]
    # Distribution name differs from the module name.
    assert compat.package2module('mmcv-lite') == 'mmcv'


def test_mmpretrain_base_config_loads_without_pkg_resources(
        no_pkg_resources, tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("_base_ = 'mmpretrain::_base_/default_runtime.py'\n"
                        'custom = 1\n')
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.custom == 1
    assert cfg.default_scope == 'mmpretrain'


# 2. adjust_hue --------------------------------------------------------------
@pytest.fixture
def image():
    return (np.random.RandomState(0).rand(16, 16, 3) * 255).astype(np.uint8)


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
    assert compat.hue_shift(factor) == shift


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('factor', [0.0, 0.2, 0.5])
def test_adjust_hue_unchanged_for_positive_factors(image, backend, factor):
    unpatched = load_unpatched('mmcv.image.photometric')
    expected = unpatched.adjust_hue(image, factor, backend=backend)
    np.testing.assert_array_equal(
        compat.adjust_hue(image, factor, backend=backend), expected)


def test_negative_hue_shift_rotates_the_hue_channel(image):
    import mmcv
    assert mmcv.adjust_hue is compat.adjust_hue
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


# 3. torch.load(weights_only=True) ------------------------------------------
def message_hub_checkpoint():
    """What mmengine's runner saves besides the weights, as bytes."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('iter', 3)
    buffer = io.BytesIO()
    torch.save(
        dict(
            meta=dict(seed=np.int64(7), hist=np.arange(3.0)),
            message_hub=hub.state_dict(),
            state_dict=dict(w=torch.ones(2))), buffer)
    return buffer.getvalue()


def test_unpatched_weights_only_load_rejects_message_hub():
    data = message_hub_checkpoint()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError,
                           match='Unsupported global'):
            torch.load(io.BytesIO(data), weights_only=True)
    finally:
        compat.allow_checkpoint_types()


def test_weights_only_load_restores_message_hub():
    loaded = torch.load(io.BytesIO(message_hub_checkpoint()),
                        weights_only=True)
    loss = loaded['message_hub']['log_scalars']['train/loss']
    assert loss.mean() == pytest.approx(0.375)
    assert loss.current() == 0.25
    assert loaded['meta']['seed'] == 7
    np.testing.assert_array_equal(loaded['meta']['hist'], [0.0, 1.0, 2.0])


def test_weights_only_load_in_a_fresh_process(monkeypatch):
    # mmengine registers the default statistics only when a HistoryBuffer
    # is first built, which a process that just loads has not done.
    from mmengine.logging import HistoryBuffer
    data = message_hub_checkpoint()
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    loaded = torch.load(io.BytesIO(data), weights_only=True)
    assert loaded['message_hub']['log_scalars']['train/loss'].max() == 0.5


class RunsCode:
    """Unpickling this calls os.system, as a malicious checkpoint would."""

    def __reduce__(self):
        import os
        return os.system, ('echo pwned',)


class GetattrEscape:
    """Reaches a process-spawning method through builtins.getattr."""

    def __reduce__(self):
        import subprocess
        return getattr, (subprocess.Popen, '__init__')


@pytest.mark.parametrize('payload', [RunsCode(), GetattrEscape()])
def test_checkpoint_that_runs_code_is_refused(payload):
    buffer = io.BytesIO()
    torch.save(dict(state_dict={}, evil=payload), buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer, weights_only=True)


def test_restricted_getattr_allows_only_history_buffer_statistics():
    from mmengine.logging import HistoryBuffer
    assert compat.history_buffer_getattr(HistoryBuffer,
                                         'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        compat.history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        compat.history_buffer_getattr(sys, 'exit')


# 5. collate_fn of configs inherited from mmpretrain:: bases -----------------
@pytest.fixture
def simclr_loader_cfg(tmp_path, imagenet_root):
    """mmpretrain's own SimCLR ImageNet loader, as a user inherits it."""
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(
        "_base_ = 'mmpretrain::simclr/"
        "simclr_resnet50_16xb256-coslr-200e_in1k.py'\n")
    loader = Config.fromfile(str(cfg_file)).train_dataloader
    assert loader.collate_fn == dict(type='default_collate',
                                     _scope_='mmpretrain')
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(imagenet_root)
    return loader


def test_unpatched_build_dataloader_passes_scope_to_collate_fn(
        simclr_loader_cfg):
    from mmengine.runner import Runner
    unpatched = Runner.build_dataloader.__wrapped__
    loader = unpatched(simclr_loader_cfg)
    with pytest.raises(TypeError, match="unexpected keyword argument "
                       "'_scope_'"):
        next(iter(loader))


def test_dataloader_of_mmpretrain_base_collates(simclr_loader_cfg):
    from mmengine.runner import Runner
    batch = next(iter(Runner.build_dataloader(simclr_loader_cfg)))
    views = batch['inputs']
    assert [v.shape for v in views] == [(2, 3, 224, 224)] * 2
    assert len(batch['data_samples']) == 2


def test_scoped_collate_fn_of_unknown_type_is_named():
    from mmengine.runner import Runner
    loader = dict(dataset=[0, 1], batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='no_such_collate',
                                  _scope_='mmpretrain'))
    with pytest.raises(KeyError, match="'no_such_collate' is not in the "
                       'mmpretrain::function registry'):
        Runner.build_dataloader(loader)

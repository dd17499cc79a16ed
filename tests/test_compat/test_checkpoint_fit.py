"""mmengine's ``load_checkpoint`` (mmengine <= 0.10.7, behind mmpretrain's
get_model, FeatureExtractor and inferencers): unfixed it leaves a model
random behind a log line when the file does not fit; fixed, a backbone's
weights go under the model's backbone and a file that does not fit is
refused, naming it."""
import mmengine.runner
import pytest
import torch
from mmpretrain.registry import MODELS
from toolkit import tiny_nnclr_cfg

import nnclr_mm  # noqa: F401
from nnclr_mm._compat import checkpoint_fit

pytestmark = pytest.mark.skipif(not checkpoint_fit.needed(),
                                reason='a fixed mmengine: not fixed')


def trained_backbone(tmp_path):
    """A ResNet-18's state dict alone (``publish --backbone-only``), saved,
    and the state it holds."""
    torch.manual_seed(1)
    backbone = MODELS.build(tiny_nnclr_cfg()).backbone
    state = backbone.state_dict()
    path = tmp_path / 'backbone.pth'
    torch.save(state, path)
    return str(path), state


def load_checkpoint(*args, **kwargs):
    """mmengine's loader as the APIs look it up, after the plugin's fixes."""
    return mmengine.runner.load_checkpoint(*args, **kwargs)


def assert_holds(module, state):
    for name, value in module.state_dict().items():
        assert torch.equal(value, state[name]), name


def test_unfixed_a_backbone_alone_leaves_the_model_random(tmp_path):
    path, state = trained_backbone(tmp_path)
    model = MODELS.build(tiny_nnclr_cfg())
    mmengine.runner.load_checkpoint.__wrapped__(model, path,
                                                map_location='cpu')
    assert not torch.equal(model.backbone.conv1.weight, state['conv1.weight'])


def test_a_backbone_alone_loads_into_the_backbone(tmp_path, capfd):
    path, state = trained_backbone(tmp_path)
    model = MODELS.build(tiny_nnclr_cfg())
    load_checkpoint(model, path, map_location='cpu')
    assert_holds(model.backbone, state)
    # The neck, head and bank keep theirs, and the log says so once.
    total = len(model.state_dict())
    out = capfd.readouterr().out
    assert f'loaded {len(state)} of the {total} tensors of NNCLR from ' \
        f'{path}; the others keep their initialisation' in out
    assert 'missing keys in source state_dict' not in out  # mmengine's list


def test_a_model_s_backbone_loads_into_a_retriever(tmp_path):
    _, state = trained_backbone(tmp_path)
    path = tmp_path / 'nnclr.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in state.items()}), path)
    retriever = MODELS.build(dict(
        type='ImageToImageRetriever', prototype=dict(),
        image_encoder=[dict(type='ResNet', depth=18),
                       dict(type='GlobalAveragePooling')]))
    load_checkpoint(retriever, str(path), map_location='cpu')
    assert_holds(retriever.image_encoder[0], state)


def test_another_model_s_file_is_refused_naming_it(tmp_path):
    path = tmp_path / 'resnet50.pth'
    torch.save(MODELS.build(dict(type='ResNet', depth=50)).state_dict(), path)
    model = MODELS.build(tiny_nnclr_cfg())
    before = model.backbone.conv1.weight.clone()
    with pytest.raises(ValueError, match=rf'{path} does not fit NNCLR: '
                       r'0.0% of its parameters match by name and shape'):
        load_checkpoint(model, str(path), map_location='cpu')
    assert torch.equal(model.backbone.conv1.weight, before)


def test_load_from_another_model_is_refused_before_training(tmp_path):
    # A ResNet-50 checkpoint given to a ResNet-18 config's load_from.
    from mmengine.runner import Runner
    path = tmp_path / 'resnet50_nnclr.pth'
    torch.save(dict(state_dict={
        f'backbone.{k}': v for k, v in MODELS.build(
            dict(type='ResNet', depth=50)).state_dict().items()}), path)
    runner = Runner(model=tiny_nnclr_cfg(), work_dir=str(tmp_path / 'w'),
                    default_scope='nnclr_mm')
    # The names largely coincide: ResNet-50's middle 3x3 convolutions
    # have ResNet-18's second ones' shapes; their first ones do not.
    with pytest.raises(ValueError, match=rf'{path} does not fit NNCLR: '
                       r'56.0% of its parameters match by name and shape '
                       r'\(at least 50% must\), 43.6% have their name but '
                       r'another shape \(at most 10% may\)'):
        runner.load_checkpoint(str(path))
    # The unfixed method loads what matches and trains on.
    unfixed = Runner.load_checkpoint.__wrapped__
    unfixed(runner, str(path))

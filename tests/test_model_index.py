"""The NNCLR configs in mmpretrain's model index, as mim and
``mmpretrain.list_models`` read it."""
import os.path as osp

import mmpretrain
import pytest
import yaml
from mmengine.config import Config
from mmpretrain.registry import MODELS

import nnclr_mm

MIM_DIR = osp.join(nnclr_mm.__path__[0], '.mim')


def metafile_models():
    with open(osp.join(MIM_DIR, 'model-index.yml')) as f:
        (metafile, ) = yaml.safe_load(f)['Import']
    with open(osp.join(MIM_DIR, metafile)) as f:
        return yaml.safe_load(f)['Models']


def test_list_models_finds_every_nnclr_config():
    names = {m['Name'] for m in metafile_models()}
    assert set(mmpretrain.list_models('*nnclr*')) == names
    configs = {osp.basename(m['Config']) for m in metafile_models()}
    assert {
        'nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py',
        'nnclr_resnet18_1xb256-sgd-10e_cifar10-lightly.py',
        'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py',
        'nnclr_resnet18_1xb256-coslr-30e_fashion-mnist.py'
    } <= configs


@pytest.mark.parametrize('model', metafile_models(), ids=lambda m: m['Name'])
def test_metafile_entry_matches_its_config(model):
    # No weights are published, so no entry may point at a download.
    assert 'Weights' not in model
    cfg = Config.fromfile(osp.join(MIM_DIR, model['Config']))
    if 'init_cfg' in cfg.model.backbone:  # a probe's SSL checkpoint
        cfg.model.backbone.init_cfg = None
    built = MODELS.build(cfg.model)
    assert sum(p.numel() for p in built.parameters()) == \
        model['Metadata']['Parameters']
    assert cfg.train_dataloader.batch_size * (
        8 if '8xb' in model['Name'] else 1) == model['Metadata']['Batch Size']
    assert cfg.train_cfg.max_epochs == model['Metadata']['Epochs']
    for result in model.get('Results') or []:
        for value in result['Metrics'].values():
            assert isinstance(value, float) and 0 < value <= 100


def test_get_model_builds_an_nnclr_config_by_name():
    model = mmpretrain.get_model(
        'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist')
    assert type(model).__name__ == 'NNCLR'
    assert model.memory_bank.bank.shape == (4096, 128)

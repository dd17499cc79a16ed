"""The plugin's configs (NNCLR, NNBYOL, NNSiam) in mmpretrain's model
index, as mim and ``mmpretrain.list_models`` read it."""
import os.path as osp
import re

import mmpretrain
import pytest
import yaml
from mmengine.config import Config
from mmpretrain.registry import MODELS

import nnclr_mm

MIM_DIR = osp.join(nnclr_mm.__path__[0], '.mim')


def metafile_models(collection=None):
    """The models of every imported metafile, or of ``collection``'s."""
    with open(osp.join(MIM_DIR, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    models = []
    for metafile in metafiles:
        with open(osp.join(MIM_DIR, metafile)) as f:
            models += yaml.safe_load(f)['Models']
    return [m for m in models
            if collection in (None, m['In Collection'])]


def test_every_method_folder_is_in_the_index():
    collections = {m['In Collection'] for m in metafile_models()}
    assert collections == {'NNCLR', 'NNBYOL', 'NNSiam'}


@pytest.mark.parametrize('collection', ['NNBYOL', 'NNSiam'])
def test_list_models_finds_the_variants(collection):
    names = {m['Name'] for m in metafile_models(collection)}
    assert set(mmpretrain.list_models(f'{collection.lower()}*')) == names
    assert len(names) == 2


def test_list_models_finds_every_nnclr_config():
    names = {m['Name'] for m in metafile_models('NNCLR')}
    assert set(mmpretrain.list_models('*nnclr*')) == names
    configs = {osp.basename(m['Config']) for m in metafile_models('NNCLR')}
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
    if 'init_cfg' in cfg.model.get('backbone', {}):  # a probe's SSL ckpt
        cfg.model.backbone.init_cfg = None
    built = MODELS.build(cfg.model)
    assert sum(p.numel() for p in built.parameters()) == \
        model['Metadata']['Parameters']
    if 'retrieval' in model['Name']:  # trains nothing
        assert 'Epochs' not in model['Metadata']
        return
    devices = int(re.search(r'[_-](\d+)xb\d+', model['Name']).group(1))
    assert cfg.train_dataloader.batch_size * devices == \
        model['Metadata']['Batch Size']
    assert cfg.train_cfg.max_epochs == model['Metadata']['Epochs']
    for result in model.get('Results') or []:
        for value in result['Metrics'].values():
            assert isinstance(value, float) and 0 < value <= 100


def test_downstream_entries_exist():
    names = {m['Name'] for m in metafile_models()}
    for model in metafile_models():
        assert set(model.get('Downstream', [])) <= names, model['Name']


def test_get_model_builds_an_nnclr_config_by_name():
    model = mmpretrain.get_model(
        'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist')
    assert type(model).__name__ == 'NNCLR'
    assert model.memory_bank.bank.shape == (4096, 128)

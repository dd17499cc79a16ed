"""``collate_fn`` of configs inherited from ``mmpretrain::`` bases (mmengine
<= 0.10.7): unfixed passes ``_scope_`` to the function, fixed resolves it."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from nnclr_mm._compat import collate_scope

broken_upstream = pytest.mark.skipif(
    not collate_scope.needed(), reason='a fixed mmengine: not fixed')


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


@broken_upstream
def test_unpatched_build_dataloader_passes_scope_to_collate_fn(
        simclr_loader_cfg):
    unpatched = Runner.build_dataloader.__wrapped__
    loader = unpatched(simclr_loader_cfg)
    with pytest.raises(TypeError, match="unexpected keyword argument "
                       "'_scope_'"):
        next(iter(loader))


@broken_upstream
def test_dataloader_of_mmpretrain_base_collates(simclr_loader_cfg, capfd):
    batch = next(iter(Runner.build_dataloader(simclr_loader_cfg)))
    views = batch['inputs']
    assert [v.shape for v in views] == [(2, 3, 224, 224)] * 2
    assert len(batch['data_samples']) == 2
    # mmpretrain has no function registry: mmengine's serves, silently.
    assert 'Failed to search registry' not in capfd.readouterr().out


@broken_upstream
def test_scoped_collate_fn_of_unknown_type_is_named():
    loader = dict(dataset=[0, 1], batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='no_such_collate',
                                  _scope_='mmpretrain'))
    with pytest.raises(KeyError, match="'no_such_collate' is not in the "
                       'mmpretrain::function registry'):
        Runner.build_dataloader(loader)


@broken_upstream
def test_fixing_twice_wraps_once():
    build = Runner.build_dataloader
    collate_scope.fix_collate_fn_scope()
    assert Runner.build_dataloader is build

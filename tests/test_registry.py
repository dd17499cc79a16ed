import json
import subprocess
import sys

import pytest

SNAPSHOT = '''
import json, sys
from mmpretrain.utils import register_all_modules
register_all_modules(init_default_scope=False)
from mmpretrain import registry
if sys.argv[1] == 'with_plugin':
    import nnclr_mm  # noqa: F401
def ident(obj):
    obj = getattr(obj, 'func', obj)  # functools.partial wrappers
    return f'{obj.__module__}.{obj.__qualname__}'
snapshot = {}
for name in dir(registry):
    reg = getattr(registry, name)
    if type(reg).__name__ == 'Registry':
        snapshot[name] = {k: ident(v) for k, v in reg.module_dict.items()}
print(json.dumps(snapshot))
'''


def snapshot(mode):
    # A fresh interpreter each, so that nothing registered here leaks in.
    out = subprocess.run([sys.executable, '-c', SNAPSHOT, mode],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_plugin_keeps_every_mmpretrain_name_and_adds_its_own():
    before = snapshot('alone')
    after = snapshot('with_plugin')
    assert sum(len(names) for names in before.values()) > 500
    for registry_name, names in before.items():
        for name, target in names.items():
            assert after[registry_name].get(name) == target, (registry_name,
                                                              name)
    added = {
        (reg, name)
        for reg, names in after.items() for name in names
        if name not in before[reg]
    }
    assert added == {('MODELS', 'NNCLR'), ('MODELS', 'NNBYOL'),
                     ('MODELS', 'NNSiam'), ('MODELS', 'NNCLRNeck'),
                     ('MODELS', 'NNCLRHead'), ('MODELS', 'NNCLRLoss'),
                     ('MODELS', 'NNMemoryBank'),
                     ('MODELS', 'DeviceAugDataPreprocessor'),
                     ('HOOKS', 'NNMemoryBankHook'),
                     ('HOOKS', 'RNGStateHook'),
                     ('HOOKS', 'InvalidLossHook'),
                     ('HOOKS', 'ResumeLRHook'),
                     ('HOOKS', 'PreemptionCheckpointHook'),
                     ('DATASETS', 'OfflineFashionMNIST'),
                     ('LOOPS', 'KNNValLoop'),
                     ('LOOPS', 'KNNTestLoop'),
                     ('TRANSFORMS', 'SafeLoadImageFromFile')}


def test_the_plugin_has_a_scope_under_every_mmpretrain_registry():
    from mmengine.registry import Registry
    from mmpretrain import registry as mmpretrain

    import nnclr_mm
    from nnclr_mm import registry
    parents = {name: reg for name, reg in vars(mmpretrain).items()
               if isinstance(reg, Registry) and reg.scope == 'mmpretrain'}
    assert len(parents) == 22
    for name, parent in parents.items():
        child = getattr(registry, name)
        assert (child.scope, child.parent) == ('nnclr_mm', parent), name
    # Its components live in its scope and, by name, in mmpretrain's.
    for name, module in [('MODELS', nnclr_mm.NNCLR),
                         ('MODELS', nnclr_mm.NNBYOL),
                         ('MODELS', nnclr_mm.NNMemoryBank),
                         ('HOOKS', nnclr_mm.RNGStateHook),
                         ('LOOPS', nnclr_mm.KNNValLoop),
                         ('DATASETS', nnclr_mm.OfflineFashionMNIST)]:
        ours = getattr(registry, name)
        assert ours.module_dict[module.__name__] is module
        assert parents[name].get(module.__name__) is module
        assert parents[name].get(f'nnclr_mm.{module.__name__}') is module


SCOPE_CONFIG = '''
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)
default_scope = {scope!r}
model = {model!r}
train_dataloader = dict(
    batch_size=4, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='OfflineFashionMNIST', indices=8, pipeline=[
        dict(type='MultiView', num_views=2, transforms=[[
            dict(type='RandomFlip', prob=0.5)]]),
        dict(type='PackInputs')]))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
custom_hooks = [dict(type='NNMemoryBankHook'), dict(type='RNGStateHook'),
                dict(type='InvalidLossHook'),
                dict(type='PreemptionCheckpointHook')]
visualizer = dict(type='UniversalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')])
'''


@pytest.mark.parametrize('scope', ['nnclr_mm', 'mmpretrain'])
def test_a_config_in_either_scope_builds_both_packages_parts(
        scope, tmp_path, capfd):
    # nnclr_mm's scope: its NNCLR, hooks and dataset, mmpretrain's ResNet,
    # MultiView, PackInputs and visualizer, mmengine's collate function.
    # mmpretrain's scope: the same config, nnclr_mm's parts by name.
    from mmengine.config import Config
    from mmengine.runner import Runner
    from toolkit import tiny_nnclr_cfg
    path = tmp_path / 'cfg.py'
    path.write_text(SCOPE_CONFIG.format(scope=scope, model=tiny_nnclr_cfg()))
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert type(runner.model).__name__ == 'NNCLR'
    assert {type(h).__name__ for h in runner.hooks} >= {
        'NNMemoryBankHook', 'RNGStateHook', 'InvalidLossHook',
        'PreemptionCheckpointHook'}
    assert 'Failed to search registry' not in capfd.readouterr().out

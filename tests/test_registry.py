import json
import subprocess
import sys

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
                     ('HOOKS', 'NNMemoryBankHook'),
                     ('HOOKS', 'RNGStateHook'),
                     ('HOOKS', 'InvalidLossHook'),
                     ('HOOKS', 'PreemptionCheckpointHook'),
                     ('DATASETS', 'OfflineFashionMNIST'),
                     ('LOOPS', 'KNNValLoop'),
                     ('LOOPS', 'KNNTestLoop'),
                     ('TRANSFORMS', 'SafeLoadImageFromFile')}

"""``--cfg-options`` typos are refused before anything is built, naming
the key meant; new keys merge after a notice."""
import pytest
from toolkit import QUICKSTART, load_config, run_tool_subprocess

from nnclr_mm.cli.cfg_options import edit_distance, new_keys


@pytest.mark.parametrize('a,b,expected', [
    ('kitten', 'sitting', 3), ('szie', 'size', 1), ('max_epoch',
                                                     'max_epochs', 1),
    ('ca', 'abc', 3),  # optimal string alignment, not full Damerau (2)
    ('', 'abc', 3), ('same', 'same', 0)])
def test_edit_distance_by_hand(a, b, expected):
    assert edit_distance(a, b) == edit_distance(b, a) == expected


@pytest.mark.parametrize('option,meant', [
    ('model.memory_bank.szie=4096', 'model.memory_bank.size'),
    ('train_cfg.max_epoch=3', 'train_cfg.max_epochs'),
])
def test_a_typo_is_refused_before_anything_is_built(tmp_path, option,
                                                     meant):
    work = tmp_path / 'work'
    done = run_tool_subprocess('train.py', QUICKSTART, '--work-dir', work,
                               '--cfg-options', option)
    assert done.returncode == 1
    typo = option.split('=')[0]
    assert (f'ValueError: --cfg-options {typo}: the config has no {typo} '
            f'but has {meant}; did you mean {meant}?') in done.stderr
    assert not work.exists()


def test_new_keys_are_listed_and_existing_ones_are_not():
    cfg = load_config(QUICKSTART)
    options = {'model.memory_bank.size': 1, 'model.memory_bank.extra': 2,
               'brand_new.key': 3, 'custom_hooks.0.warmup': 4,
               'val_cfg': None}
    assert new_keys(cfg, options) == ['model.memory_bank.extra',
                                      'brand_new.key']

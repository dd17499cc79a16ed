"""Helpers shared by the tests that run the tools and configs."""
import os.path as osp

from mmengine.config import Config

#: The repository root.
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Every dataloader a config may define.
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader',
           'val_cfg.bank_dataloader', 'test_cfg.bank_dataloader')


def tiny_options(config, data_root, batch_size=4, epochs=1):
    """``--cfg-options`` that point every loader of ``config`` at
    ``data_root`` with ``batch_size`` and no workers, for ``epochs``: the
    only overrides a test of a shipped config makes."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    options = []
    for loader in LOADERS:
        section, _, sub = loader.partition('.')
        if not (cfg.get(section) and (not sub or cfg[section].get(sub))):
            continue
        options += [
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.batch_size={batch_size}',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    if cfg.get('train_cfg'):
        options.append(f'train_cfg.max_epochs={epochs}')
    return options

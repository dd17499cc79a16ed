"""Long run (marked slow, not in CI): the quickstart trained for several
epochs with a stop and --resume after every epoch ends bit-identical to an
uninterrupted run. Run with `pytest -m slow -s` and record the output."""
import json
import os.path as osp
import runpy
import sys
import time

import pytest
import torch

import nnclr_mm  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
EPOCHS = 6
CONFIG = """
_base_ = '{root}/configs/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'
num_train = 2560
train_dataloader = dict(persistent_workers=False,
                        dataset=dict(indices=num_train))
val_dataloader = dict(dataset=dict(indices=1000))
val_cfg = dict(bank_dataloader=dict(dataset=dict(indices=num_train)))
max_epochs = {epochs}
train_cfg = dict(max_epochs={stop})
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=-1))
"""


def train(tmp_path, work_dir, stop, resume=None):
    config = tmp_path / f'stop_{stop}.py'
    config.write_text(CONFIG.format(root=ROOT, epochs=EPOCHS, stop=stop))
    argv = ['train.py', str(config), '--work-dir', str(work_dir)]
    if resume:
        argv += ['--resume', str(resume)]
    sys.argv = argv
    runpy.run_path(osp.join(ROOT, 'tools', 'train.py'), run_name='__main__')


@pytest.mark.slow
def test_repeated_resume_matches_an_uninterrupted_run(tmp_path):
    start = time.time()
    train(tmp_path, tmp_path / 'straight', EPOCHS)
    straight_s = time.time() - start
    start = time.time()
    resumed = tmp_path / 'resumed'
    train(tmp_path, resumed, 1)
    for stop in range(2, EPOCHS + 1):
        train(tmp_path, resumed, stop, resume=resumed / f'epoch_{stop-1}.pth')
    resumed_s = time.time() - start
    report = dict(epochs=EPOCHS, resumes=EPOCHS - 1,
                  straight_seconds=round(straight_s),
                  resumed_seconds=round(resumed_s), max_abs_diff={})
    for epoch in range(1, EPOCHS + 1):
        a = torch.load(tmp_path / 'straight' / f'epoch_{epoch}.pth',
                       weights_only=True)['state_dict']
        b = torch.load(resumed / f'epoch_{epoch}.pth',
                       weights_only=True)['state_dict']
        report['max_abs_diff'][epoch] = max(
            (a[k].double() - b[k].double()).abs().max().item() for k in a)
    print(json.dumps(report, indent=1))
    assert all(d == 0.0 for d in report['max_abs_diff'].values()), report

"""Long run (marked slow, not in CI): the quickstart trained for several
epochs with a stop and --resume after every epoch ends bit-identical to an
uninterrupted run. Run with `pytest -m slow -s` and record the output."""
import json
import time

import pytest
import torch
from toolkit import QUICKSTART, load_config, write_config

import nnclr_mm  # noqa: F401

EPOCHS = 6
NUM_TRAIN = 2560


def train(run_tool, tmp_path, work_dir, stop, resume=None):
    cfg = load_config(
        QUICKSTART,
        num_train=NUM_TRAIN,
        train_dataloader=dict(persistent_workers=False,
                              dataset=dict(indices=NUM_TRAIN)),
        val_dataloader=dict(dataset=dict(indices=1000)),
        val_cfg=dict(bank_dataloader=dict(dataset=dict(indices=NUM_TRAIN))),
        max_epochs=EPOCHS,
        train_cfg=dict(max_epochs=stop),
        param_scheduler=[
            dict(type='CosineAnnealingLR', T_max=EPOCHS, by_epoch=True,
                 begin=0, end=EPOCHS, convert_to_iter_based=True)
        ],
        default_hooks=dict(checkpoint=dict(max_keep_ckpts=-1)))
    config = write_config(cfg, tmp_path / f'stop_{stop}.py')
    resume_args = ['--resume', resume] if resume else []
    run_tool('train.py', config, '--work-dir', work_dir, *resume_args)


@pytest.mark.slow
def test_repeated_resume_matches_an_uninterrupted_run(tmp_path, run_tool):
    start = time.time()
    train(run_tool, tmp_path, tmp_path / 'straight', EPOCHS)
    straight_s = time.time() - start
    start = time.time()
    resumed = tmp_path / 'resumed'
    train(run_tool, tmp_path, resumed, 1)
    for stop in range(2, EPOCHS + 1):
        train(run_tool, tmp_path, resumed, stop,
              resume=resumed / f'epoch_{stop-1}.pth')
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

"""Stop at k, resume to N: the same as training N without a stop."""
import pytest
import torch
from toolkit import NO_VALIDATION, QUICKSTART, tiny_config, write_config

import nnclr_mm  # noqa: F401  (checkpoint allow-list)

# (total, stop) in iterations or epochs; an epoch is 8 iterations.
LENGTHS = dict(iter=(6, 3), epoch=(2, 1))


def loop_options(loop, n):
    """Overrides for ``n`` iterations or ``n`` epochs of a 6-iteration or
    2-epoch cosine schedule."""
    if loop == 'iter':
        return dict(
            train_dataloader=dict(
                sampler=dict(type='InfiniteSampler', shuffle=True)),
            train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                           max_iters=n),
            param_scheduler=[
                dict(type='CosineAnnealingLR', T_max=6, by_epoch=False,
                     begin=0, end=6)
            ],
            default_hooks=dict(checkpoint=dict(by_epoch=False, interval=3)))
    return dict(
        train_cfg=dict(max_epochs=n, val_interval=1000),
        param_scheduler=[
            dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0,
                 end=2, convert_to_iter_based=True)
        ])


def train(run_tool, tmp_path, work_dir, loop, n, workers, rng_hook,
          resume=None):
    rng_hooks = [dict(type='RNGStateHook')] if rng_hook else []
    cfg = tiny_config(
        QUICKSTART, batch_size=32, **NO_VALIDATION,
        train_dataloader=dict(num_workers=workers,
                              dataset=dict(indices=256)),
        model=dict(memory_bank=dict(size=128)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=32)] + rng_hooks)
    cfg.merge_from_dict(loop_options(loop, n))
    config = write_config(cfg, tmp_path / f'{loop}_{n}.py')
    resume_args = ['--resume', resume] if resume else []
    run_tool('train.py', config, '--work-dir', work_dir, *resume_args)
    return work_dir / f'{loop}_{n}.pth'


def uninterrupted_and_resumed(run_tool, tmp_path, loop, workers,
                              rng_hook=True):
    total, stop = LENGTHS[loop]
    straight = train(run_tool, tmp_path, tmp_path / 'straight', loop, total,
                     workers, rng_hook)
    stopped = train(run_tool, tmp_path, tmp_path / 'resumed', loop, stop,
                    workers, rng_hook)
    resumed = train(run_tool, tmp_path, tmp_path / 'resumed', loop, total,
                    workers, rng_hook, resume=stopped)
    return (torch.load(straight, weights_only=True),
            torch.load(resumed, weights_only=True))


@pytest.mark.parametrize('loop, workers', [('iter', 0), ('epoch', 0),
                                           ('epoch', 2)])
def test_resume_is_bit_identical(run_tool, tmp_path, loop, workers):
    straight, resumed = uninterrupted_and_resumed(run_tool, tmp_path, loop,
                                                  workers)
    assert straight['meta']['iter'] == resumed['meta']['iter']
    # Weights, BN statistics, and the support set: bank, pointer, fill
    # count and labels.
    state = straight['state_dict']
    assert state.keys() == resumed['state_dict'].keys()
    assert 'memory_bank.bank' in state and 'memory_bank.ptr' in state
    for name, value in state.items():
        assert torch.equal(value, resumed['state_dict'][name]), name
    # Optimizer (SGD momentum) and LR schedule.
    buffers = straight['optimizer']['state']
    for idx, slot in buffers.items():
        assert torch.equal(
            slot['momentum_buffer'],
            resumed['optimizer']['state'][idx]['momentum_buffer']), idx
    assert straight['param_schedulers'] == resumed['param_schedulers']
    assert straight['optimizer']['param_groups'][0]['lr'] == \
        resumed['optimizer']['param_groups'][0]['lr']


def test_without_rng_state_a_resume_diverges(run_tool, tmp_path):
    # The control: mmengine alone re-seeds on resume, so the augmentations
    # drawn in the main process (num_workers=0) change after the resume.
    straight, resumed = uninterrupted_and_resumed(
        run_tool, tmp_path, 'epoch', 0, rng_hook=False)
    assert not torch.equal(straight['state_dict']['memory_bank.bank'],
                           resumed['state_dict']['memory_bank.bank'])

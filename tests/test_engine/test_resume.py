"""Stop at k, resume to N: the same as training N without a stop."""
import copy
import os
import signal

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS
from toolkit import (
    DEVICE_AUG,
    NNBYOL,
    NNSIAM,
    NO_VALIDATION,
    QUICKSTART,
    assert_identical,
    load_config,
    tiny_config,
    write_config,
)

import nnclr_mm  # noqa: F401  (checkpoint allow-list)

# (total, stop) in iterations or epochs; an epoch is 8 iterations.
LENGTHS = dict(iter=(6, 3), epoch=(2, 1))


def loop_options(loop, n, validate=False):
    """Overrides for ``n`` iterations or ``n`` epochs of a 6-iteration or
    2-epoch cosine schedule; validation, if on, after the stop."""
    if loop == 'iter':
        return dict(
            train_dataloader=dict(
                sampler=dict(type='InfiniteSampler', shuffle=True)),
            train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                           max_iters=n, val_interval=3 if validate else n),
            param_scheduler=[
                dict(type='CosineAnnealingLR', T_max=6, by_epoch=False,
                     begin=0, end=6)
            ],
            default_hooks=dict(checkpoint=dict(by_epoch=False, interval=3)))
    return dict(
        train_cfg=dict(max_epochs=n, val_interval=1 if validate else 1000),
        param_scheduler=[
            dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0,
                 end=2, convert_to_iter_based=True)
        ])


def small_config(loop, n, workers, rng_hook=True, validate=False, topk=1,
                 config=QUICKSTART, deterministic=False):
    """``config`` on 256 images in batches of 32 for ``n`` iterations or
    epochs of :func:`loop_options`, its bank 128 entries; ``deterministic``
    kernels as GPU runs need them for an exact resume."""
    # The config's own hooks (SimSiam's fixed predictor lr among them), the
    # warm-up shortened to the small bank's scale.
    hooks = [
        dict(hook, warmup=32) if hook['type'] == 'NNMemoryBankHook' else hook
        for hook in load_config(config).custom_hooks
        if rng_hook or hook['type'] != 'RNGStateHook'
    ]
    # kNN validation on 64 test images, 256 training images voting.
    validation = dict(
        val_dataloader=dict(dataset=dict(indices=64)),
        val_cfg=dict(bank_dataloader=dict(dataset=dict(indices=256)))
    ) if validate else NO_VALIDATION
    cfg = tiny_config(
        config, batch_size=32, **validation,
        train_dataloader=dict(num_workers=workers,
                              dataset=dict(indices=256)),
        model=dict(memory_bank=dict(size=128, topk=topk)),
        custom_hooks=hooks)
    cfg.merge_from_dict(loop_options(loop, n, validate))
    if deterministic:
        cfg.merge_from_dict(dict(
            randomness=dict(deterministic=True),
            env_cfg=dict(cudnn_benchmark=False)))
    return cfg


def train(run_tool, tmp_path, work_dir, loop, n, workers, rng_hook,
          resume=None, **options):
    cfg = small_config(loop, n, workers, rng_hook, **options)
    config = write_config(cfg, tmp_path / f'{loop}_{n}.py')
    resume_args = ['--resume', resume] if resume else []
    run_tool('train.py', config, '--work-dir', work_dir, *resume_args)
    return work_dir / f'{loop}_{n}.pth'


def uninterrupted_and_resumed(run_tool, tmp_path, loop, workers,
                              rng_hook=True, **options):
    total, stop = LENGTHS[loop]
    straight = train(run_tool, tmp_path, tmp_path / 'straight', loop, total,
                     workers, rng_hook, **options)
    stopped = train(run_tool, tmp_path, tmp_path / 'resumed', loop, stop,
                    workers, rng_hook, **options)
    resumed = train(run_tool, tmp_path, tmp_path / 'resumed', loop, total,
                    workers, rng_hook, resume=stopped, **options)
    return (torch.load(straight, weights_only=True),
            torch.load(resumed, weights_only=True))


@pytest.fixture
def runner_device(device, monkeypatch):
    """Train on ``device``: mmengine's runner takes the GPU when there is
    one, so the CPU case is forced there too."""
    monkeypatch.setattr('mmengine.runner.runner.get_device',
                        lambda: device.type)
    return device


@pytest.mark.parametrize('loop, workers, deterministic', [
    ('iter', 0, False), ('epoch', 0, False), ('epoch', 2, False),
    ('iter', 0, True)])
def test_resume_is_bit_identical(run_tool, tmp_path, loop, workers,
                                 deterministic, runner_device):
    if runner_device.type == 'cuda' and not deterministic:
        pytest.skip('GPU runs repeat exactly with deterministic kernels only')
    straight, resumed = uninterrupted_and_resumed(
        run_tool, tmp_path, loop, workers, deterministic=deterministic)
    assert_identical(straight, resumed)


@pytest.mark.parametrize('config', [NNBYOL, NNSIAM])
def test_nn_variant_resume_is_bit_identical(tmp_path, config):
    # BYOL's target network and its momentum schedule, SimSiam's fixed
    # predictor lr, and the support set, all restored. BYOL's momentum
    # follows the run's max_iters, so the stop is a SIGTERM in a 6-iteration
    # run, not a 3-iteration run.
    cfg = small_config('iter', 6, workers=0, config=config)
    runs = {}
    for run in ('straight', 'stopped', 'resumed'):
        runs[run] = copy.deepcopy(cfg)
        runs[run].merge_from_dict(dict(
            experiment_name=run,
            work_dir=str(tmp_path / ('straight' if run == 'straight' else
                                     'resumed'))))
    runs['stopped'].custom_hooks.append(
        dict(type='SigtermAtIterationHook', at=3))
    runs['resumed'].resume = True
    Runner.from_cfg(runs['straight']).train()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit):
            Runner.from_cfg(runs['stopped']).train()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (tmp_path / 'resumed' / 'last_checkpoint').read_text().endswith(
        'iter_3.pth')
    Runner.from_cfg(runs['resumed']).train()
    straight, resumed = (
        torch.load(tmp_path / run / 'iter_6.pth', weights_only=True)
        for run in ('straight', 'resumed'))
    assert_identical(straight, resumed)


def test_without_rng_state_a_resume_diverges(run_tool, tmp_path):
    # The control: mmengine alone re-seeds on resume, so the augmentations
    # drawn in the main process (num_workers=0) change after the resume.
    straight, resumed = uninterrupted_and_resumed(
        run_tool, tmp_path, 'epoch', 0, rng_hook=False)
    assert not torch.equal(straight['state_dict']['memory_bank.bank'],
                           resumed['state_dict']['memory_bank.bank'])


@pytest.mark.parametrize('loop, topk', [('iter', 1), ('iter', 2),
                                        ('epoch', 1), ('epoch', 2)])
def test_resume_with_validation_is_bit_identical(run_tool, tmp_path, loop,
                                                 topk):
    # The stop's checkpoint is written before its kNN validation: the
    # resumed run runs that validation first, drawing the same random
    # numbers as the uninterrupted run (topk > 1 draws in the bank too).
    straight, resumed = uninterrupted_and_resumed(
        run_tool, tmp_path, loop, 0, validate=True, topk=topk)
    assert_identical(straight, resumed)


def knn_validations(work_dir):
    """The kNN top-1 of every validation logged under ``work_dir``."""
    import json
    return [
        record['knn_top1'] for path in sorted(work_dir.glob('*/vis_data/'
                                                            'scalars.json'))
        for record in map(json.loads, path.read_text().splitlines())
        if 'knn_top1' in record
    ]


def test_resume_runs_the_validation_the_stop_skipped(run_tool, tmp_path):
    uninterrupted_and_resumed(run_tool, tmp_path, 'iter', 0, validate=True)
    straight = knn_validations(tmp_path / 'straight')  # at 3 and 6
    resumed = knn_validations(tmp_path / 'resumed')  # 3; 3 again, 6
    assert len(straight) == 2 and len(resumed) == 3
    assert resumed[1:] == straight


@HOOKS.register_module(force=True)
class SigtermAtIterationHook(Hook):
    """Send this process SIGTERM during iteration ``at`` (1-based)."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_at_a_validation_iteration_loses_no_evaluation(tmp_path):
    previous = signal.getsignal(signal.SIGTERM)
    cfg = tiny_config(
        QUICKSTART, batch_size=32,
        train_dataloader=dict(dataset=dict(indices=256)),
        val_dataloader=dict(dataset=dict(indices=64)),
        val_cfg=dict(bank_dataloader=dict(dataset=dict(indices=256))),
        model=dict(memory_bank=dict(size=128)), work_dir=str(tmp_path))
    cfg.merge_from_dict(loop_options('iter', 6, validate=True))
    cfg.custom_hooks = [
        dict(type='NNMemoryBankHook', warmup=32), dict(type='RNGStateHook'),
        dict(type='PreemptionCheckpointHook')
    ]
    stopped = copy.deepcopy(cfg)
    stopped.custom_hooks.append(dict(type='SigtermAtIterationHook', at=3))
    try:
        with pytest.raises(SystemExit):
            Runner.from_cfg(stopped).train()  # stops before validating 3
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_3.pth')
    assert knn_validations(tmp_path) == []
    cfg.resume = True
    Runner.from_cfg(cfg).train()
    assert len(knn_validations(tmp_path)) == 2  # at 3 and at 6


@pytest.fixture(scope='module')
def mid_epoch_run(run_tool, tmp_path_factory):
    """Epochs of 8 batches with a checkpoint every 4, run through: its
    config and work dir. topk=2 draws from torch's generator in the bank,
    so a resume must restore that state after the dataloader's seed is
    drawn, as the uninterrupted run had."""
    folder = tmp_path_factory.mktemp('mid_epoch')
    cfg = small_config('epoch', 2, workers=0, topk=2)
    cfg.merge_from_dict(dict(default_hooks=dict(checkpoint=dict(
        by_epoch=False, interval=4, max_keep_ckpts=-1))))
    config = write_config(cfg, folder / 'mid.py')
    run_tool('train.py', config, '--work-dir', folder / 'straight')
    return config, folder / 'straight'


@pytest.mark.parametrize('stop', [8, 12])
def test_a_mid_epoch_checkpoint_resumes_mid_epoch(run_tool, tmp_path,
                                                  mid_epoch_run, stop):
    # iter_12 is half-way through epoch 2; iter_8, written after epoch 1's
    # last batch, resumes into an empty rest of that epoch.
    config, straight = mid_epoch_run
    resumed = tmp_path / 'resumed'
    run_tool('train.py', config, '--work-dir', resumed, '--resume',
             straight / f'iter_{stop}.pth')
    # The resumed run trains the rest of the epoch, not the whole epoch
    # again: it ends at iteration 16 as the uninterrupted run did.
    assert (resumed / 'last_checkpoint').read_text().endswith('iter_16.pth')
    assert_identical(*(torch.load(run / 'iter_16.pth', weights_only=True)
                       for run in (straight, resumed)))


@HOOKS.register_module(force=True)
class StopInValidationHook(Hook):
    """Stop the run, as a kill would, in the validation after iteration
    ``at``."""

    def __init__(self, at):
        self.at = at

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None):
        if runner.iter == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize('loop, iterations', [('epoch', 16), ('iter', 6)])
def test_a_stop_in_the_final_validation_is_made_good_on_resume(
        run_tool, tmp_path, loop, iterations):
    cfg = small_config(loop, LENGTHS[loop][0], workers=0, validate=True)
    config = write_config(cfg, tmp_path / 'cfg.py')
    straight, stopped = tmp_path / 'straight', tmp_path / 'stopped'
    run_tool('train.py', config, '--work-dir', straight)
    cfg.custom_hooks.append(dict(type='StopInValidationHook', at=iterations))
    with pytest.raises(KeyboardInterrupt):
        run_tool('train.py', write_config(cfg, tmp_path / 'killed.py'),
                 '--work-dir', stopped)
    finals = knn_validations(straight)
    assert len(finals) == 2 and knn_validations(stopped) == finals[:1]
    # Training is over; the resumed run gives the final evaluation.
    run_tool('train.py', config, '--work-dir', stopped, '--resume')
    assert knn_validations(stopped) == finals


def test_resume_with_device_augmentation_is_bit_identical(run_tool,
                                                          tmp_path):
    # The augmentation parameters come from torch's CPU generator, which
    # RNGStateHook restores.
    straight, resumed = uninterrupted_and_resumed(
        run_tool, tmp_path, 'epoch', 0, config=DEVICE_AUG)
    assert_identical(straight, resumed)

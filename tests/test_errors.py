"""Every mistake gives one clear message that names the culprit."""
import io
import os
import os.path as osp
import pickle
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from mmpretrain.registry import HOOKS
from PIL import Image
from toolkit import (
    NO_VALIDATION,
    QUICKSTART,
    ROOT,
    load_config,
    run_tool_subprocess,
    tiny_config,
    tool_command,
    write_config,
)

import nnclr_mm  # noqa: F401
from nnclr_mm.datasets import SafeLoadImageFromFile

#: The quickstart's training, iteration-based, on 128 images, with no
#: schedule and no validation.
ITERATIONS = dict(
    train_dataloader=dict(
        dataset=dict(indices=128),
        sampler=dict(type='InfiniteSampler', shuffle=True)),
    param_scheduler=None,
    **NO_VALIDATION)


def small_cfg(tmp_path, **model_bank):
    """The quickstart, iteration-based and small."""
    return tiny_config(
        QUICKSTART, batch_size=16, **ITERATIONS,
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4),
        default_hooks=dict(checkpoint=dict(
            _delete_=True, type='CheckpointHook', by_epoch=False, interval=1)),
        model=dict(memory_bank={'size': 64, **model_bank}),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=16)],
        work_dir=str(tmp_path / 'work'))


# -- config ---------------------------------------------------------------
def test_unknown_component_type_is_named(tmp_path):
    cfg = small_cfg(tmp_path)
    cfg.model.neck.type = 'NNCLRNek'
    with pytest.raises(KeyError, match='NNCLRNek is not in the'):
        Runner.from_cfg(cfg)


def test_bank_smaller_than_global_batch(tmp_path):
    cfg = small_cfg(tmp_path, size=8)
    cfg.custom_hooks = [dict(type='NNMemoryBankHook', warmup=0)]
    with pytest.raises(ValueError,
                       match=r'model.memory_bank.size \(8\) is smaller than '
                       r'the global batch \(train_dataloader.batch_size 16 '):
        Runner.from_cfg(cfg).train()


def test_feat_dim_different_from_the_neck(tmp_path):
    cfg = small_cfg(tmp_path, feat_dim=64)
    with pytest.raises(ValueError,
                       match=r'feat_dim \(64\) must equal the neck'):
        Runner.from_cfg(cfg)


@pytest.mark.parametrize('temperature', [0, -0.1])
def test_non_positive_temperature(tmp_path, temperature):
    cfg = small_cfg(tmp_path)
    cfg.model.head.loss.temperature = temperature
    with pytest.raises(ValueError, match='temperature must be > 0'):
        Runner.from_cfg(cfg)


def test_batch_size_one(tmp_path):
    cfg = small_cfg(tmp_path)
    cfg.train_dataloader.batch_size = 1
    with pytest.raises(ValueError, match='train_dataloader.batch_size is 1'):
        Runner.from_cfg(cfg).train()


def test_missing_dataset_path(tmp_path):
    cfg = small_cfg(tmp_path)
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'no_data')
    with pytest.raises(FileNotFoundError,
                       match=r"data_root='.*no_data'.*apt-get install"):
        Runner.from_cfg(cfg).train()


# -- data -----------------------------------------------------------------
@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.RandomState(0)
    folder = tmp_path / 'images' / 'cls'
    folder.mkdir(parents=True)
    Image.fromarray(rng.randint(0, 255, (20, 24, 3), np.uint8)).save(
        folder / 'rgb.png')
    Image.fromarray(rng.randint(0, 255, (20, 24), np.uint8)).save(
        folder / 'gray.png')
    Image.fromarray(rng.randint(0, 255, (20, 24, 4), np.uint8)).save(
        folder / 'rgba.png')
    buffer = io.BytesIO()
    Image.fromarray(rng.randint(0, 255, (64, 64, 3), np.uint8)).save(
        buffer, 'JPEG')
    (folder / 'truncated.jpg').write_bytes(buffer.getvalue()[:300])
    return folder


def file_names(dataset):
    return [
        osp.basename(dataset.get_data_info(i)['img_path'])
        for i in range(len(dataset))
    ]


def folder_dataset(folder, **load_args):
    from mmpretrain.datasets import CustomDataset
    return CustomDataset(
        data_root=str(folder.parent),
        pipeline=[dict(type='SafeLoadImageFromFile', **load_args)])


def test_corrupt_image_is_named(image_folder):
    dataset = folder_dataset(image_folder)
    names = file_names(dataset)
    with pytest.raises(ValueError,
                       match=r'cannot decode image file .*truncated\.jpg'):
        dataset[names.index('truncated.jpg')]


def test_corrupt_images_are_skipped_and_counted_on_request(image_folder):
    dataset = folder_dataset(image_folder, skip_corrupt=True)
    names = file_names(dataset)
    loader = dataset.pipeline.transforms[0]
    assert isinstance(loader, SafeLoadImageFromFile)
    # The corrupt file's index yields another, valid sample.
    sample = dataset[names.index('truncated.jpg')]
    assert osp.basename(sample['img_path']) != 'truncated.jpg'
    assert loader.num_skipped >= 1


def test_grayscale_and_rgba_load_as_rgb(image_folder):
    dataset = folder_dataset(image_folder, skip_corrupt=True)
    for index, name in enumerate(file_names(dataset)):
        if name.endswith('.png'):
            assert dataset[index]['img'].shape == (20, 24, 3)


def test_empty_folder_is_named(tmp_path):
    from mmpretrain.datasets import CustomDataset
    (tmp_path / 'empty').mkdir()
    with pytest.raises(RuntimeError, match=r'Found 0 files .*empty'):
        CustomDataset(data_root=str(tmp_path / 'empty'), pipeline=[])


# -- training ---------------------------------------------------------------
@HOOKS.register_module(force=True)
class PoisonWeightsHook(Hook):
    """Make the 3rd iteration's loss NaN."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 2:
            with torch.no_grad():
                runner.model.backbone.conv1.weight.fill_(float('nan'))


@HOOKS.register_module(force=True)
class OverflowWeightsHook(Hook):
    """Make the weights infinite after the 3rd iteration's step."""

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter == 2:
            with torch.no_grad():
                runner.model.backbone.conv1.weight.fill_(float('inf'))


@pytest.mark.parametrize('hook, says', [
    ('PoisonWeightsHook', r'loss is nan at iteration 3 '),
    ('OverflowWeightsHook', r'state_dict\.backbone\.conv1\.weight is not '
     r'finite \(the checkpoint is not written\) at iteration 3 '),
])
def test_a_stop_names_the_last_finite_checkpoint(tmp_path, hook, says):
    cfg = small_cfg(tmp_path)
    cfg.custom_hooks += [dict(type='InvalidLossHook'), dict(type=hook)]
    work = tmp_path / 'work'
    with pytest.raises(FloatingPointError,
                       match=says + r'.*last checkpoint before it is '
                       r'.*iter_2\.pth'):
        Runner.from_cfg(cfg).train()
    assert not (work / 'iter_3.pth').exists()
    state = torch.load(work / 'iter_2.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(v.float()).all() for v in state.values())


def test_overflowing_weights_are_never_checkpointed(tmp_path):
    # lr 1e38: the first loss is finite, the step overflows the weights.
    cfg = small_cfg(tmp_path)
    cfg.optim_wrapper.optimizer.lr = 1e38
    cfg.custom_hooks += [dict(type='InvalidLossHook')]
    work = tmp_path / 'work'
    with pytest.raises(FloatingPointError,
                       match=r'state_dict\..* is not finite \(the checkpoint '
                       r'is not written\) at iteration 1 \(epoch 0\).*no '
                       r'checkpoint was saved before'):
        Runner.from_cfg(cfg).train()
    assert not list(work.glob('*.pth'))


def test_resume_from_a_bank_of_another_size_is_refused(tmp_path):
    cfg = small_cfg(tmp_path)
    Runner.from_cfg(cfg).train()
    bigger = small_cfg(tmp_path, size=128)
    bigger.resume = True
    bigger.load_from = str(tmp_path / 'work' / 'iter_4.pth')
    with pytest.raises(ValueError,
                       match=r'bank has shape \(64, 128\).*model\'s is '
                       r'\(128, 128\)'):
        Runner.from_cfg(bigger).train()


class RunsCode:

    def __reduce__(self):
        return os.system, ('echo pwned > /dev/null', )


def test_checkpoint_that_runs_code_is_refused_on_resume(tmp_path):
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=dict(epoch=0, iter=0),
                    payload=RunsCode()), evil)
    cfg = small_cfg(tmp_path)
    cfg.resume = True
    cfg.load_from = str(evil)
    with pytest.raises(pickle.UnpicklingError,
                       match=r'refusing to load checkpoint .*evil\.pth: .*'
                       r'GLOBAL posix\.system'):
        Runner.from_cfg(cfg).train()


def write_sigterm_config(path, max_iters):
    """Write the quickstart for ``max_iters`` iterations, logging each and
    checkpointing only on a stop signal, to ``path``."""
    return write_config(
        tiny_config(
            QUICKSTART, batch_size=16, **ITERATIONS,
            train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                           max_iters=max_iters),
            log_processor=dict(by_epoch=False),
            default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1000),
                               logger=dict(interval=1)),
            model=dict(memory_bank=dict(size=64)),
            custom_hooks=[dict(type='NNMemoryBankHook', warmup=16),
                          dict(type='RNGStateHook'),
                          dict(type='PreemptionCheckpointHook')]), path)


def test_sigterm_writes_a_checkpoint_and_resume_auto_continues(tmp_path):
    config = write_sigterm_config(tmp_path / 'long.py', max_iters=10000)
    work = tmp_path / 'work'
    log_path = tmp_path / 'train.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            tool_command('train.py', config, '--work-dir', work), stdout=log,
            stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.time() + 240
            while not re.search(r'Iter\(train\) \[\s*3/10000\]',
                                log_path.read_text()):
                assert proc.poll() is None, log_path.read_text()[-3000:]
                assert time.time() < deadline, 'training did not start'
                time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
        finally:
            proc.kill()
    assert code == 143, log_path.read_text()[-3000:]
    checkpoint = (work / 'last_checkpoint').read_text().strip()
    stopped_at = torch.load(checkpoint, weights_only=True)['meta']['iter']
    assert stopped_at >= 3 and checkpoint.endswith(f'iter_{stopped_at}.pth')
    assert 'received a stop signal' in log_path.read_text()

    # Continue two more iterations from where the signal stopped it.
    write_sigterm_config(config, max_iters=stopped_at + 2)
    run = run_tool_subprocess('train.py', config, '--work-dir', work,
                              '--resume', 'auto')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert f'resumed epoch: 0, iter: {stopped_at}' in log
    last = stopped_at + 2
    assert re.search(rf'Iter\(train\) \[\s*{last}/{last}\]', log), log[-3000:]


def test_signal_handlers_are_restored_after_training(tmp_path):
    cfg = small_cfg(tmp_path)
    cfg.custom_hooks.append(dict(type='PreemptionCheckpointHook'))
    before = signal.getsignal(signal.SIGTERM)
    Runner.from_cfg(cfg).train()
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize('sampler, says', [
    (dict(type='DefaultSampler', shuffle=True), 'with drop_last=True an '
     'epoch has no iteration'),
    (dict(type='InfiniteSampler', shuffle=True), 'the infinite sampler would '
     'fill every batch with '
     'repeated samples'),
])
def test_a_dataset_smaller_than_one_batch_is_named(tmp_path, sampler, says):
    cfg = small_cfg(tmp_path)
    cfg.train_dataloader.dataset.indices = 10
    cfg.train_dataloader.sampler = sampler
    cfg.train_dataloader.drop_last = True
    with pytest.raises(ValueError,
                       match=r'train_dataloader.dataset has 10 samples for 1 '
                       r'process\(es\), 10 each, and '
                       r'train_dataloader.batch_size is 16: ' + says):
        Runner.from_cfg(cfg).train()


def test_the_divergence_advice_typed_as_printed_continues_finitely(
        tmp_path):
    # A learning rate typed 1000 times too high: the warm-up's first step
    # is healthy, the second explodes the weights (finite, with a finite
    # loss); the advice resumes from the healthy checkpoint at a tenth.
    schedule = [dict(type='LinearLR', start_factor=1e-4, by_epoch=False,
                     begin=0, end=6)]
    config = write_config(tiny_config(
        QUICKSTART, batch_size=16, **dict(ITERATIONS,
                                          param_scheduler=schedule),
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=8),
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1)),
        model=dict(memory_bank=dict(size=64)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=16),
                      *load_config(QUICKSTART).custom_hooks[1:]]),
        tmp_path / 'cfg.py')
    work = tmp_path / 'work'
    first = run_tool_subprocess('train.py', config, '--work-dir', work,
                                '--cfg-options',
                                'optim_wrapper.optimizer.lr=10000')
    assert first.returncode == 1
    assert 'FloatingPointError: the weights exploded' in first.stderr
    command = first.stderr.splitlines()[-1].strip()
    assert command == (
        f'python {ROOT}/tools/train.py {config} --work-dir {work} --resume '
        f'{work}/iter_1.pth --cfg-options optim_wrapper.optimizer.lr=1000')
    # Typed as printed, where `python` is the environment's.
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ['PATH'])
    second = subprocess.run(shlex.split(command), cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-3000:]
    final = _load_checkpoint(str(work / 'iter_8.pth'))
    # The lower rate in effect: the warm-up ends at it.
    assert final['optimizer']['param_groups'][0]['lr'] == 1000
    assert all(torch.isfinite(v.float()).all()
               for v in final['state_dict'].values())

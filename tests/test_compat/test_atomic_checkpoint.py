"""Checkpoints a kill cannot destroy (mmengine <= 0.10.7 writes them in
place and removes the old one first): unfixed, a kill while the new one is
written loses all progress; fixed, the old one survives and ``--resume
auto`` finds it."""
import os

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner
from toolkit import NO_VALIDATION, QUICKSTART, flip_a_bit, tiny_config

import nnclr_mm  # noqa: F401  (applies the fix)
from nnclr_mm._compat import atomic_checkpoint
from nnclr_mm.engine.checkpoint_io import (
    atomic_write,
    find_resumable_checkpoint,
)

broken_upstream = pytest.mark.skipif(
    not atomic_checkpoint.needed(), reason='a fixed mmengine: not fixed')


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs."""


@broken_upstream
def test_unpatched_put_destroys_the_old_file_when_a_write_stops(
        tmp_path, monkeypatch):
    path = tmp_path / 'iter_1.pth'
    path.write_bytes(b'old checkpoint')
    upstream_put = LocalBackend.put.__wrapped__
    with pytest.raises(TypeError):  # stops after open(path, 'wb')
        upstream_put(LocalBackend(), 12345, str(path))
    assert path.read_bytes() == b''


def test_put_keeps_the_old_file_when_a_write_stops(tmp_path):
    path = tmp_path / 'iter_1.pth'
    path.write_bytes(b'old checkpoint')
    with pytest.raises(TypeError):
        LocalBackend().put(12345, str(path))
    assert path.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['iter_1.pth']  # no temporary left
    LocalBackend().put(b'new checkpoint', str(path))
    assert path.read_bytes() == b'new checkpoint'


def test_a_full_disk_names_the_file_and_keeps_the_old_one(
        tmp_path, monkeypatch):
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')

    def no_space(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match=f'could not write {path} .No space'):
        atomic_write(str(path), 'new')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def tiny_runner(work_dir, fashion_mnist_root, iterations=2):
    """NNCLR for a few iterations, a checkpoint after each, keeping one."""
    cfg = tiny_config(
        QUICKSTART, fashion_mnist_root, batch_size=8, **NO_VALIDATION,
        model=dict(memory_bank=dict(size=64)),
        train_dataloader=dict(
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=iterations),
        param_scheduler=[],
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1,
                                           max_keep_ckpts=1)),
        custom_hooks=[dict(type='NNMemoryBankHook')],
        work_dir=str(work_dir))
    return Runner.from_cfg(cfg)


def kill_while_writing_the_second_checkpoint(runner, monkeypatch):
    """Train; the second checkpoint's write stops half-way, as a SIGKILL
    during ``torch.save`` would leave it."""
    save = runner.save_checkpoint
    calls = []

    def save_then_die(out_dir, filename, *args, **kwargs):
        calls.append(filename)
        if len(calls) < 2:
            return save(out_dir, filename, *args, **kwargs)
        with open(os.path.join(out_dir, filename), 'wb') as f:
            f.write(b'PK\x03\x04 half a zip')
        raise Killed

    monkeypatch.setattr(runner, 'save_checkpoint', save_then_die)
    with pytest.raises(Killed):
        runner.train()


@broken_upstream
def test_unpatched_hook_loses_all_progress(tmp_path, monkeypatch,
                                           fashion_mnist_root):
    monkeypatch.setattr(
        CheckpointHook, '_save_checkpoint_with_step',
        CheckpointHook._save_checkpoint_with_step.__wrapped__)
    runner = tiny_runner(tmp_path, fashion_mnist_root)
    kill_while_writing_the_second_checkpoint(runner, monkeypatch)
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_2.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')
    with pytest.raises(FileNotFoundError, match='no intact checkpoint'):
        find_resumable_checkpoint(str(tmp_path))


def test_old_checkpoint_survives_a_kill_and_is_resumed(
        tmp_path, monkeypatch, fashion_mnist_root):
    runner = tiny_runner(tmp_path, fashion_mnist_root)
    kill_while_writing_the_second_checkpoint(runner, monkeypatch)
    first = str(tmp_path / 'iter_1.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == first
    assert find_resumable_checkpoint(str(tmp_path)) == first
    # --resume auto continues from it and ends with one intact checkpoint.
    resumed = tiny_runner(tmp_path, fashion_mnist_root)
    resumed._resume = True
    resumed.train()
    assert resumed.iter == 2
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_2.pth']
    assert torch.load(tmp_path / 'iter_2.pth',
                      weights_only=False)['meta']['iter'] == 2


def test_training_leaves_the_newest_checkpoint_and_no_temporaries(
        tmp_path, fashion_mnist_root):
    tiny_runner(tmp_path, fashion_mnist_root).train()
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'iter_2.pth')
    assert [p.name for p in tmp_path.glob('*.pth')] == ['iter_2.pth']
    assert not list(tmp_path.rglob('*.tmp'))


def save_checkpoint_file(path, iteration):
    torch.save(dict(meta=dict(iter=iteration),
                    state_dict=dict(w=torch.arange(100.0))), path)


@pytest.mark.parametrize('record', ['missing', 'empty', 'truncated',
                                    'zero_bytes', 'absent', 'bit_flipped'])
def test_resume_auto_falls_back_to_the_newest_intact_checkpoint(
        tmp_path, record, said):
    older, newer = tmp_path / 'iter_1.pth', tmp_path / 'iter_2.pth'
    save_checkpoint_file(older, 1)
    save_checkpoint_file(newer, 2)
    os.utime(older, (1, 1))  # older by mtime too
    recorded = tmp_path / 'iter_3.pth'
    if record == 'truncated':
        save_checkpoint_file(recorded, 3)
        recorded.write_bytes(recorded.read_bytes()[:100])
    elif record == 'bit_flipped':
        save_checkpoint_file(recorded, 3)
        flip_a_bit(recorded)
    elif record == 'zero_bytes':
        recorded.write_bytes(b'')
    last = tmp_path / 'last_checkpoint'
    if record != 'absent':
        last.write_text('' if record == 'empty' else str(recorded))
    assert find_resumable_checkpoint(str(tmp_path)) == str(newer)
    (said, ) = said
    assert f'resuming from {newer}' in said
    if record in ('missing', 'truncated', 'zero_bytes', 'bit_flipped'):
        assert f'{last} names {recorded}' in said
        assert str(recorded) in said.split('cannot be used')[1]
    expected = dict(missing='does not exist', truncated='not a complete',
                    zero_bytes='is empty (0 bytes)', empty='is empty',
                    absent='does not exist',
                    bit_flipped='fails its CRC')[record]
    assert expected in said


def test_resume_auto_takes_an_intact_recorded_checkpoint(tmp_path):
    save_checkpoint_file(tmp_path / 'iter_1.pth', 1)
    save_checkpoint_file(tmp_path / 'iter_2.pth', 2)
    os.utime(tmp_path / 'iter_2.pth', (1, 1))  # the record decides
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path /
                                                           'iter_2.pth')


def test_resume_auto_without_checkpoints_starts_from_scratch(tmp_path):
    assert find_resumable_checkpoint(str(tmp_path)) is None


def test_resume_auto_with_no_intact_checkpoint_names_each(tmp_path):
    (tmp_path / 'iter_1.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    with pytest.raises(FileNotFoundError) as error:
        find_resumable_checkpoint(str(tmp_path))
    message = str(error.value)
    assert f'{tmp_path / "iter_4.pth"} does not exist' in message
    assert f'{tmp_path / "iter_1.pth"} is empty (0 bytes)' in message
    assert '--resume PATH' in message


def test_checkpoint_hook_writes_last_checkpoint_atomically(tmp_path):
    from mmengine.hooks import checkpoint_hook
    record = tmp_path / 'last_checkpoint'
    record.write_text('iter_1.pth')
    # What the hook does; a kill before the file is closed keeps the old
    # record (the builtin open would have emptied it already).
    f = checkpoint_hook.open(str(record), 'w')
    f.write('iter_2.pth')
    assert record.read_text() == 'iter_1.pth'
    f.close()
    assert record.read_text() == 'iter_2.pth'


def test_resume_auto_removes_what_a_killed_write_left(tmp_path, said):
    save_checkpoint_file(tmp_path / 'iter_1.pth', 1)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    left = tmp_path / '.iter_2.pth.x1y2z3.tmp'
    left.write_bytes(b'PK half')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path /
                                                           'iter_1.pth')
    assert not left.exists()
    assert f'removed {left}' in said[0]


def test_checkpoints_a_stop_left_beyond_max_keep_are_retired_on_resume(
        tmp_path, monkeypatch, fashion_mnist_root):
    # Stopped after iter_2.pth and last_checkpoint were written, before
    # iter_1.pth was removed.
    def stop(self, path):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(LocalBackend, 'remove', stop)
        with pytest.raises(Killed):
            tiny_runner(tmp_path, fashion_mnist_root).train()
    assert {'iter_1.pth', 'iter_2.pth'} <= set(os.listdir(tmp_path))
    # Files of other names, and newer ones, are not the run's to remove.
    others = ['iter_1.pth.bak', 'my_iter_1.pth', 'epoch_1.pth',
              'best_loss_iter_1.pth', 'iter_9.pth']
    for name in others:
        (tmp_path / name).write_bytes(b'not ours')
    resumed = tiny_runner(tmp_path, fashion_mnist_root, iterations=3)
    resumed._resume = True
    resumed.train()
    assert sorted(p.name for p in tmp_path.iterdir()
                  if p.suffix in ('.pth', '.bak')) == sorted(
                      others + ['iter_3.pth'])

"""One live run per work dir: a second ``tools/train.py`` on a live run's
work dir is refused before it touches a file, and the first run finishes
with its files intact."""
import json
import os
import signal
import socket
import subprocess
import time

import torch
from toolkit import (
    NO_VALIDATION,
    QUICKSTART,
    ROOT,
    run_tool_subprocess,
    tiny_config,
    tool_command,
    write_config,
)

from nnclr_mm.engine import WorkDirLock

ITERS = 6


def snapshot(folder):
    """Every file under ``folder`` with its size and modification time."""
    stats = {os.path.join(root, name): os.stat(os.path.join(root, name))
             for root, _, names in os.walk(folder) for name in names}
    return {path: (s.st_size, s.st_mtime_ns) for path, s in stats.items()}


def start_training(tmp_path, fashion_mnist_root, workers=0):
    """``tools/train.py`` of a tiny iteration-based run, started; returns
    the process and its work dir once it has written a checkpoint."""
    cfg = write_config(tiny_config(
        QUICKSTART, fashion_mnist_root, batch_size=16, **NO_VALIDATION,
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=ITERS),
        train_dataloader=dict(
            num_workers=workers, persistent_workers=workers > 0,
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1,
                                           max_keep_ckpts=1))),
        tmp_path / 'cfg.py')
    work = tmp_path / 'work'
    process = subprocess.Popen(
        tool_command('train.py', cfg, '--work-dir', work), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not (work / 'last_checkpoint').exists():
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    return process, cfg, work


def test_a_second_run_on_a_live_work_dir_is_refused(tmp_path,
                                                      fashion_mnist_root):
    first, cfg, work = start_training(tmp_path, fashion_mnist_root)
    try:
        # Paused, the first run keeps its lock.
        first.send_signal(signal.SIGSTOP)
        holder = json.loads((work / 'run.lock').read_text())
        assert (holder['pid'], holder['host']) == (first.pid,
                                                   socket.gethostname())
        before = snapshot(work)
        second = run_tool_subprocess('train.py', cfg, '--work-dir', work,
                                     '--resume', 'auto')
        assert second.returncode == 1
        assert (f'{work} is in use by the run of pid {first.pid} on '
                f'{socket.gethostname()}') in second.stderr
        assert snapshot(work) == before
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    final = work / f'iter_{ITERS}.pth'
    assert (work / 'last_checkpoint').read_text() == str(final)
    assert torch.load(final, weights_only=True)['meta']['iter'] == ITERS
    # The lock died with the run: the same work dir is free again.
    WorkDirLock(str(work)).acquire().release()


def test_workers_of_a_killed_run_do_not_keep_the_lock(tmp_path,
                                                     fashion_mnist_root):
    # Dataloader workers are forked after the lock is taken and notice
    # their parent's death only after a while; the lock is the parent's.
    run, _, work = start_training(tmp_path, fashion_mnist_root, workers=2)
    run.send_signal(signal.SIGKILL)
    run.wait()
    WorkDirLock(str(work)).acquire().release()

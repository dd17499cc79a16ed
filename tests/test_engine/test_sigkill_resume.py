"""Long run (marked slow, not in CI): a real training process SIGKILLed
again and again, half of the kills while a checkpoint is being written, at
``max_keep_ckpts=1``; every ``--resume auto`` succeeds and the run ends
bit-identical to an uninterrupted one. Run with `pytest -m slow -s` and
record the output."""
import json
import os
import random
import signal
import subprocess
import time

import pytest
import torch
from toolkit import (
    NO_VALIDATION,
    QUICKSTART,
    ROOT,
    tiny_config,
    tool_command,
    write_config,
)

from nnclr_mm.engine.checkpoint_io import find_resumable_checkpoint

ITERS = 48
KILLS = 10


def config(tmp_path, fashion_mnist_root):
    cfg = tiny_config(
        QUICKSTART, fashion_mnist_root, batch_size=16, **NO_VALIDATION,
        model=dict(memory_bank=dict(size=128)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=32),
                      dict(type='RNGStateHook')],
        train_dataloader=dict(
            sampler=dict(type='InfiniteSampler', shuffle=True)),
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=ITERS),
        param_scheduler=[
            dict(type='CosineAnnealingLR', T_max=ITERS, by_epoch=False,
                 begin=0, end=ITERS)
        ],
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1,
                                           max_keep_ckpts=1)))
    return write_config(cfg, tmp_path / 'kill.py')


def start(config, work_dir, resume):
    args = ['--work-dir', work_dir] + (['--resume', 'auto'] if resume else [])
    return subprocess.Popen(
        tool_command('train.py', config, *args), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def temporaries(work_dir):
    """The temporary files of writes in progress (or killed) in work_dir."""
    if not os.path.isdir(work_dir):
        return set()
    return {name for name in os.listdir(work_dir) if name.endswith('.tmp')}


def kill_at(process, work_dir, mid_write, delay, timeout=120):
    """SIGKILL ``process`` after ``delay`` seconds, or, if ``mid_write``,
    as soon as it starts writing a file; False if it finished first."""
    begin = time.time()
    left_before = temporaries(work_dir)  # by an earlier kill
    while process.poll() is None and time.time() - begin < timeout:
        due = (bool(temporaries(work_dir) - left_before) if mid_write else
               time.time() - begin >= delay)
        if due:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    return False


@pytest.mark.slow
def test_sigkill_anywhere_then_resume_auto(tmp_path, fashion_mnist_root):
    cfg = config(tmp_path, fashion_mnist_root)
    straight = tmp_path / 'straight'
    subprocess.run(tool_command('train.py', cfg, '--work-dir', straight),
                   cwd=ROOT, check=True, capture_output=True)
    work = tmp_path / 'killed'
    rng = random.Random(0)
    kills, mid_write, resumed_from = 0, 0, []
    resume = False
    while kills < KILLS:
        process = start(cfg, str(work), resume)
        during_write = kills % 2 == 1
        if not kill_at(process, str(work), during_write, rng.uniform(4, 14)):
            assert process.returncode == 0, process.stderr.read()
            break
        kills += 1
        mid_write += during_write
        found = find_resumable_checkpoint(str(work))
        resumed_from.append(os.path.basename(found) if found else None)
        resume = found is not None
    # Whatever was left: finish the run.
    process = start(cfg, str(work), resume)
    _, err = process.communicate()
    assert process.returncode == 0, err
    report = dict(kills=kills, kills_while_writing=mid_write,
                  resumed_from=resumed_from)
    print(json.dumps(report))
    final = f'iter_{ITERS}.pth'
    a = torch.load(straight / final, weights_only=True)['state_dict']
    b = torch.load(work / final, weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert kills >= KILLS // 2, report

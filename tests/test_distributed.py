"""2-process (gloo, CPU) NNCLR, NNBYOL and NNSiam equal 1-process runs on
the whole batch. The processes see no GPU, also on a machine with one: two
NCCL ranks cannot share a GPU; the NCCL path is the GPU acceptance
script's (tools/gpu/)."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from toolkit import (
    QUICKSTART,
    ROOT,
    assert_identical,
    free_port,
    run_tool_subprocess,
    tiny_config,
    tiny_nn_variant_cfg,
    tiny_nnclr_cfg,
    write_config,
)

import nnclr_mm  # noqa: F401  (checkpoint allow-list, DDP fixes)

WORLD = 2
PER_RANK = 4


def global_batch():
    g = torch.Generator().manual_seed(7)
    views = [torch.randn(WORLD * PER_RANK, 3, 32, 32, generator=g)
             for _ in range(2)]
    labels = torch.arange(WORLD * PER_RANK) % 3
    return views, labels


#: Models compared: NNCLR in both loss modes, and the NN variants.
MODELS_COMPARED = ['paper', 'ntxent', 'NNBYOL', 'NNSiam']


def build(mode):
    """NNCLR with the loss in ``mode`` ('paper', 'ntxent'), or the NN
    variant named ``mode``, its bank prefilled."""
    from mmengine.logging import MessageHub
    from mmpretrain.registry import MODELS

    torch.manual_seed(0)
    if mode in ('NNBYOL', 'NNSiam'):
        # BYOL's momentum follows a cosine over the run's length.
        MessageHub.get_current_instance().update_info('max_iters', 10)
        cfg = tiny_nn_variant_cfg(mode)
    else:
        cfg = tiny_nnclr_cfg(
            loss=dict(type='NNCLRLoss', temperature=0.2, mode=mode))
    model = MODELS.build(cfg)
    # Prefill 40 rows directly: under DDP enqueue would gather all ranks.
    g = torch.Generator().manual_seed(1)
    bank = model.memory_bank
    bank.bank[:40] = F.normalize(torch.randn(40, 32, generator=g), dim=1)
    bank.labels[:40] = torch.arange(40) % 3
    bank.ptr.fill_(40)
    bank.num_filled.fill_(40)
    return model


def step(model, views, labels):
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    out = model(views, samples, mode='loss')
    out['loss'].backward()
    return out


def snapshot(model, out):
    return dict(
        loss=out['loss'].detach(),
        nn_acc=out['nn_acc'].detach(),
        grads={
            k: p.grad.clone()
            for k, p in model.named_parameters() if p.grad is not None
        },
        bank=model.memory_bank.state_dict(),
        running_mean=model.backbone.bn1.running_mean.clone(),
        running_var=model.neck.bn0.running_var.clone())


#: The environment of every process these tests start: CPU only.
CPU_ONLY = dict(CUDA_VISIBLE_DEVICES='')


def worker(rank, port, mode, sync_bn, out_dir, broadcast_buffers):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        from mmengine.model import (
            MMDistributedDataParallel,
            convert_sync_batchnorm,
        )
        model = build(mode)
        if sync_bn:
            model = convert_sync_batchnorm(model, 'torch')
        # device_ids as mmengine's runner passes them: the plugin drops
        # them for a CPU module. DDP broadcasts rank 0's buffers (the bank
        # among them) before each forward by default; mmengine's runner
        # turns that off.
        ddp = MMDistributedDataParallel(model, device_ids=[rank],
                                        broadcast_buffers=broadcast_buffers)
        views, labels = global_batch()
        local = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        out = step(ddp, [v[local] for v in views], labels[local])
        torch.save(snapshot(ddp.module, out), f'{out_dir}/rank{rank}.pt')
    finally:
        torch_dist.destroy_process_group()


def assert_close_to_scale(actual, expected, name, rel=1e-4, floor=1e-6):
    """max |actual - expected| within ``rel`` of expected's largest entry:
    float32 sums in another order differ by ~1e-5 of a tensor's scale."""
    bound = rel * expected.abs().max().item() + floor
    error = (actual - expected).abs().max().item()
    assert error <= bound, f'{name}: max error {error:.3g} > {bound:.3g}'


def run_two_processes(tmp_path, mode, sync_bn=True, broadcast_buffers=True):
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CPU_ONLY.items():
            patch.setenv(key, value)  # read by the spawned processes
        mp.start_processes(
            worker,
            args=(free_port(), mode, sync_bn, str(tmp_path),
                  broadcast_buffers),
            nprocs=WORLD,
            start_method='spawn')
    return [
        torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
        for r in range(WORLD)
    ]


@pytest.mark.parametrize('mode', MODELS_COMPARED)
def test_two_processes_equal_one_process_on_the_whole_batch(tmp_path, mode):
    ranks = run_two_processes(tmp_path, mode)
    reference_model = build(mode)
    views, labels = global_batch()
    reference = snapshot(reference_model,
                         step(reference_model, views, labels))

    # The loss of the whole batch is the mean of the ranks' losses.
    mean_loss = sum(r['loss'] for r in ranks) / WORLD
    torch.testing.assert_close(mean_loss, reference['loss'])
    mean_acc = sum(r['nn_acc'] for r in ranks) / WORLD
    torch.testing.assert_close(mean_acc, reference['nn_acc'])
    # Every parameter gradient (after DDP's averaging) equals 1-process, and
    # DDP made the ranks' gradients identical.
    assert ranks[0]['grads'].keys() == reference['grads'].keys()
    for name in reference['grads']:
        assert torch.equal(ranks[0]['grads'][name], ranks[1]['grads'][name])
    for name, grad in reference['grads'].items():
        for r in ranks:
            assert_close_to_scale(r['grads'][name], grad, name)
    # SyncBN statistics are those of the whole batch.
    for key in ('running_mean', 'running_var'):
        for r in ranks:
            torch.testing.assert_close(r[key], reference[key])


@pytest.mark.parametrize('mode, broadcast_buffers', [
    ('paper', True), ('paper', False), ('NNBYOL', True), ('NNSiam', True)])
def test_every_rank_holds_the_same_bank_in_rank_order(tmp_path, mode,
                                                      broadcast_buffers):
    # With or without DDP's buffer broadcast: the ranks' banks are equal
    # by construction (each enqueues the gathered batch), so broadcasting
    # them, 100 MB a step in the paper's recipe, changes nothing.
    ranks = run_two_processes(tmp_path, mode,
                              broadcast_buffers=broadcast_buffers)
    bank0, bank1 = (r['bank'] for r in ranks)
    for key in bank0:
        assert torch.equal(bank0[key], bank1[key]), key
    assert bank0['num_filled'].item() == 40 + WORLD * PER_RANK
    assert bank0['ptr'].item() == (40 + WORLD * PER_RANK) % 64
    # Rows 40.. hold the enqueued view of rank 0's samples, then rank 1's.
    _, labels = global_batch()
    assert bank0['labels'][40:48].tolist() == labels.tolist()
    reference_model = build(mode)
    views, _ = global_batch()
    step(reference_model, views, labels)
    torch.testing.assert_close(bank0['bank'],
                               reference_model.memory_bank.bank)


def test_bn_statistics_follow_the_mode(tmp_path):
    # Without SyncBN every rank normalises by its own half of the batch.
    ranks = run_two_processes(tmp_path, 'paper', sync_bn=False)
    views, labels = global_batch()
    for rank, result in enumerate(ranks):
        local_model = build('paper')
        local = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        local_model([v[local] for v in views], mode='loss')
        torch.testing.assert_close(result['running_mean'],
                                   local_model.backbone.bn1.running_mean)
    assert not torch.allclose(ranks[0]['running_mean'],
                              ranks[1]['running_mean'])


def launch_config():
    """The quickstart for 2 CPU ranks: 128 training images, each rank
    seeded differently and saving its bank and its generators
    (bank_dump_hook.py)."""
    return tiny_config(
        QUICKSTART,
        batch_size=None,
        custom_imports=dict(imports=['nnclr_mm', 'bank_dump_hook'],
                            allow_failed_imports=False),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=0),
                      dict(type='RNGStateHook'),
                      dict(type='BankDumpHook'), dict(type='RNGDumpHook')],
        randomness=dict(seed=0, diff_rank_seed=True),
        model=dict(memory_bank=dict(size=256)),
        train_dataloader=dict(batch_size=16, dataset=dict(indices=128)),
        val_dataloader=dict(dataset=dict(indices=64)),
        val_cfg=dict(bank_dataloader=dict(dataset=dict(indices=128))))


def dist_train(config, work_dir, *args):
    env = dict(CPU_ONLY, PORT=str(free_port()),
               PYTHONPATH=os.pathsep.join([ROOT, osp.join(ROOT, 'tests')]),
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ['PATH'])
    return run_tool_subprocess('dist_train.sh', config, 2, '--work-dir',
                               work_dir, *args, env=env)


def train_one_process(config, work_dir, *args):
    """``tools/train.py`` of a :func:`launch_config` in one CPU process."""
    return run_tool_subprocess(
        'train.py', config, '--work-dir', work_dir, *args,
        env=dict(CPU_ONLY, PYTHONPATH=os.pathsep.join(
            [ROOT, osp.join(ROOT, 'tests')])))


def test_dist_train_on_cpu_and_resume_restores_the_bank(tmp_path):
    config = write_config(launch_config(), tmp_path / 'launch.py')
    work_dir = tmp_path / 'work'
    # 128 images, 16 per rank and step: 4 steps, one checkpoint, and the
    # kNN validation over both ranks.
    run = dist_train(config, work_dir)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert 'using the gloo backend instead of nccl' in log
    assert 'knn_top1' in log
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    ends = [torch.load(work_dir / f'bank_end_rank{r}.pt', weights_only=True)
            for r in range(WORLD)]
    for key in ends[0]:
        assert torch.equal(ends[0][key], ends[1][key]), key
    assert ends[0]['num_filled'].item() == 4 * WORLD * 16

    # Resume from the checkpoint for a second epoch (validated at its end,
    # so that the generators are dumped as restored): every rank starts
    # with the saved bank.
    resumed = tmp_path / 'resumed'
    one_more = ['--cfg-options', 'train_cfg.max_epochs=2',
                'train_cfg.val_interval=2']
    run = dist_train(config, resumed, '--resume',
                     str(work_dir / 'epoch_1.pth'), *one_more)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=True)
    saved = checkpoint['state_dict']
    for r in range(WORLD):
        start = torch.load(resumed / f'bank_start_rank{r}.pt',
                           weights_only=True)
        for key, value in start.items():
            assert torch.equal(value, saved[f'memory_bank.{key}']), (r, key)
            assert torch.equal(value, ends[0][key]), (r, key)

    # Each rank resumed with its own generators (seeded differently).
    states = checkpoint['rng_state']['ranks']
    assert len(states) == WORLD
    assert states[0]['torch'] != states[1]['torch']
    for r in range(WORLD):
        assert_same_states(
            torch.load(resumed / f'rng_rank{r}.pt', weights_only=True),
            states[r])

    # One process resumes a checkpoint of two, and says what it restored.
    single = tmp_path / 'single'
    run = train_one_process(config, single, '--resume',
                            work_dir / 'epoch_1.pth', *one_more)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert ('holds the random-number generators of 2 process(es), this '
            'run has 1') in run.stdout + run.stderr
    assert_same_states(torch.load(single / 'rng_rank0.pt',
                                  weights_only=True), states[0])


def assert_same_states(actual, expected):
    """Two :func:`generator_states` are the same."""
    assert actual['python'] == expected['python']
    assert actual['torch'] == expected['torch']
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(actual['numpy'], expected['numpy']))


def test_a_mid_epoch_checkpoint_of_two_processes_resumes_mid_epoch(
        tmp_path):
    # 128 images, 16 per rank and step: epochs of 4 steps, a checkpoint
    # every 2, so iter_6 is half-way through epoch 2.
    config = write_config(launch_config(), tmp_path / 'launch.py')
    options = ['--cfg-options', 'train_cfg.max_epochs=2',
               'train_cfg.val_interval=2', 'default_hooks.checkpoint.'
               'by_epoch=False', 'default_hooks.checkpoint.interval=2',
               'default_hooks.checkpoint.max_keep_ckpts=-1']
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    for work_dir, resume in ((straight, []),
                             (resumed, ['--resume', straight / 'iter_6.pth'])):
        run = dist_train(config, work_dir, *resume, *options)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (resumed / 'last_checkpoint').read_text().endswith('iter_8.pth')
    assert_identical(*(torch.load(run / 'iter_8.pth', weights_only=True)
                       for run in (straight, resumed)))

    # One process resumes the same checkpoint: the 64 images the two had
    # trained on in epoch 2 are 4 of its steps, and the 4 left end it.
    single = tmp_path / 'single'
    run = train_one_process(config, single, '--resume',
                            straight / 'iter_6.pth', *options)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (single / 'last_checkpoint').read_text().endswith('iter_10.pth')


def test_a_distributed_command_ends_its_process_group(tmp_path):
    # PyTorch asks every distributed program to destroy its process group
    # before it exits; left to the interpreter's exit, gloo's threads can
    # abort a finished run (SIGABRT: "terminate called without an active
    # exception", seen once in CI after a resumed 2-process run).
    config = write_config(launch_config(), tmp_path / 'launch.py')
    code = ('import sys, torch.distributed as dist\n'
            'from nnclr_mm.cli.train import main\n'
            'main(sys.argv[1:])\n'
            'print("initialized after main:", dist.is_initialized())\n')
    env = dict(os.environ, **CPU_ONLY, RANK='0', LOCAL_RANK='0',
               WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(free_port()),
               PYTHONPATH=os.pathsep.join([ROOT, osp.join(ROOT, 'tests')]))
    done = subprocess.run(
        [sys.executable, '-c', code, config, '--launcher', 'pytorch',
         '--work-dir', str(tmp_path / 'work')], cwd=ROOT, env=env,
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'initialized after main: False' in done.stdout

"""The tools as users run them: train, kNN, linear probe, test, quickstart."""
import json
import os.path as osp
import struct

import numpy as np
import torch
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from toolkit import (
    KNN_FMNIST,
    LINEAR_FMNIST,
    NO_VALIDATION,
    QUICKSTART,
    SIMCLR,
    load_config,
    run_tool_subprocess,
    serial_options,
    tiny_config,
)

import nnclr_mm  # noqa: F401


def png_size(path):
    with open(path, 'rb') as f:
        header = f.read(24)
    assert header[:8] == b'\x89PNG\r\n\x1a\n', f'{path} is not a PNG'
    return struct.unpack('>II', header[16:24])


def checkpoint_of(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def calibrate_bn(model, num=512):
    """Set BN statistics from real images, as training would: an untrained
    network's default statistics give features of arbitrary scale."""
    from nnclr_mm.datasets import OfflineFashionMNIST
    data = OfflineFashionMNIST(split='test', indices=num)
    x = torch.from_numpy(np.stack([data[i]['img'] for i in range(num)]))
    x = x.permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate((x - 72.94) / 90.02, size=32)
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # cumulative average
    with torch.no_grad():
        for chunk in x.split(128):
            model.backbone(chunk)


def test_linear_probe_loads_an_nnclr_backbone(tmp_path, build_tiny_nnclr,
                                              run_tool):
    nnclr = build_tiny_nnclr()
    calibrate_bn(nnclr)
    ckpt = tmp_path / 'nnclr.pth'
    torch.save(dict(state_dict=nnclr.state_dict()), ckpt)

    cfg = load_config(LINEAR_FMNIST)
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    probe = MODELS.build(cfg.model)
    probe.init_weights()
    expected = nnclr.backbone.state_dict()
    loaded = probe.backbone.state_dict()
    assert loaded.keys() == expected.keys()
    for name in expected:
        assert torch.equal(loaded[name], expected[name]), name

    # Train the probe briefly through tools/train.py, then test it with
    # tools/test.py: the backbone must stay frozen, the head must learn.
    work_dir = tmp_path / 'probe'
    run_tool('train.py', LINEAR_FMNIST, '--work-dir', work_dir,
             '--cfg-options', f'model.backbone.init_cfg.checkpoint={ckpt}',
             'train_dataloader.dataset.indices=1024',
             'train_dataloader.batch_size=64', 'train_cfg.max_epochs=2',
             'val_dataloader.dataset.indices=256',
             *serial_options(LINEAR_FMNIST))
    trained = torch.load(checkpoint_of(work_dir), weights_only=True)
    for name, value in expected.items():
        if 'num_batches_tracked' not in name:
            assert torch.equal(trained['state_dict'][f'backbone.{name}'],
                               value), name
    out = tmp_path / 'test.json'
    run_tool('test.py', LINEAR_FMNIST, checkpoint_of(work_dir),
             '--work-dir', tmp_path / 'test', '--out', out, '--cfg-options',
             'test_dataloader.dataset.indices=256',
             *serial_options(LINEAR_FMNIST))
    metrics = json.loads(out.read_text())
    # Chance is 10 %; 32 steps on random conv features reach about 50 %.
    assert 35.0 < metrics['accuracy/top1'] <= 100.0


def test_nnclr_trains_on_a_folder_of_user_images(tmp_path):
    """mmpretrain's CustomDataset is the path for users' own images."""
    from PIL import Image
    rng = np.random.RandomState(0)
    for i in range(16):
        folder = tmp_path / 'images' / f'class_{i % 2}'
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 255, (40, 48, 3), np.uint8)).save(
            folder / f'{i}.png')
    cfg = tiny_config(
        QUICKSTART, batch_size=8, **NO_VALIDATION,
        train_cfg=dict(_delete_=True, by_epoch=False, max_iters=2),
        model=dict(memory_bank=dict(size=64)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=8)],
        param_scheduler=None,
        work_dir=str(tmp_path / 'work'))
    cfg.train_dataloader.dataset = dict(
        type='CustomDataset',
        data_root=str(tmp_path / 'images'),
        pipeline=[dict(type='LoadImageFromFile')] + cfg.train_pipeline)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    bank = runner.model.memory_bank
    assert bank.num_filled.item() == 16
    # Class sub-folders give labels, which the bank keeps for nn_acc.
    assert sorted(bank.labels[:16].tolist()) == [0] * 8 + [1] * 8


def test_nnclr_and_mmpretrain_methods_side_by_side(tmp_path, run_tool):
    methods = {
        'nnclr': (QUICKSTART, ['model.memory_bank.size=256']),
        'simclr': (SIMCLR, []),
        'mocov2': ('configs/mocov2/'
                   'mocov2_resnet18_1xb256-coslr-5e_fashion-mnist.py',
                   ['model.queue_len=256']),
        'byol': ('configs/byol/'
                 'byol_resnet18_1xb256-coslr-5e_fashion-mnist.py', []),
    }
    results = {}
    for name, (config, options) in methods.items():
        work_dir = tmp_path / name
        run_tool('train.py', config, '--work-dir', work_dir, '--no-validate',
                 '--cfg-options', 'train_dataloader.dataset.indices=256',
                 'train_dataloader.batch_size=64', 'train_cfg.max_epochs=1',
                 *options, *serial_options(config))
        out = tmp_path / f'{name}.json'
        run_tool('analysis_tools/knn_eval.py', KNN_FMNIST,
                 checkpoint_of(work_dir), '--out', out, '--work-dir',
                 tmp_path / 'knn', '--cfg-options',
                 'val_dataloader.dataset.indices=200',
                 'val_cfg.bank_dataloader.dataset.indices=1000',
                 *serial_options(KNN_FMNIST))
        results[name] = json.loads(out.read_text())['backbone']['knn_top1']
    # The four methods trained four different backbones (knn_eval loads
    # each strictly, so a mismatch would have raised), and their features
    # carry class information (chance is 10 %).
    backbones = {
        name: torch.load(checkpoint_of(tmp_path / name),
                         weights_only=True)['state_dict']['backbone.conv1.weight']
        for name in methods
    }
    names = list(backbones)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not torch.equal(backbones[a], backbones[b]), (a, b)
    assert all(30.0 < acc <= 100.0 for acc in results.values()), results


def test_quickstart_command_end_to_end(tmp_path):
    work_dir = tmp_path / 'quickstart'
    run = run_tool_subprocess(
        'quickstart.sh', '--cfg-options',
        'train_dataloader.dataset.indices=512',
        'train_dataloader.batch_size=64', 'train_cfg.max_epochs=2',
        'model.memory_bank.size=512',
        'val_cfg.bank_dataloader.dataset.indices=1024',
        'val_dataloader.dataset.indices=512',
        env=dict(WORK_DIR=str(work_dir)))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert osp.isfile(work_dir / 'epoch_2.pth')
    knn = json.loads((work_dir / 'knn.json').read_text())
    for features in ('backbone', 'pixels'):
        assert 10.0 < knn[features]['knn_top1'] <= 100.0
    # Four panels of 3.6 x 3.2 inches at 100 dpi.
    assert png_size(work_dir / 'training_curves.png') == (1440, 320)

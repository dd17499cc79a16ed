"""The tools as users run them: train, kNN, linear probe, test, quickstart."""
import glob
import json
import os
import os.path as osp
import struct
import subprocess

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, MODELS

import nnclr_mm  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = 'configs/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'
KNN = 'configs/benchmarks/resnet18_knn-k200-t0.07_fashion-mnist.py'
LINEAR = ('configs/benchmarks/'
          'resnet18_linear-probe-1xb256-coslr-10e_fashion-mnist.py')
SERIAL = [
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False'
]
SERIAL_VAL = [
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False'
]


def png_size(path):
    with open(path, 'rb') as f:
        header = f.read(24)
    assert header[:8] == b'\x89PNG\r\n\x1a\n', f'{path} is not a PNG'
    return struct.unpack('>II', header[16:24])


def checkpoint_of(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


@DATASETS.register_module(force=True)
class OneHotImages(BaseDataset):
    """4x4 images with one bright pixel at ``positions``, for the kNN."""

    def __init__(self, positions, labels, **kwargs):
        self.positions, self.labels = positions, labels
        super().__init__(ann_file='', pipeline=[dict(type='PackInputs')],
                         **kwargs)

    def load_data_list(self):
        data = []
        for pos, label in zip(self.positions, self.labels):
            img = np.zeros((4, 4, 3), np.uint8)
            img.reshape(-1, 3)[pos] = 255
            data.append(dict(img=img, gt_label=label))
        return data


def test_knn_loop_gives_the_known_answer_on_hand_made_features(
        tmp_path, tiny_cfg):
    loader = dict(
        batch_size=2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'))
    classes = dict(classes=('a', 'b'))
    # With k = 1 every held-out image takes the label of the bank image
    # with the same bright pixel: positions 0, 2, 3 agree, 1 does not.
    runner = Runner(
        model=tiny_cfg(),
        work_dir=str(tmp_path),
        val_dataloader=dict(
            **loader,
            dataset=dict(type='OneHotImages', positions=[0, 1, 2, 3],
                         labels=[0, 1, 1, 1], metainfo=classes)),
        val_cfg=dict(
            type='KNNValLoop',
            bank_dataloader=dict(
                **loader,
                dataset=dict(type='OneHotImages', positions=[0, 1, 2, 3],
                             labels=[0, 0, 1, 1], metainfo=classes)),
            k=1,
            features='pixels'),
        val_evaluator=dict(type='Accuracy', topk=(1, 2)),
        default_scope='mmpretrain')
    metrics = runner.val()
    # With k = 1 the other class gets no vote (score 0), and mmpretrain's
    # Accuracy counts only positive scores, so top-2 equals top-1 here.
    assert metrics == {'knn_top1': 75.0, 'knn_top2': 75.0}
    # Both passes report progress: the bank's 2 batches, then the held-out.
    (log, ) = glob.glob(str(tmp_path / '*' / '*.log'))
    text = open(log).read()
    assert 'kNN bank (val): embedded batch [2/2]' in text
    assert text.index('embedded batch [2/2]') < text.index('knn_top1: 75')


def test_knn_loop_rejects_unknown_features(tmp_path, tiny_cfg):
    from nnclr_mm.evaluation import KNNValLoop
    with pytest.raises(ValueError, match="features must be one of.*'logits'"):
        KNNValLoop(
            Runner(
                model=tiny_cfg(),
                work_dir=str(tmp_path),
                default_scope='mmpretrain'),
            dataloader=[],
            evaluator=[],
            bank_dataloader=[],
            features='logits')


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

    cfg = Config.fromfile(osp.join(ROOT, LINEAR))
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
    run_tool('train.py', LINEAR, '--work-dir', work_dir, '--cfg-options',
             f'model.backbone.init_cfg.checkpoint={ckpt}',
             'train_dataloader.dataset.indices=1024',
             'train_dataloader.batch_size=64', 'train_cfg.max_epochs=2',
             'val_dataloader.dataset.indices=256', *SERIAL, *SERIAL_VAL)
    trained = torch.load(checkpoint_of(work_dir), weights_only=True)
    for name, value in expected.items():
        if 'num_batches_tracked' not in name:
            assert torch.equal(trained['state_dict'][f'backbone.{name}'],
                               value), name
    out = tmp_path / 'test.json'
    run_tool('test.py', LINEAR, checkpoint_of(work_dir), '--work-dir',
             tmp_path / 'test', '--out', out, '--cfg-options',
             'test_dataloader.dataset.indices=256',
             'test_dataloader.num_workers=0',
             'test_dataloader.persistent_workers=False')
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
    cfg = Config.fromfile(osp.join(ROOT, QUICKSTART))
    cfg.train_dataloader.update(batch_size=8, num_workers=0,
                                persistent_workers=False)
    cfg.train_dataloader.dataset = dict(
        type='CustomDataset',
        data_root=str(tmp_path / 'images'),
        pipeline=[dict(type='LoadImageFromFile')] + cfg.train_pipeline)
    cfg.train_cfg = dict(by_epoch=False, max_iters=2)
    cfg.model.memory_bank.size = 64
    cfg.custom_hooks = [dict(type='NNMemoryBankHook', warmup=8)]
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = None
    cfg.work_dir = str(tmp_path / 'work')
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
        'simclr': ('configs/compare/'
                   'simclr_resnet18_1xb256-coslr-5e_fashion-mnist.py', []),
        'mocov2': ('configs/compare/'
                   'mocov2_resnet18_1xb256-coslr-5e_fashion-mnist.py',
                   ['model.queue_len=256']),
        'byol': ('configs/compare/'
                 'byol_resnet18_1xb256-coslr-5e_fashion-mnist.py', []),
    }
    results = {}
    for name, (config, options) in methods.items():
        work_dir = tmp_path / name
        run_tool('train.py', config, '--work-dir', work_dir, '--no-validate',
                 '--cfg-options', 'train_dataloader.dataset.indices=256',
                 'train_dataloader.batch_size=64', 'train_cfg.max_epochs=1',
                 *options, *SERIAL)
        out = tmp_path / f'{name}.json'
        run_tool('knn_eval.py', KNN, checkpoint_of(work_dir), '--out', out,
                 '--work-dir', tmp_path / 'knn', '--cfg-options',
                 'val_dataloader.dataset.indices=200',
                 'val_cfg.bank_dataloader.dataset.indices=1000',
                 'val_cfg.bank_dataloader.num_workers=0',
                 'val_cfg.bank_dataloader.persistent_workers=False',
                 *SERIAL_VAL)
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
    env = dict(os.environ, WORK_DIR=str(work_dir))
    subprocess.run(
        [
            'bash', 'tools/quickstart.sh', '--cfg-options',
            'train_dataloader.dataset.indices=512',
            'train_dataloader.batch_size=64', 'train_cfg.max_epochs=2',
            'model.memory_bank.size=512',
            'val_cfg.bank_dataloader.dataset.indices=1024',
            'val_dataloader.dataset.indices=512'
        ],
        cwd=ROOT,
        env=env,
        check=True)
    assert osp.isfile(work_dir / 'epoch_2.pth')
    knn = json.loads((work_dir / 'knn.json').read_text())
    for features in ('backbone', 'pixels'):
        assert 10.0 < knn[features]['knn_top1'] <= 100.0
    # Four panels of 3.6 x 3.2 inches at 100 dpi.
    assert png_size(work_dir / 'training_curves.png') == (1440, 320)

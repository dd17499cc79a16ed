"""lightly's NNCLR example against this plugin's lightly recipe: same data,
same budget, one evaluator.

    python tools/comparisons/lightly_parity.py [--epochs 5] [--seeds 0 1]
        [--num-train 10240] [--num-test N] [--data-root DIR]
        [--runs lightly nnclr_mm lightly+PIECE ...]
        [--out docs/results/lightly_parity]

Both train on the first ``--num-train`` Fashion-MNIST training images
(Debian's ``dataset-fashion-mnist``), handed over as 28 px RGB images with
three identical channels:

- lightly 1.6's ``examples/pytorch/nnclr.py``, line for line: torchvision's
  resnet18 without fc, ``NNCLRProjectionHead(512, 512, 128)``,
  ``NNCLRPredictionHead(128, 512, 128)``, ``NNMemoryBankModule((4096,
  128))``, ``SimCLRTransform(input_size=32)``, ``NTXentLoss()``, SGD lr 0.06,
  batch 256, ``drop_last``;
- ``configs/nnclr/nnclr_resnet18_1xb256-sgd-10e_cifar10-lightly.py`` through
  mmengine's runner, with only its dataset and length replaced.

Evaluator, the same for both: weighted kNN (k = 200, T = 0.1) on
L2-normalised, average-pooled backbone features; the training images vote
for all 10,000 test images; every 28 px image is zero-padded to 32 px and
normalised as its model was trained. Both train and are evaluated on the
same device: a GPU when there is one (the runner's choice), else the CPU.
Writes ``OUT.json`` and ``OUT.md``.

The ablations: ``--runs lightly+PIECE`` trains lightly's example with one
piece (a key of :data:`SWAPS`: ``zero-init``, ``bank``, ``augment``,
``heads``, ``joint-bn``) replaced by this plugin's, to measure what each
remaining difference between the two does on its own.
lightly is needed here only: ``pip install lightly==1.6.0``.
"""
import argparse
import json
import os
import os.path as osp
import platform
import random
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader, Dataset

import nnclr_mm  # noqa: F401
from nnclr_mm.datasets import OfflineFashionMNIST
from nnclr_mm.datasets.fashion_mnist import DEBIAN_ROOT
from nnclr_mm.evaluation import weighted_knn_scores

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'nnclr',
                  'nnclr_resnet18_1xb256-sgd-10e_cifar10-lightly.py')
#: lightly's IMAGENET_NORMALIZE, on [0, 1] pixels.
LIGHTLY_MEAN, LIGHTLY_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--num-train', type=int, default=10240)
    parser.add_argument(
        '--num-test', type=int, help='first test images (default: all)')
    parser.add_argument(
        '--data-root',
        default=DEBIAN_ROOT,
        help='folder of the Fashion-MNIST IDX files')
    parser.add_argument(
        '--runs', nargs='+', default=['lightly', 'nnclr_mm'],
        choices=['lightly', 'nnclr_mm', *(f'lightly+{k}' for k in SWAPS)],
        help='lightly+PIECE: lightly\'s example with one piece swapped for '
        'this plugin\'s (the ablations)')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--out', default='docs/results/lightly_parity')
    return parser.parse_args(argv)


def fashion_mnist(data_root: str, split: str, num: int = None):
    """uint8 ``(N, 28, 28)`` images and int64 labels."""
    data = OfflineFashionMNIST(data_root=data_root, split=split, indices=num)
    images = np.stack([data.get_data_info(i)['img'][..., 0]
                       for i in range(len(data))])
    labels = torch.tensor(
        [data.get_data_info(i)['gt_label'] for i in range(len(data))])
    return images, labels


class TwoViews(Dataset):
    """28 px grey images as RGB PIL images through lightly's transform."""

    def __init__(self, images, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        from PIL import Image
        img = Image.fromarray(self.images[index]).convert('RGB')
        return self.transform(img), 0


def device() -> torch.device:
    """Where both train: mmengine's runner takes a GPU when there is one."""
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


#: One piece of lightly's example swapped for this plugin's, for the
#: ablation runs ``lightly+PIECE``.
SWAPS = {
    'zero-init': "mmpretrain ResNet's default zero_init_residual=True",
    'bank': 'NNMemoryBank (starts empty, a query is its own neighbour '
    'until the first enqueue) for NNMemoryBankModule (starts with random '
    'vectors)',
    'augment': "the config's mmcv view pipeline for SimCLRTransform",
    'heads': "NNCLRNeck and the predictor NonLinearNeck built from the "
    "config, with mmengine's init_weights, for lightly's heads",
    'joint-bn': 'both views through one forward (one BN batch), as '
    'NNCLR.loss does',
}


class MMViews(Dataset):
    """28 px grey images through the config's two-view mmcv pipeline, as
    ``[0, 1]`` tensors normalised like lightly's transform."""

    def __init__(self, images):
        from mmengine.registry import init_default_scope
        from mmpretrain.registry import TRANSFORMS
        init_default_scope('mmpretrain')
        multi_view = Config.fromfile(CONFIG).train_dataloader.dataset.pipeline
        self.images = images
        self.pipeline = TRANSFORMS.build(multi_view[0])
        self.mean = torch.tensor(LIGHTLY_MEAN).view(3, 1, 1)
        self.std = torch.tensor(LIGHTLY_STD).view(3, 1, 1)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        img = np.repeat(self.images[index][..., None], 3, axis=2)
        views = self.pipeline(dict(img=img))['img']
        return [(torch.from_numpy(v.copy()).permute(2, 0, 1).float() / 255 -
                 self.mean) / self.std for v in views], 0


def train_lightly(images, epochs, seed, workers, swap=None):
    """lightly's NNCLR example, with the piece ``swap`` (a key of
    :data:`SWAPS`) replaced by this plugin's; returns what
    :func:`evaluate` takes."""
    import torchvision
    from lightly.loss import NTXentLoss
    from lightly.models.modules import (
        NNCLRPredictionHead,
        NNCLRProjectionHead,
        NNMemoryBankModule,
    )
    from lightly.transforms.simclr_transform import SimCLRTransform
    from mmpretrain.registry import MODELS

    from nnclr_mm.models import NNMemoryBank

    class NNCLR(nn.Module):

        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone
            if swap == 'heads':
                model = Config.fromfile(CONFIG).model
                model.neck.with_avg_pool = False  # lightly's is flattened
                neck, predictor = (MODELS.build(model.neck),
                                   MODELS.build(model.head).predictor)
                neck.init_weights()
                predictor.init_weights()
                self.projection_head = lambda y: neck((y, ))[0]
                self.prediction_head = lambda z: predictor((z, ))[0]
                self.heads = nn.ModuleList([neck, predictor])
            else:
                self.projection_head = NNCLRProjectionHead(512, 512, 128)
                self.prediction_head = NNCLRPredictionHead(128, 512, 128)

        def forward(self, x):
            y = self.backbone(x).flatten(start_dim=1)
            z = self.projection_head(y)
            p = self.prediction_head(z)
            z = z.detach()
            return z, p

    seed_everything(seed)
    resnet = torchvision.models.resnet18(
        zero_init_residual=swap == 'zero-init')
    backbone = nn.Sequential(*list(resnet.children())[:-1])
    model = NNCLR(backbone).to(device())
    memory_bank = (NNMemoryBank(size=4096, feat_dim=128) if swap == 'bank'
                   else NNMemoryBankModule(size=(4096, 128))).to(device())
    views = (MMViews(images) if swap == 'augment' else TwoViews(
        images, SimCLRTransform(input_size=32)))
    loader = DataLoader(
        views,
        batch_size=256,
        shuffle=True,
        drop_last=True,
        num_workers=workers)
    criterion = NTXentLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.06)
    for epoch in range(epochs):
        total = 0.0
        for (x0, x1), _ in loader:
            x0, x1 = x0.to(device()), x1.to(device())
            if swap == 'joint-bn':
                (z0, z1), (p0, p1) = (t.chunk(2)
                                      for t in model(torch.cat([x0, x1])))
            else:
                z0, p0 = model(x0)
                z1, p1 = model(x1)
            z0 = memory_bank(z0, update=False)
            z1 = memory_bank(z1, update=True)
            loss = 0.5 * (criterion(z0, p1) + criterion(z1, p0))
            total += loss.detach()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        print(f'lightly seed {seed} epoch {epoch}: loss '
              f'{total.item() / len(loader):.4f}')
    mean = torch.tensor(LIGHTLY_MEAN) * 255
    std = torch.tensor(LIGHTLY_STD) * 255
    return backbone.eval(), lambda x: backbone(x).flatten(1), mean, std


def train_ours(data_root, num_train, epochs, seed, workers):
    """The lightly-recipe config through mmengine's runner; returns what
    :func:`evaluate` takes."""
    cfg = Config.fromfile(CONFIG)
    loader = cfg.train_dataloader
    loader.dataset = dict(
        type='OfflineFashionMNIST',
        data_root=data_root,
        split='train',
        indices=num_train,
        pipeline=loader.dataset.pipeline)
    loader.update(num_workers=workers, persistent_workers=workers > 0)
    cfg.train_cfg.max_epochs = epochs
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = tempfile.mkdtemp(prefix='lightly_parity_')
    # Only the trained weights are used; a checkpoint per epoch is not.
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=epochs)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model.eval()
    mean = model.data_preprocessor.mean.flatten().cpu()
    std = model.data_preprocessor.std.flatten().cpu()
    return model, lambda x: model.extract_feat(x)[-1].mean((2, 3)), mean, std


@torch.no_grad()
def embed(features, mean, std, images):
    """L2-normalised features of uint8 ``(N, 28, 28)`` images, each
    zero-padded to 32 px and normalised by ``mean`` and ``std``, computed
    on :func:`device` and returned on the CPU."""
    out = []
    mean, std = (t.to(device()).view(1, 3, 1, 1) for t in (mean, std))
    for chunk in torch.from_numpy(images).split(512):
        x = F.pad(chunk.to(device()).float(),
                  (2, 2, 2, 2))[:, None].expand(-1, 3, -1, -1)
        out.append(F.normalize(features((x - mean) / std), dim=1).cpu())
    return torch.cat(out)


def evaluate(trained, train_data, test_data):
    """kNN top-1 of a trained ``(model, features, mean, std)``: the model
    in eval mode, its pooled backbone features of normalised pixels, and
    the per-channel mean and std on 0-255 pixels it was trained with."""
    _, features, mean, std = trained
    bank = embed(features, mean, std, train_data[0])
    queries = embed(features, mean, std, test_data[0])
    scores = weighted_knn_scores(queries, bank, train_data[1], 10, k=200,
                                 temperature=0.1)
    top1 = (scores.argmax(1) == test_data[1]).float().mean().item() * 100
    return dict(knn_top1=round(top1, 2),
                feature_std=round(bank.std(0).mean().item(), 4))


def main():
    args = parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    train_data = fashion_mnist(args.data_root, 'train', args.num_train)
    test_data = fashion_mnist(args.data_root, 'test', args.num_test)
    rows = []
    for seed in args.seeds:
        for run in args.runs:
            start = time.time()
            if run == 'nnclr_mm':
                name = run
                trained = train_ours(args.data_root, args.num_train,
                                     args.epochs, seed, args.workers)
            else:
                swap = run.partition('+')[2] or None
                name = 'lightly 1.6' + (f' + ours: {swap}' if swap else '')
                trained = train_lightly(train_data[0], args.epochs, seed,
                                        args.workers, swap)
            wall = time.time() - start
            row = dict(run=name, seed=seed, epochs=args.epochs,
                       train_seconds=round(wall, 1),
                       **evaluate(trained, train_data, test_data))
            print(row)
            rows.append(row)
    machine = (f'{platform.machine()}, {os.cpu_count()} CPU cores, '
               f'torch {torch.__version__}, no GPU'
               if not torch.cuda.is_available() else
               torch.cuda.get_device_name())
    os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(dict(machine=machine, num_train=args.num_train,
                       rows=rows), f, indent=2)
    lines = [
        'Written by `python ' + ' '.join(sys.argv) + '`.', '',
        f'Fashion-MNIST, first {args.num_train:,} training images, '
        f'{args.epochs} epochs, batch 256; kNN (k = 200, T = 0.1) of '
        f'{len(test_data[1]):,} test images. Machine: {machine}.', '',
        '| run | seed | kNN top-1 (%) | per-dim std of features | '
        'training wall time (s) |', '|---|---|---|---|---|'
    ] + [
        f'| {r["run"]} | {r["seed"]} | {r["knn_top1"]:.2f} | '
        f'{r["feature_std"]:.4f} | {r["train_seconds"]:.0f} |' for r in rows
    ]
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()

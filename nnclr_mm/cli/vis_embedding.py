"""``nnclr-mm vis-embedding``: 2-D projection (t-SNE or PCA) of backbone
features, coloured by class, as a PNG (by default ``embedding.png`` beside
the checkpoint).

The images are those of the config's ``val_dataloader``.
"""
import os.path as osp

import torch

from ..evaluation import embed_dataset
from ..visualization import plot_embedding, project_2d
from .common import (
    add_runner_args,
    config_for_checkpoint,
    ends_process_group,
    parser_for,
    runner_with_checkpoint,
)

EXAMPLE = ('nnclr-mm vis-embedding nnclr_mm::nnclr/'
           'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py '
           'work_dirs/quickstart/epoch_5.pth --method pca')


def parse_args(argv=None):
    parser = parser_for('vis-embedding', 'A 2-D projection of features, '
                        'coloured by class, as a PNG.', EXAMPLE)
    parser.add_argument('config', help='config with a val_dataloader')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument(
        '--out',
        help='PNG path (default: embedding.png beside the checkpoint)')
    parser.add_argument('--method', choices=['tsne', 'pca'], default='tsne')
    parser.add_argument(
        '--num', type=int, default=2000, help='at most this many images')
    parser.add_argument(
        '--features', choices=['backbone', 'neck'], default='backbone')
    add_runner_args(parser)
    return parser.parse_args(argv)


@torch.no_grad()
@ends_process_group
def main(argv=None):
    args = parse_args(argv)
    out = args.out or osp.join(osp.dirname(args.checkpoint), 'embedding.png')
    runner = runner_with_checkpoint(config_for_checkpoint(args),
                                    args.checkpoint)
    loader = runner.build_dataloader(runner.cfg.val_dataloader)
    feats, labels = embed_dataset(runner.model, loader, args.features)
    feats, labels = feats[:args.num], labels[:args.num]
    points = project_2d(feats.numpy(), args.method)
    classes = loader.dataset.metainfo.get('classes')
    plot_embedding(
        points, labels.numpy(), out, class_names=classes,
        title=f'{args.method.upper()} of {args.features} features: '
        f'{osp.basename(args.checkpoint)}')
    print(f'wrote {out}')
    return out

"""``nnclr-mm vis-embedding``: 2-D projection (t-SNE or PCA) of backbone
features, coloured by class, as a PNG (by default ``embedding.png`` beside
the checkpoint).

The images are those of the config's ``val_dataloader``.
"""
import os.path as osp

import torch

from ..evaluation import embed_dataset
from ..visualization import plot_embedding, project_2d
from . import QUICKSTART, QUICKSTART_CKPT, common

EXAMPLE = (f'nnclr-mm vis-embedding {QUICKSTART} {QUICKSTART_CKPT} '
           '--method pca')


def parse_args(argv=None):
    parser = common.parser_for(
        'vis-embedding', 'A 2-D projection of features, coloured by class, '
        'as a PNG.', EXAMPLE, config='config with a val_dataloader',
        checkpoint='checkpoint of the model',
        out='PNG path (default: embedding.png beside the checkpoint)',
        runner=True)
    parser.add_argument('--method', choices=['tsne', 'pca'], default='tsne')
    parser.add_argument(
        '--num', type=int, default=2000, help='at most this many images')
    parser.add_argument(
        '--features', choices=['backbone', 'neck'], default='backbone')
    return parser.parse_args(argv)


@torch.no_grad()
@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    out = common.picture_path(args, 'embedding.png')
    runner = common.runner_for_checkpoint(args)
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

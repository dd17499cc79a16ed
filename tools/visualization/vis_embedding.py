"""2-D projection (t-SNE or PCA) of backbone features, coloured by class.

    python tools/visualization/vis_embedding.py CONFIG CHECKPOINT \
        [--out embedding.png]

The images are those of the config's ``val_dataloader``.
"""
import argparse
import os.path as osp

import torch

from nnclr_mm.cli import add_runner_args, config_for_checkpoint
from nnclr_mm.engine import runner_with_checkpoint
from nnclr_mm.evaluation import embed_dataset
from nnclr_mm.visualization import plot_embedding, project_2d


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a val_dataloader')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument('--out', default='embedding.png', help='PNG path')
    parser.add_argument('--method', choices=['tsne', 'pca'], default='tsne')
    parser.add_argument(
        '--num', type=int, default=2000, help='at most this many images')
    parser.add_argument(
        '--features', choices=['backbone', 'neck'], default='backbone')
    add_runner_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    runner = runner_with_checkpoint(config_for_checkpoint(args),
                                    args.checkpoint)
    loader = runner.build_dataloader(runner.cfg.val_dataloader)
    feats, labels = embed_dataset(runner.model, loader, args.features)
    feats, labels = feats[:args.num], labels[:args.num]
    points = project_2d(feats.numpy(), args.method)
    classes = loader.dataset.metainfo.get('classes')
    plot_embedding(
        points, labels.numpy(), args.out, class_names=classes,
        title=f'{args.method.upper()} of {args.features} features: '
        f'{osp.basename(args.checkpoint)}')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    with torch.no_grad():
        main()

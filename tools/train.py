"""Train a model with mmengine's runner; mmpretrain's tools/train.py CLI.

``nnclr_mm`` is imported before the config is parsed, so its fixes apply
to ``_base_ = 'mmpretrain::...'`` and its components are registered.
"""
import argparse

from mmengine.config import Config

from nnclr_mm.cli import add_runner_args, load_config
from nnclr_mm.engine import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size against '
        '`auto_scale_lr.base_batch_size`')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='set pin_memory=False in every dataloader')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='set persistent_workers=False in every dataloader')
    add_runner_args(parser)
    return parser.parse_args()


def merge_args(cfg: Config, args) -> Config:
    """Fold the training options into the config."""
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        if args.no_pin_memory:
            loader.pin_memory = False
        if args.no_persistent_workers:
            loader.persistent_workers = False
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(load_config(args), args)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()

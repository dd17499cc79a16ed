"""kNN evaluation of any mmpretrain SSL checkpoint's backbone.

    python tools/analysis_tools/knn_eval.py CONFIG CHECKPOINT \
        [--pixel-baseline]

CONFIG gives the model and a ``KNNValLoop`` validation (``val_cfg``,
``val_dataloader``, ``val_evaluator``), like the quickstart config; the
checkpoint's ``backbone.*`` weights are loaded into the model's backbone,
whatever algorithm (NNCLR, SimCLR, MoCo, BYOL ...) produced them.
"""
import argparse
import json

from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

from nnclr_mm.cli import add_runner_args, config_for_checkpoint
from nnclr_mm.engine import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a KNNValLoop val_cfg')
    parser.add_argument('checkpoint', help='checkpoint with backbone.* keys')
    parser.add_argument('--k', type=int, help='override val_cfg.k')
    parser.add_argument(
        '--temperature', type=float, help='override val_cfg.temperature')
    parser.add_argument(
        '--pixel-baseline',
        action='store_true',
        help='also run the same kNN on raw pixels')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    add_runner_args(parser)
    return parser.parse_args()


def knn_runner(cfg: Config, features: str) -> Runner:
    cfg = cfg.copy()
    if cfg.get('val_cfg', {}).get('type') != 'KNNValLoop':
        raise ValueError(f'{cfg.filename}: val_cfg must be a KNNValLoop, '
                         f'got {cfg.get("val_cfg")}')
    cfg.val_cfg.features = features
    return build_runner(cfg)


def main():
    args = parse_args()
    cfg = config_for_checkpoint(args)
    for key in ('k', 'temperature'):
        if getattr(args, key) is not None:
            cfg.val_cfg[key] = getattr(args, key)

    runner = knn_runner(cfg, 'backbone')
    state = _load_checkpoint_with_prefix('backbone.', args.checkpoint, 'cpu')
    runner.model.backbone.load_state_dict(state, strict=True)
    results = dict(backbone=runner.val())
    if args.pixel_baseline:
        results['pixels'] = knn_runner(cfg, 'pixels').val()

    loop = cfg.val_cfg
    print(f'\nkNN (k={loop.get("k", 200)}, '
          f'T={loop.get("temperature", 0.07)}) on {args.checkpoint}')
    for name, metrics in results.items():
        cells = '  '.join(f'{k}: {v:.2f}' for k, v in metrics.items())
        print(f'  {name:>9}  {cells}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()

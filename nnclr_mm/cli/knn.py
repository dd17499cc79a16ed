"""``nnclr-mm knn``: kNN evaluation of any mmpretrain SSL checkpoint's
backbone.

CONFIG gives the model and a ``KNNValLoop`` validation (``val_cfg``,
``val_dataloader``, ``val_evaluator``), like the quickstart config; the
checkpoint's ``backbone.*`` weights are loaded into the model's backbone,
whatever algorithm (NNCLR, SimCLR, MoCo, BYOL ...) produced them.
"""
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

from . import QUICKSTART_CKPT, common

EXAMPLE = ('nnclr-mm knn nnclr_mm::nnclr/benchmarks/'
           f'resnet18_knn-k200-t0.07_fashion-mnist.py {QUICKSTART_CKPT} '
           '--pixel-baseline')


def parse_args(argv=None):
    parser = common.parser_for(
        'knn', 'kNN of a checkpoint\'s backbone.', EXAMPLE,
        config='config with a KNNValLoop val_cfg',
        checkpoint='checkpoint with backbone.* keys',
        out='write the metrics to this JSON file', runner=True)
    parser.add_argument('--k', type=int, help='override val_cfg.k')
    parser.add_argument(
        '--temperature', type=float, help='override val_cfg.temperature')
    parser.add_argument(
        '--pixel-baseline',
        action='store_true',
        help='also run the same kNN on raw pixels')
    return parser.parse_args(argv)


def knn_runner(cfg: Config, features: str) -> Runner:
    cfg = cfg.copy()
    if cfg.get('val_cfg', {}).get('type') != 'KNNValLoop':
        raise ValueError(f'{cfg.filename}: val_cfg must be a KNNValLoop, '
                         f'got {cfg.get("val_cfg")}')
    cfg.val_cfg.features = features
    return common.build_runner(cfg)


@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    cfg = common.config_for_checkpoint(args)
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
    common.write_metrics(args.out, results)
    return results

"""``nnclr-mm linear-probe``: train a linear classifier on the frozen
backbone of a checkpoint, then test it.

CONFIG is a linear-probe config (an mmpretrain ``ImageClassifier`` whose
backbone is frozen), e.g. ``nnclr_mm::nnclr/benchmarks/resnet18_linear-
probe-1xb256-coslr-10e_fashion-mnist.py``; its backbone is initialised from
the checkpoint's ``backbone.*`` weights (or from a backbone's state dict
alone, as ``nnclr-mm publish --backbone-only`` writes). Any mmpretrain SSL
checkpoint of that backbone works (NNCLR, SimCLR, MoCo, BYOL ...). The
probe's checkpoints go to the work dir; the last one classifies images with
mmpretrain's ``ImageClassificationInferencer`` and ``inference_model``.
"""
import os.path as osp

from mmengine.runner.checkpoint import _load_checkpoint

from . import QUICKSTART_CKPT, common

EXAMPLE = ('nnclr-mm linear-probe nnclr_mm::nnclr/benchmarks/'
           'resnet18_linear-probe-1xb256-coslr-10e_fashion-mnist.py '
           f'{QUICKSTART_CKPT}')


def parse_args(argv=None):
    parser = common.parser_for(
        'linear-probe', 'Train and test a linear probe on the frozen '
        'backbone of a checkpoint.', EXAMPLE,
        config='linear-probe config file or package::path',
        checkpoint='SSL checkpoint (backbone.* weights) or a backbone state '
        'dict', out='write the test metrics to this JSON', runner=True)
    return parser.parse_args(argv)


def backbone_prefix(checkpoint: str) -> str:
    """``'backbone.'`` if the checkpoint holds a whole model's weights, ''
    if it is a backbone's state dict alone."""
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    return 'backbone.' if any(k.startswith('backbone.')
                              for k in state) else ''


@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    common.require_checkpoint(args.checkpoint)
    cfg = common.load_config(args)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=osp.abspath(args.checkpoint),
        prefix=backbone_prefix(args.checkpoint) or None)
    runner = common.build_runner(cfg)
    runner.train()
    metrics = runner.test()
    print(f'linear probe of {args.checkpoint}: ' + '  '.join(
        f'{k}: {v:.2f}' for k, v in metrics.items()))
    common.write_metrics(args.out, metrics)
    return metrics

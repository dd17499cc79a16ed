"""``nnclr-mm test``: test a checkpoint with the config's test loop, as
mmpretrain's ``tools/test.py``.

For a self-supervised config (NNCLR, SimCLR, ...) the test loop is the kNN
of the backbone on the test split (``KNNTestLoop``); for a classifier
(e.g. a linear probe of an NNCLR backbone) it is the classifier's accuracy.
"""
import json

from .common import (
    add_runner_args,
    build_runner,
    ends_process_group,
    load_config,
    parser_for,
    require_checkpoint,
)

EXAMPLE = ('nnclr-mm test nnclr_mm::nnclr/'
           'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py '
           'work_dirs/quickstart/epoch_5.pth')


def parse_args(argv=None):
    parser = parser_for('test', 'Test a checkpoint.', EXAMPLE)
    parser.add_argument('config', help='config file or package::path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    add_runner_args(parser)
    return parser.parse_args(argv)


@ends_process_group
def main(argv=None):
    args = parse_args(argv)
    require_checkpoint(args.checkpoint)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    metrics = build_runner(cfg).test()
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    return metrics

"""``nnclr-mm test``: test a checkpoint with the config's test loop, as
mmpretrain's ``tools/test.py``.

For a self-supervised config (NNCLR, SimCLR, ...) the test loop is the kNN
of the backbone on the test split (``KNNTestLoop``); for a classifier
(e.g. a linear probe of an NNCLR backbone) it is the classifier's accuracy.
"""
from . import QUICKSTART, QUICKSTART_CKPT, common

EXAMPLE = f'nnclr-mm test {QUICKSTART} {QUICKSTART_CKPT}'


def parse_args(argv=None):
    parser = common.parser_for(
        'test', 'Test a checkpoint.', EXAMPLE,
        config='config file or package::path', checkpoint='checkpoint file',
        out='write the metrics to this JSON file', runner=True)
    return parser.parse_args(argv)


@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    common.require_checkpoint(args.checkpoint)
    cfg = common.load_config(args)
    cfg.load_from = args.checkpoint
    metrics = common.build_runner(cfg).test()
    common.write_metrics(args.out, metrics)
    return metrics

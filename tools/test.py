"""Test a checkpoint with the config's test loop; mmpretrain's
tools/test.py CLI.

    python tools/test.py CONFIG CHECKPOINT [--out results.json]

For a self-supervised config (NNCLR, SimCLR, ...) the test loop is the
kNN of the backbone on the test split (``KNNTestLoop``); for a classifier
(e.g. a linear probe of an NNCLR backbone) it is the classifier's accuracy.
"""
import argparse
import json

from nnclr_mm.cli import add_runner_args, load_config, require_checkpoint
from nnclr_mm.engine import build_runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    add_runner_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    require_checkpoint(args.checkpoint)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    metrics = build_runner(cfg).test()
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()

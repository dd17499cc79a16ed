"""Test a trained classifier with mmengine's runner; mmpretrain's
tools/test.py CLI (e.g. the linear probe of an NNCLR backbone).

    python tools/test.py CONFIG CHECKPOINT [--out results.json]
"""
import argparse
import json

from nnclr_mm.cli import (
    add_runner_args,
    build_runner,
    load_config,
    require_checkpoint,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a classifier')
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

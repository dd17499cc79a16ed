"""Plot loss, nn_acc, bank fill and kNN top-1 of a run as a PNG.

    python tools/analysis_tools/plot_curves.py WORK_DIR [--out curves.png]
"""
import argparse
import os.path as osp

from nnclr_mm.visualization import (
    find_scalars,
    load_scalars,
    plot_training_curves,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help="a runner's work dir")
    parser.add_argument(
        '--out', help='PNG path (default: WORK_DIR/training_curves.png)')
    args = parser.parse_args()
    scalars = find_scalars(args.work_dir)
    out = args.out or osp.join(args.work_dir, 'training_curves.png')
    title = f'NNCLR training: {osp.basename(osp.normpath(args.work_dir))}'
    plot_training_curves(load_scalars(scalars), out, title=title)
    print(f'wrote {out} (from {scalars})')


if __name__ == '__main__':
    main()

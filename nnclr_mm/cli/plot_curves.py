"""``nnclr-mm plot-curves``: loss, nn_acc, bank fill and kNN top-1 of a
run as a PNG, the runs that resumed it included."""
import os.path as osp

from ..visualization import find_scalars, load_scalars, plot_training_curves
from . import common

EXAMPLE = 'nnclr-mm plot-curves work_dirs/quickstart'


def parse_args(argv=None):
    parser = common.parser_for(
        'plot-curves', 'Training curves of a work dir, as a PNG.', EXAMPLE)
    parser.add_argument('work_dir', help="a runner's work dir")
    parser.add_argument(
        '--out', help='PNG path (default: WORK_DIR/training_curves.png)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    scalars = find_scalars(args.work_dir)
    out = args.out or osp.join(args.work_dir, 'training_curves.png')
    title = f'NNCLR training: {osp.basename(osp.normpath(args.work_dir))}'
    plot_training_curves(load_scalars(scalars), out, title=title)
    runs = f'{len(scalars)} runs' if len(scalars) > 1 else scalars[0]
    print(f'wrote {out} (from {runs})')
    return out

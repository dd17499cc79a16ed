"""``nnclr-mm dist-train``: ``nnclr-mm train`` in one process per GPU
through torchrun, on one node or several, as mmpretrain's
``tools/dist_train.sh``.

The environment sets the defaults of the options, as for that script:
``NNODES``, ``NODE_RANK``, ``MASTER_ADDR`` and ``PORT``.
"""
import os
import subprocess
import sys

from . import common

EXAMPLE = ('nnclr-mm dist-train nnclr_mm::nnclr_r50.py 8 '
           '--work-dir work_dirs/nnclr_r50')


def parse_args(argv=None):
    parser = common.parser_for(
        'dist-train', 'Train with one process per GPU (torchrun); '
        'options after GPUS go to nnclr-mm train.', EXAMPLE,
        config='config file or package::path')
    parser.add_argument('gpus', type=int, help='processes on this node')
    env = os.environ
    parser.add_argument('--nnodes', type=int,
                        default=int(env.get('NNODES', 1)))
    parser.add_argument('--node-rank', type=int,
                        default=int(env.get('NODE_RANK', 0)))
    parser.add_argument('--master-addr',
                        default=env.get('MASTER_ADDR', '127.0.0.1'))
    parser.add_argument('--port', type=int,
                        default=int(env.get('PORT', 29500)))
    return parser.parse_known_args(argv)


def command(args, train_args) -> list:
    """The torchrun command line."""
    return [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nnodes={args.nnodes}', f'--node_rank={args.node_rank}',
        f'--master_addr={args.master_addr}',
        f'--nproc_per_node={args.gpus}', f'--master_port={args.port}',
        '-m', 'nnclr_mm.cli', 'train', args.config, '--launcher', 'pytorch',
        *train_args
    ]


def main(argv=None):
    args, train_args = parse_args(argv)
    sys.exit(subprocess.call(command(args, train_args)))

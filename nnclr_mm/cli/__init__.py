"""The ``nnclr-mm`` command line: ``nnclr-mm COMMAND [ARGS]``.

Each command is a module here with a ``main(argv)``, and the scripts in a
clone's ``tools/`` (and in the installed package's ``.mim/tools``, where
mim runs them) are entry points to the same code. Configs are files or
``package::path`` names of installed packages (``nnclr_mm::nnclr/...``).

Examples:
    >>> from nnclr_mm.cli import COMMANDS
    >>> sorted(COMMANDS)[:4]
    ['dist-train', 'knn', 'linear-probe', 'plot-curves']
"""
import importlib
import sys
from typing import List, Optional

#: The quickstart, and its last checkpoint: the commands' examples.
QUICKSTART = 'nnclr_mm::nnclr/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'
QUICKSTART_CKPT = 'work_dirs/quickstart/epoch_5.pth'

#: command: (module, what it does)
COMMANDS = {
    'train': ('train', 'train a model (mmpretrain tools/train.py options)'),
    'test': ('test', "test a checkpoint with the config's test loop"),
    'dist-train': ('dist_train', 'train with one process per GPU '
                   '(torchrun)'),
    'knn': ('knn', "kNN accuracy of a checkpoint's backbone"),
    'linear-probe': ('linear_probe', 'train and test a linear probe on a '
                     'frozen backbone'),
    'retrieve': ('retrieve', 'the nearest images of queries in a folder'),
    'publish': ('publish', 'weights of a checkpoint for publishing'),
    'vis-nn': ('vis_nn', 'nearest neighbours of query images, as a PNG'),
    'vis-embedding': ('vis_embedding', '2-D projection of features, as a '
                      'PNG'),
    'plot-curves': ('plot_curves', 'training curves of a work dir, as a '
                    'PNG'),
    'speed': ('speed', 'speed and memory against SimCLR'),
}


def usage() -> str:
    lines = ['usage: nnclr-mm COMMAND [ARGS]  (nnclr-mm COMMAND --help)',
             '', 'commands:']
    lines += [f'  {name:<14} {doc}' for name, (_, doc) in COMMANDS.items()]
    lines += ['', 'example:', f'  nnclr-mm train {QUICKSTART}']
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Run ``nnclr-mm COMMAND ARGS``.

    Args:
        argv (list[str], optional): The arguments after ``nnclr-mm``.
            Defaults to ``sys.argv[1:]``.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        sys.exit(0 if argv else 2)
    if argv[0] == '--version':
        from ..version import __version__
        print(f'nnclr-mm {__version__}')
        return
    if argv[0] not in COMMANDS:
        sys.exit(f'nnclr-mm: unknown command {argv[0]!r}\n\n{usage()}')
    module = importlib.import_module(f'{__name__}.{COMMANDS[argv[0]][0]}')
    # The console script exits with what this returns: nothing is success.
    module.main(argv[1:])

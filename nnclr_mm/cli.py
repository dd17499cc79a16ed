"""Argument parsing and config loading shared by the scripts in ``tools/``."""
import argparse
import os
import os.path as osp
import tempfile

from mmengine.config import Config, DictAction


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add mmpretrain's common options: ``--work-dir``, ``--cfg-options``,
    ``--launcher`` and ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
    """
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.memory_bank.size=4096')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets the env.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of
    :func:`add_runner_args`; the work dir defaults to
    ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config`` and
            those of :func:`add_runner_args`.

    Returns:
        Config: The config to build a runner from.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def require_checkpoint(path: str) -> None:
    """Fail before any building, naming ``path``, if it is no file.

    Args:
        path (str): The checkpoint file.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')


def config_for_checkpoint(args: argparse.Namespace) -> Config:
    """:func:`load_config` for evaluating ``args.checkpoint``: it must
    exist, the work dir is ``args.work_dir`` or a temporary one, and the
    runner itself neither loads nor resumes anything.

    Args:
        args (argparse.Namespace): As for :func:`load_config`, with
            ``checkpoint``; ``args.work_dir`` is set when it was None.

    Returns:
        Config: The config to build a runner from.
    """
    require_checkpoint(args.checkpoint)
    args.work_dir = args.work_dir or tempfile.mkdtemp(prefix='nnclr_mm_')
    cfg = load_config(args)
    cfg.load_from = None
    cfg.resume = False
    return cfg

"""What the commands share: mmpretrain's common options, config names,
config loading and runner building."""
import argparse
import functools
import json
import os
import os.path as osp
import tempfile
from typing import Callable, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .cfg_options import merge_cfg_options


def parser_for(command: str,
               description: str,
               example: str,
               config: Optional[str] = None,
               checkpoint: Optional[str] = None,
               out: Optional[str] = None,
               runner: bool = False) -> argparse.ArgumentParser:
    """An argument parser for ``nnclr-mm COMMAND`` whose ``--help`` ends
    with ``example``, with the arguments most commands share.

    Args:
        command (str): The subcommand, e.g. ``'train'``.
        description (str): What it does, one line.
        example (str): A command line that runs it.
        config (str, optional): Help of a positional ``config`` (a file or
            ``package::path``). None: no such argument.
        checkpoint (str, optional): Help of a positional ``checkpoint``
            after it. None: no such argument.
        out (str, optional): Help of ``--out``. None: no such option.
        runner (bool): Whether the command builds a runner and takes
            mmpretrain's options for it (:func:`add_runner_args`).
            Defaults to False.
    """
    parser = argparse.ArgumentParser(
        prog=f'nnclr-mm {command}', description=description,
        epilog=f'example:\n  {example}',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, text in (('config', config), ('checkpoint', checkpoint)):
        if text:
            parser.add_argument(name, help=text)
    if out:
        parser.add_argument('--out', help=out)
    if runner:
        add_runner_args(parser)
    return parser


def ends_process_group(main: Callable) -> Callable:
    """Wrap a command's ``main`` to end the default process group once it
    has returned, as PyTorch asks of every distributed program: left to
    the interpreter's exit, gloo's worker threads can abort it (SIGABRT,
    ``terminate called without an active exception``) after the work is
    done. A barrier first, so that no rank tears its connections down
    while another still uses them. Not after an error, when other ranks
    may still be in a collective (torchtitan does the same).

    Args:
        main (Callable): The command's entry point.

    Returns:
        Callable: ``main``, then the process group's end.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        result = main(*args, **kwargs)
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
        return result

    return wrapper


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


def resolve_config(name: str) -> str:
    """The file of a config given as a path or as ``package::path``.

    ``package::path`` is a config of an installed OpenMMLab package, in its
    ``.mim/configs`` folder: ``nnclr_mm::nnclr/nnclr_resnet18_1xb256-
    coslr-5e_fashion-mnist.py``, ``mmpretrain::simclr/...``.

    Args:
        name (str): A path or ``package::path``.

    Returns:
        str: The config file.

    Raises:
        FileNotFoundError: Naming what was looked for and where.

    Examples:
        >>> import nnclr_mm
        >>> path = resolve_config('nnclr_mm::nnclr_r50.py')
        >>> path.endswith('.mim/configs/nnclr_r50.py')
        True
    """
    if '::' not in name:
        if not osp.isfile(name):
            raise FileNotFoundError(
                f'config not found: {name} (a file, or package::path such '
                'as nnclr_mm::nnclr/nnclr_resnet18_1xb256-coslr-5e_'
                'fashion-mnist.py)')
        return name
    from mmengine.config.utils import MODULE2PACKAGE
    from mmengine.utils import get_installed_path
    package, path = name.split('::', 1)
    folder = osp.join(get_installed_path(MODULE2PACKAGE.get(package,
                                                            package)),
                      '.mim', 'configs')
    found = osp.join(folder, path)
    if not osp.isfile(found):
        raise FileNotFoundError(
            f'config not found: {name} ({path} is not in {folder}); list '
            f"a package's configs with mmpretrain.list_models or in that "
            'folder')
    return found


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` (see :func:`resolve_config`) and apply the
    options of :func:`add_runner_args`; the work dir defaults to
    ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config`` and
            those of :func:`add_runner_args`.

    Returns:
        Config: The config to build a runner from.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(resolve_config(args.config))
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(cfg.filename))[0])
    return cfg


def picture_path(args: argparse.Namespace, name: str) -> str:
    """Where a command that draws writes its PNG: ``args.out``, or
    ``name`` beside ``args.checkpoint`` (with the run it shows, not in the
    folder the command was typed in).

    Args:
        args (argparse.Namespace): With ``out`` and ``checkpoint``.
        name (str): The file name of the default.

    Returns:
        str: The PNG's path.
    """
    return args.out or osp.join(osp.dirname(args.checkpoint), name)


def write_metrics(path: Optional[str], metrics: dict) -> None:
    """Write ``metrics`` as JSON to ``path``, the commands' ``--out``.

    Args:
        path (str, optional): The file; None writes nothing.
        metrics (dict): What the command measured.
    """
    if path:
        with open(path, 'w') as f:
            json.dump(metrics, f, indent=2)


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


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type``, or mmengine's :class:`Runner`, built
    as mmpretrain's tools build it.

    Args:
        cfg (Config): A full runner config.

    Returns:
        Runner: The runner, built but not started.
    """
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def runner_for_checkpoint(args: argparse.Namespace) -> Runner:
    """A runner of :func:`config_for_checkpoint` whose model holds
    ``args.checkpoint``, in eval mode.

    Args:
        args (argparse.Namespace): As for :func:`config_for_checkpoint`.

    Returns:
        Runner: The runner, its model loaded strictly from the checkpoint.
    """
    runner = build_runner(config_for_checkpoint(args))
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    runner.model.eval()
    return runner

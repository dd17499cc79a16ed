"""``nnclr-mm train``: train a model with mmengine's runner, with the
options of mmpretrain's ``tools/train.py``."""
import os

from mmengine.config import Config

from ..engine import WorkDirLock
from . import QUICKSTART, common

EXAMPLE = f'nnclr-mm train {QUICKSTART} --work-dir work_dirs/quickstart'


def parse_args(argv=None):
    parser = common.parser_for(
        'train', 'Train a model.', EXAMPLE,
        config='config file, or package::path of an installed package '
        '(nnclr_mm::nnclr/...)', runner=True)
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size against '
        '`auto_scale_lr.base_batch_size`')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='set pin_memory=False in every dataloader')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='set persistent_workers=False in every dataloader')
    return parser.parse_args(argv)


def merge_args(cfg: Config, args) -> Config:
    """Fold the training options into the config."""
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        if args.no_pin_memory:
            loader.pin_memory = False
        if args.no_persistent_workers:
            loader.persistent_workers = False
    return cfg


#: Where each launcher puts the global rank before the runner starts.
RANK_VARIABLES = dict(pytorch='RANK', slurm='SLURM_PROCID',
                      mpi='OMPI_COMM_WORLD_RANK')


@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(common.load_config(args), args)
    rank = os.environ.get(RANK_VARIABLES.get(args.launcher, ''), '0')
    # Before the runner writes anything; the launcher ends the other ranks
    # when rank 0 is refused.
    lock = WorkDirLock(cfg.work_dir).acquire() if rank == '0' else None
    try:
        common.build_runner(cfg).train()
    finally:
        if lock is not None:
            lock.release()

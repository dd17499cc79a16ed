import os.path as osp
import signal
from typing import Optional, Sequence

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from ...registry import HOOKS
from ..checkpoint_io import atomic_write


@HOOKS.register_module()
class PreemptionCheckpointHook(Hook):
    """On SIGTERM, finish the current iteration, save a resumable checkpoint
    and exit, so that ``--resume auto`` continues from it.

    slurm and cloud schedulers send SIGTERM some time before they kill a
    job. The checkpoint is written as ``iter_<N>.pth`` and recorded in
    ``last_checkpoint``, which ``--resume auto`` reads. Under DDP the ranks
    agree (one all-reduce of a flag per iteration) to stop after the same
    iteration. The process exits with status 143 (128 + SIGTERM), as if
    the signal had killed it.

    Both loops resume where they stopped: an epoch-based run continues
    the epoch with the batches it had not trained
    (``nnclr_mm._compat.mid_epoch_resume``). The checkpoint is not one of
    ``CheckpointHook``'s, so ``max_keep_ckpts`` does not retire it; remove
    it once a later checkpoint exists.

    Args:
        signals (Sequence[str]): Signal names to handle. Defaults to
            ``('SIGTERM', )``.
    """

    priority = 'VERY_LOW'  # after CheckpointHook and the other hooks

    def __init__(self, signals: Sequence[str] = ('SIGTERM', )) -> None:
        self.signals = [getattr(signal, name) for name in signals]
        self._received: Optional[int] = None
        self._previous: dict = {}

    def before_train(self, runner) -> None:
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handle)

    def after_train(self, runner) -> None:
        # The handlers must not outlive training in this process.
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        self._received = signum

    def _stop_requested(self) -> bool:
        flag = torch.tensor([int(self._received is not None)])
        if is_distributed():
            # gloo reduces CPU tensors; NCCL would need the current device.
            if torch_dist.get_backend() == 'nccl':
                flag = flag.cuda()
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
        return bool(flag.item())

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self._stop_requested():
            return
        # Named like CheckpointHook's: by the iterations completed.
        done = runner.iter + 1
        filename = f'iter_{done}.pth'
        runner.save_checkpoint(runner.work_dir, filename, by_epoch=False)
        path = osp.join(runner.work_dir, filename)
        if is_main_process():
            atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), path)
        print_log(
            f'received a stop signal: saved {path} after iteration {done}; '
            'continue with --resume auto',
            logger='current')
        raise SystemExit(128 + signal.SIGTERM)

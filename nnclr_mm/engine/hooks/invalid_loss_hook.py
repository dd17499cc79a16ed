import math
from typing import Iterator, Optional, Tuple

import torch
from mmengine.hooks import Hook

from ..._compat.atomic_checkpoint import recorded_checkpoint
from ...registry import HOOKS


def _tensors(tree, prefix: str) -> Iterator[Tuple[str, torch.Tensor]]:
    """Every floating-point tensor of a nested dict/list, with its key."""
    if torch.is_tensor(tree):
        if tree.is_floating_point():
            yield prefix, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from _tensors(value, f'{prefix}.{key}')
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            yield from _tensors(value, f'{prefix}[{index}]')


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Stop training at the first NaN or infinite loss or state, never write
    a checkpoint that holds one, and say where to resume from.

    mmengine 0.10 has no loss check (mmcv 1.x had ``CheckInvalidLossHook``).
    After every iteration, before ``CheckpointHook`` runs, the loss must be
    finite; before any checkpoint is written, so must every weight, buffer
    (BN statistics, the support set) and optimizer state tensor it holds: a
    step can overflow the weights while its loss was still finite. Either
    failure raises ``FloatingPointError`` naming the iteration, the first
    non-finite value, and the last checkpoint written before it, which
    therefore holds finite values only.
    """

    priority = 'ABOVE_NORMAL'  # before CheckpointHook (VERY_LOW)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        loss = (outputs or {}).get('loss')
        if loss is None:
            return
        loss = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        if not math.isfinite(loss):
            self._stop(runner, f'loss is {loss}', runner.iter + 1,
                       runner.epoch + 1)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for section in ('state_dict', 'optimizer'):
            for key, tensor in _tensors(checkpoint.get(section), section):
                if not torch.isfinite(tensor).all():
                    # The meta says where the checkpoint stands, whichever
                    # hook and loop stage saves it.
                    meta = checkpoint.get('meta', {})
                    self._stop(
                        runner, f'{key} is not finite (the checkpoint is not '
                        'written)', meta.get('iter', runner.iter),
                        meta.get('epoch', runner.epoch))

    @staticmethod
    def _stop(runner, what: str, iteration: int, epoch: int) -> None:
        # last_checkpoint is written only after a complete, checked save.
        last, _ = recorded_checkpoint(runner.work_dir)
        where = (f'the last checkpoint before it is {last}; resume with '
                 f'--resume {last}' if last else
                 'no checkpoint was saved before it')
        raise FloatingPointError(
            f'{what} at iteration {iteration} (epoch {epoch}): training '
            f'stopped; {where} (for example with a lower learning rate)')

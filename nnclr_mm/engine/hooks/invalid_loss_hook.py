import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Stop training at the first NaN or infinite loss, and say where to
    resume from.

    mmengine 0.10 has no loss check (mmcv 1.x had ``CheckInvalidLossHook``).
    This hook runs after every iteration and before ``CheckpointHook``, so
    no checkpoint with diverged weights is written; the error names the
    iteration and the last checkpoint saved before it.
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
        if math.isfinite(loss):
            return
        last = runner.message_hub.get_info('last_ckpt')
        where = (f'the last checkpoint before it is {last}; resume with '
                 f'--resume {last}' if last else
                 'no checkpoint was saved before it')
        raise FloatingPointError(
            f'loss is {loss} at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): training stopped; {where} (for example '
            'with a lower learning rate)')

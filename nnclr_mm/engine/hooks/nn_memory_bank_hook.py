import logging
import math
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.utils import get_ori_model

from ..._validation import check_int
from ...models.algorithms import SupportSetMixin
from ...registry import HOOKS


@HOOKS.register_module()
class NNMemoryBankHook(Hook):
    """Switch a model's positives to nearest neighbours after a warm-up.

    For any model with a support set (built on ``SupportSetMixin``: NNCLR,
    NNBYOL, NNSiam). Until the support set holds ``warmup`` embeddings, the
    positive of each sample is its own embedding (NNCLR then trains like
    SimCLR with a predictor, NNBYOL like BYOL, NNSiam like SimSiam); from
    then on it is the nearest neighbour in the bank. The decision is
    taken from the bank's fill count, which the checkpoint holds, so a
    resumed run switches at the same iteration. Logs ``bank_fill`` (the
    filled fraction of the bank) and ``nn_positives`` (0 or 1) every
    iteration; ``nn_acc`` comes from the model's own outputs.

    From `NNCLR <https://arxiv.org/abs/2104.14548>`_ (the support set of
    Sec. 3.2); the paper itself uses no warm-up, which is ``warmup=0``.

    Before training it checks what would otherwise fail later and deep
    inside torch: a batch of 1 image per process, and a bank smaller than
    the global batch; and it warns when the run ends before the warm-up
    does.

    Args:
        warmup (int): Number of stored embeddings before neighbours are
            used as positives. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self, warmup: int = 0) -> None:
        check_int('NNMemoryBankHook', 'warmup', warmup, 0)
        self.warmup = warmup

    def before_train(self, runner) -> None:
        model = get_ori_model(runner.model)
        if not isinstance(model, SupportSetMixin):
            raise TypeError(
                'NNMemoryBankHook needs a model with a support set (one '
                'built on SupportSetMixin, e.g. NNCLR, NNBYOL, NNSiam), got '
                f'{type(model).__name__}; remove the hook from custom_hooks '
                'or use a nearest-neighbour model type')
        size = model.memory_bank.size
        if self.warmup > size:
            raise ValueError(
                f'NNMemoryBankHook: warmup ({self.warmup}) exceeds the '
                f'memory bank size ({size}); neighbours would never be used')
        batch_size = runner.train_dataloader.batch_size
        if batch_size == 1:
            raise ValueError(
                'train_dataloader.batch_size is 1: nearest-neighbour '
                'methods need at least 2 images per batch and process '
                '(BatchNorm statistics, NNCLR\'s negatives)')
        global_batch = batch_size * get_world_size()
        if global_batch > size:
            raise ValueError(
                f'model.memory_bank.size ({size}) is smaller than the global '
                f'batch (train_dataloader.batch_size {batch_size} x '
                f'{get_world_size()} processes = {global_batch}); each step '
                'would overwrite its own entries')
        self._check_warmup_ends(runner, model, global_batch)

    def _check_warmup_ends(self, runner, model, global_batch: int) -> None:
        """Warn when the run ends before the warm-up does: its positives
        would never be neighbours (a shortened run, a small dataset)."""
        filled = int(model.memory_bank.num_filled)
        left = runner.max_iters - runner.iter
        # Iteration i (from 0) uses neighbours once filled + i * batch
        # reaches the warm-up.
        needed = max(0, math.ceil((self.warmup - filled) / global_batch))
        if needed >= left:
            print_log(
                f'NNMemoryBankHook: the support set holds warmup='
                f'{self.warmup} embeddings only after {needed} iterations '
                f'of the global batch {global_batch}, but the run has '
                f'{left} left: neighbours are never used, and '
                f'{type(model).__name__} trains without them. Lower the '
                'warmup of NNMemoryBankHook in custom_hooks (e.g. to '
                f'{global_batch}) or train longer.',
                logger='current', level=logging.WARNING)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = get_ori_model(runner.model)
        model.nn_positives = int(model.memory_bank.num_filled) >= self.warmup

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = get_ori_model(runner.model)
        hub = runner.message_hub
        hub.update_scalar('train/bank_fill', model.memory_bank.fill_ratio)
        hub.update_scalar('train/nn_positives', float(model.nn_positives))

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank

from ..._validation import check_choice, check_positive
from ...registry import MODELS
from ..utils import concat_all_gather


@MODELS.register_module()
class NNCLRLoss(nn.Module):
    """Contrastive loss between support-set neighbours and predictions.

    From `With a Little Help from My Friends: Nearest-Neighbor Contrastive
    Learning of Visual Representations <https://arxiv.org/abs/2104.14548>`_
    (Eq. 2 and its symmetrised form, Sec. 3.1).

    Both inputs are L2-normalised. Under DDP the negatives come from every
    rank, and the gradients of a W-process run equal those of one process on
    the concatenated batch.

    - ``'paper'``: cross-entropy over the ``B x B'`` similarity matrix of
      anchors and targets, where row ``i`` and column ``i`` are positives,
      averaged over its rows (softmax over targets) and its columns (softmax
      over anchors).
    - ``'ntxent'``: the NT-Xent loss of SimCLR on the ``2N`` samples
      ``anchors + targets``: each sample's positive is its pair, and the
      other ``2N - 2`` samples of both views are negatives. With
      ``temperature=0.5`` this is lightly's ``NTXentLoss()(anchors,
      targets)``.

    Args:
        temperature (float): Softmax temperature. Defaults to 0.1 (paper).
        mode (str): ``'paper'`` or ``'ntxent'``. Defaults to ``'paper'``.
    """

    MODES = ('paper', 'ntxent')

    def __init__(self, temperature: float = 0.1, mode: str = 'paper') -> None:
        super().__init__()
        check_positive('NNCLRLoss', 'temperature', temperature)
        check_choice('NNCLRLoss', 'mode', mode, self.MODES)
        self.temperature = temperature
        self.mode = mode

    def forward(self, anchors: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            anchors (Tensor): ``(N, C)`` support-set neighbours. They get no
                gradient.
            targets (Tensor): ``(N, C)`` predictions; row ``i`` is the
                positive of ``anchors[i]``.

        Returns:
            Tensor: The scalar loss, a mean over this rank's rows.
        """
        if anchors.shape != targets.shape or anchors.dim() != 2:
            raise ValueError('NNCLRLoss: anchors and targets must both be '
                             f'(N, C), got {tuple(anchors.shape)} and '
                             f'{tuple(targets.shape)}')
        anchors = F.normalize(anchors.detach(), dim=1)
        targets = F.normalize(targets, dim=1)
        all_anchors = concat_all_gather(anchors)
        all_targets = concat_all_gather(targets, grad=True)
        n = anchors.size(0)
        # Global index of this rank's rows within the gathered batch.
        rows = torch.arange(n, device=anchors.device) + get_rank() * n
        if self.mode == 'paper':
            return self._paper(anchors, targets, all_anchors, all_targets,
                               rows)
        return self._ntxent(anchors, targets, all_anchors, all_targets, rows)

    def _paper(self, anchors: torch.Tensor, targets: torch.Tensor,
               all_anchors: torch.Tensor, all_targets: torch.Tensor,
               rows: torch.Tensor) -> torch.Tensor:
        # Rows of the global matrix owned here, then its columns owned here.
        loss_rows = F.cross_entropy(
            anchors @ all_targets.T / self.temperature, rows)
        loss_cols = F.cross_entropy(
            targets @ all_anchors.T / self.temperature, rows)
        return (loss_rows + loss_cols) / 2

    def _ntxent(self, anchors: torch.Tensor, targets: torch.Tensor,
                all_anchors: torch.Tensor, all_targets: torch.Tensor,
                rows: torch.Tensor) -> torch.Tensor:
        total = all_anchors.size(0)
        queries = torch.cat([anchors, targets])
        keys = torch.cat([all_anchors, all_targets])
        logits = queries @ keys.T / self.temperature
        # Query i's own column is masked; its positive is the other view.
        own = torch.cat([rows, rows + total])
        positive = torch.cat([rows + total, rows])
        logits[torch.arange(own.numel(), device=own.device), own] = float(
            '-inf')
        return F.cross_entropy(logits, positive)

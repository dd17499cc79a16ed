from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from ...registry import MODELS

#: The paper's prediction MLP [4096, d] with d = 256 (Sec. 4.1),
#: Linear-BN-ReLU-Linear: mmpretrain's ``NonLinearNeck`` with two layers, no
#: BN and a bias on the last linear layer.
PAPER_PREDICTOR = dict(
    type='NonLinearNeck',
    in_channels=256,
    hid_channels=4096,
    out_channels=256,
    num_layers=2,
    with_bias=False,
    with_last_bn=False,
    with_last_bias=True,
    with_avg_pool=False,
    norm_cfg=dict(type='BN1d'))


@MODELS.register_module()
class NNCLRHead(BaseModule):
    """Prediction MLP and symmetric loss of NNCLR.

    From `NNCLR <https://arxiv.org/abs/2104.14548>`_ (Sec. 4.1: prediction
    MLP of sizes [4096, d]; Eq. 2 applied to both view orders). The
    predictor maps an embedding z to p; the loss pairs the neighbour of one
    view with the prediction of the other and averages both orders:
    ``(loss(nn0, p1) + loss(nn1, p0)) / 2``.

    Args:
        predictor (dict, optional): Config of the prediction MLP. Without
            a ``type`` it is the paper's MLP (:data:`PAPER_PREDICTOR`) with
            the keys it gives changed, ``out_channels`` defaulting to
            ``in_channels``: ``dict(in_channels=128, hid_channels=512)`` is
            the paper's MLP at lightly's CIFAR widths. With a ``type`` it is
            built as given: any registered neck that maps a tuple of one
            ``(N, d)`` tensor to one. Defaults to None, the paper's MLP.
        loss (dict): Config of the loss. Defaults to
            ``dict(type='NNCLRLoss')`` (paper mode, temperature 0.1).
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> import torch
        >>> from nnclr_mm.models import NNCLRHead
        >>> head = NNCLRHead(predictor=dict(in_channels=128, hid_channels=512))
        >>> head(torch.randn(4, 128)).shape
        torch.Size([4, 128])
    """

    def __init__(self,
                 predictor: Optional[dict] = None,
                 loss: dict = dict(type='NNCLRLoss'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.predictor = MODELS.build(self._complete(predictor or {}))
        self.loss_module = MODELS.build(loss)

    @staticmethod
    def _complete(predictor: dict) -> dict:
        if 'type' in predictor:
            return predictor
        completed = {**PAPER_PREDICTOR, **predictor}
        if 'out_channels' not in predictor:
            completed['out_channels'] = completed['in_channels']
        return completed

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Predict p from the embedding z.

        Args:
            z (Tensor): ``(N, d)`` embeddings.

        Returns:
            Tensor: ``(N, d)`` predictions.
        """
        return self.predictor((z, ))[0]

    def loss(self, neighbours: Tuple[torch.Tensor, torch.Tensor],
             predictions: Tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Symmetric NNCLR loss over both view orders.

        Args:
            neighbours (tuple[Tensor, Tensor]): Positives of view 0 and
                view 1, ``(N, d)`` each, without gradient.
            predictions (tuple[Tensor, Tensor]): p of view 0 and view 1.

        Returns:
            Tensor: The scalar loss.
        """
        nn0, nn1 = neighbours
        p0, p1 = predictions
        return (self.loss_module(nn0, p1) + self.loss_module(nn1, p0)) / 2

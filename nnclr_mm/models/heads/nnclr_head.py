from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


def paper_predictor(channels: int = 256, hid_channels: int = 4096) -> dict:
    """Config of the paper's prediction MLP: Linear-BN-ReLU-Linear.

    mmpretrain's :class:`NonLinearNeck` with two layers, no BN and a bias on
    the last linear layer is exactly this MLP.

    Args:
        channels (int): Input and output width d. Defaults to 256.
        hid_channels (int): Hidden width. Defaults to 4096.
    """
    return dict(
        type='NonLinearNeck',
        in_channels=channels,
        hid_channels=hid_channels,
        out_channels=channels,
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
        predictor (dict, optional): Config of the prediction MLP; any
            registered neck that maps ``(N, d)`` to ``(N, d)``. Defaults to
            None, the paper's ``paper_predictor()``.
        loss (dict): Config of the loss. Defaults to
            ``dict(type='NNCLRLoss')`` (paper mode, temperature 0.1).
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 predictor: Optional[dict] = None,
                 loss: dict = dict(type='NNCLRLoss'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.predictor = MODELS.build(predictor or paper_predictor())
        self.loss_module = MODELS.build(loss)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Predict p from the embedding z.

        Args:
            z (Tensor): ``(N, d)`` embeddings.

        Returns:
            Tensor: ``(N, d)`` predictions.
        """
        return self.predictor([z])[0]

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

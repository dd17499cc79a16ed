from typing import List, Optional, Tuple, Union

import torch
from mmpretrain.models.necks import NonLinearNeck
from mmpretrain.registry import MODELS


@MODELS.register_module()
class NNCLRNeck(NonLinearNeck):
    """The projection MLP of NNCLR, with the paper's defaults.

    From `NNCLR <https://arxiv.org/abs/2104.14548>`_ (Sec. 4.1: a 3-layer
    MLP of sizes [2048, 2048, d], d = 256, BN after every linear layer and
    ReLU after all but the last). This is mmpretrain's
    :class:`NonLinearNeck` (fc-bn-[relu-fc-bn] x ``num_layers - 1``, no bias
    before BN) with those defaults, applied to global-average-pooled
    features of the last backbone stage.

    Args:
        in_channels (int): Channels of the last backbone stage. Defaults to
            2048 (ResNet-50).
        hid_channels (int): Hidden width. Defaults to 2048.
        out_channels (int): Embedding dimension d. Defaults to 256.
        num_layers (int): Number of linear layers. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN1d')``;
            configs for multi-GPU training use ``dict(type='SyncBN')``.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to BN weights of 1, as :class:`NonLinearNeck`.
    """

    def __init__(
        self,
        in_channels: int = 2048,
        hid_channels: int = 2048,
        out_channels: int = 256,
        num_layers: int = 3,
        norm_cfg: dict = dict(type='BN1d'),
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ]
    ) -> None:
        super().__init__(
            in_channels,
            hid_channels,
            out_channels,
            num_layers=num_layers,
            with_bias=False,
            with_last_bn=True,
            with_last_bias=False,
            with_avg_pool=True,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)
        self.out_channels = out_channels

    def forward(self, x: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Project the last of the backbone's feature maps.

        Args:
            x (tuple[Tensor]): Backbone outputs; the last is ``(N, C, H, W)``.

        Returns:
            tuple[Tensor]: The ``(N, out_channels)`` embedding z.
        """
        return super().forward(x[-1:])

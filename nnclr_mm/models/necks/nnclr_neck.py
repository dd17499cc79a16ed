from typing import List, Optional, Tuple, Union

import torch
from mmpretrain.models.necks import NonLinearNeck

from ...registry import MODELS


@MODELS.register_module()
class NNCLRNeck(NonLinearNeck):
    """The projection MLP of NNCLR, with the paper's defaults.

    From `NNCLR <https://arxiv.org/abs/2104.14548>`_ (Sec. 4.1: a 3-layer
    MLP of sizes [2048, 2048, d], d = 256, BN after every linear layer and
    ReLU after all but the last). This is mmpretrain's
    :class:`NonLinearNeck` (fc-bn-[relu-fc-bn] x ``num_layers - 1``, no bias
    before BN) with those defaults, applied to the last backbone output,
    global-average-pooled unless the backbone pools already.

    Args:
        in_channels (int): Channels of the last backbone stage. Defaults to
            2048 (ResNet-50).
        hid_channels (int): Hidden width. Defaults to 2048.
        out_channels (int): Embedding dimension d. Defaults to 256.
        num_layers (int): Number of linear layers. Defaults to 3.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN1d')``;
            configs for multi-GPU training use ``dict(type='SyncBN')``.
        with_avg_pool (bool): Pool ``(N, C, H, W)`` feature maps; False for
            backbones that return ``(N, C)`` features (e.g. mmpretrain's
            ConvNeXt and ViT with their defaults). Defaults to True.
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
        with_avg_pool: bool = True,
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
            with_avg_pool=with_avg_pool,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels

    def forward(self, x: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Project the last of the backbone's outputs.

        Args:
            x (tuple[Tensor]): Backbone outputs; the last is
                ``(N, in_channels, H, W)``, or ``(N, in_channels)`` when
                ``with_avg_pool`` is False.

        Returns:
            tuple[Tensor]: The ``(N, out_channels)`` embedding z.

        Raises:
            ValueError: If the backbone's output does not fit the neck,
                naming both widths and the config key to change.
        """
        self._check_input(x[-1])
        return super().forward(x[-1:])

    def _check_input(self, feats: torch.Tensor) -> None:
        shape = tuple(feats.shape)
        if self.with_avg_pool and feats.dim() != 4:
            raise ValueError(
                f'NNCLRNeck: with_avg_pool=True pools (N, C, H, W) feature '
                f'maps, but the backbone returns shape {shape}; for a '
                'backbone that pools already set model.neck.with_avg_pool='
                'False')
        width = shape[1] if self.with_avg_pool else feats[0].numel()
        if width != self.in_channels:
            raise ValueError(
                f'NNCLRNeck: the backbone outputs {width} channels (shape '
                f'{shape}) but model.neck.in_channels is {self.in_channels};'
                f' set model.neck.in_channels={width} or change '
                'model.backbone')

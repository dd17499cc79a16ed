from typing import List, Optional, Tuple, Union

import torch
from mmpretrain.models import BaseSelfSupervisor
from torch import nn

from ...registry import MODELS
from .support_set import SupportSetMixin, linears


@MODELS.register_module()
class NNCLR(SupportSetMixin, BaseSelfSupervisor):
    """NNCLR: nearest-neighbour contrastive learning.

    Implementation of `With a Little Help from My Friends: Nearest-Neighbor
    Contrastive Learning of Visual Representations
    <https://arxiv.org/abs/2104.14548>`_ (Dwibedi et al., ICCV 2021).

    Both views go through the backbone and the neck (projection z) in one
    batch, and through the head's predictor (p). The positive of each
    sample is the nearest neighbour of its z in the support set
    (``memory_bank``, searched as it was before the step), and the head's
    loss contrasts the neighbours of one view with the predictions of the
    other, in both orders. After the loss, view 1's z is enqueued, as in
    lightly's recipe. Gradients reach z only through p. Search, enqueue,
    warm-up and ``nn_acc`` are :class:`SupportSetMixin`'s.

    Args:
        backbone (dict): Backbone config, e.g. mmpretrain's ``ResNet``.
        neck (dict): Projection MLP config, e.g. ``NNCLRNeck``.
        head (dict): Prediction MLP and loss config, e.g. ``NNCLRHead``.
        memory_bank (dict): Support set config, e.g. ``NNMemoryBank``.
        pretrained (str, optional): Checkpoint to initialise from. Defaults
            to None.
        data_preprocessor (dict or nn.Module, optional): Defaults to None,
            mmpretrain's ``SelfSupDataPreprocessor``.
        channels_last (bool): Keep the backbone's weights and inputs in
            NHWC memory order, which many convolution kernels prefer (the
            usual choice with AMP on GPUs; for its effect see
            docs/measured/speed.md). The math is unchanged. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    enqueued_view = 1  # lightly's NNCLR enqueues the second view

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 memory_bank: dict,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            memory_bank=memory_bank,
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.memory_format = (torch.channels_last
                              if channels_last else torch.contiguous_format)
        self.backbone.to(memory_format=self.memory_format)
        self._check_head()

    def _check_head(self) -> None:
        """Fail at build time on a head that cannot predict p from z."""
        if type(self.head).forward is nn.Module.forward:
            raise TypeError(
                f'NNCLR: the head {type(self.head).__name__} has no forward '
                'to predict p from z; use NNCLRHead (its predictor may be '
                'any registered neck). For a cosine head such as '
                'LatentPredictHead, use type=\'NNSiam\' or \'NNBYOL\'')
        feat_dim = self.memory_bank.feat_dim
        head_fcs = linears(self.head)
        if head_fcs and head_fcs[0].in_features != feat_dim:
            raise ValueError(
                f'NNCLR: the head\'s predictor takes {head_fcs[0].in_features}'
                f' channels but the embeddings have feat_dim={feat_dim}')

    def extract_feat(self,
                     inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone features of images fed in the model's memory format.

        Args:
            inputs (Tensor): ``(N, C, H, W)`` images.

        Returns:
            tuple[Tensor, ...]: The backbone's outputs.
        """
        return self.backbone(
            inputs.contiguous(memory_format=self.memory_format))

    def embed(
            self,
            inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """z of both views in one batch, detached (searched), and the
        predictions p from the attached z."""
        z = self.neck(self.extract_feat(torch.cat(inputs)))[0]
        return z.detach(), self.head(z)

    def loss_with_positives(self, p: torch.Tensor,
                            positives: torch.Tensor) -> torch.Tensor:
        """The head's symmetric loss between the positives of one view and
        the predictions of the other."""
        return self.head.loss(positives.chunk(2), p.chunk(2))

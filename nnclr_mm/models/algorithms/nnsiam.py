from typing import List, Tuple

import torch
from mmpretrain.models import SimSiam

from ...registry import MODELS
from .support_set import SupportSetMixin


@MODELS.register_module()
class NNSiam(SupportSetMixin, SimSiam):
    """SimSiam with nearest-neighbour targets (NNSiam).

    mmpretrain's `SimSiam <https://arxiv.org/abs/2011.10566>`_ (its
    backbone, neck, ``LatentPredictHead`` and loss; ``SimSiamHook`` for the
    predictor's fixed learning rate) with the stop-gradient projection of
    each view replaced by its nearest neighbour in a support set, NNCLR's
    idea (Sec. 3.2) as solo-learn's ``solo/methods/nnsiam.py`` applies it:

    - searched: the projections z of both views, detached;
    - loss: SimSiam's, symmetric, with neighbours as targets,
      ``(L(q(z_0), nn(z_1)) + L(q(z_1), nn(z_0))) / 2`` with ``L`` the
      head's loss (negative cosine);
    - enqueued after the loss: z of view 0.

    Gradients reach z only through the predictor q. While ``nn_positives``
    is False (``NNMemoryBankHook``'s warm-up) it is SimSiam. The step itself
    is :class:`SupportSetMixin`'s.

    Args:
        memory_bank (dict): Support set config, e.g. ``NNMemoryBank`` with
            ``feat_dim`` the neck's output width.
        **kwargs: SimSiam's arguments: ``backbone``, ``neck``, ``head``,
            ...

    Examples:
        >>> import torch
        >>> from mmpretrain.registry import MODELS
        >>> import nnclr_mm
        >>> model = MODELS.build(dict(
        ...     type='NNSiam',
        ...     backbone=dict(type='ResNet', depth=18),
        ...     neck=dict(type='NonLinearNeck', in_channels=512,
        ...               hid_channels=64, out_channels=32, num_layers=3,
        ...               with_last_bn_affine=False,
        ...               norm_cfg=dict(type='BN1d')),
        ...     head=dict(type='LatentPredictHead',
        ...               predictor=dict(type='NonLinearNeck', in_channels=32,
        ...                              hid_channels=16, out_channels=32,
        ...                              with_avg_pool=False,
        ...                              with_last_bn=False,
        ...                              with_last_bias=True,
        ...                              norm_cfg=dict(type='BN1d')),
        ...               loss=dict(type='CosineSimilarityLoss')),
        ...     memory_bank=dict(type='NNMemoryBank', size=64, feat_dim=32)))
        >>> views = [torch.randn(4, 3, 32, 32) for _ in range(2)]
        >>> losses = model.loss(views)
        >>> int(model.memory_bank.num_filled)  # view 0's projections
        4
    """

    def embed(
        self, inputs: List[torch.Tensor]
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The projections of both views, detached (searched) and not."""
        z = [self.neck(self.backbone(view))[0] for view in inputs]
        return torch.cat(z).detach(), z

    def loss_with_positives(self, z: List[torch.Tensor],
                            positives: torch.Tensor) -> torch.Tensor:
        """SimSiam's symmetric loss with ``positives`` as targets."""
        positive_0, positive_1 = positives.chunk(2)
        return 0.5 * (self.head.loss(z[0], positive_1) +
                      self.head.loss(z[1], positive_0))

from typing import List, Tuple

import torch
from mmpretrain.models import BYOL
from torch import nn

from ...registry import MODELS
from .support_set import SupportSetMixin


@MODELS.register_module()
class NNBYOL(SupportSetMixin, BYOL):
    """BYOL with nearest-neighbour targets (NNBYOL).

    mmpretrain's `BYOL <https://arxiv.org/abs/2006.07733>`_ (its backbone,
    neck, ``LatentPredictHead``, momentum target network and loss) with the
    target projection of each view replaced by its nearest neighbour in a
    support set, NNCLR's idea (Sec. 3.2) as solo-learn's
    ``solo/methods/nnbyol.py`` applies it:

    - searched: the target network's projections of both views;
    - loss: BYOL's, symmetric, with neighbours as targets,
      ``2 * (L(q(online_0), nn(target_1)) + L(q(online_1), nn(target_0)))``
      with ``L`` the head's loss (mmpretrain's negative cosine, which is
      solo-learn's ``2 - 2 cos`` less a constant);
    - enqueued after the loss: the target projection of view 0.

    No gradient flows through the neighbours or the target network. While
    ``nn_positives`` is False (``NNMemoryBankHook``'s warm-up) it is BYOL.
    The step itself is :class:`SupportSetMixin`'s.

    Args:
        memory_bank (dict): Support set config, e.g. ``NNMemoryBank`` with
            ``feat_dim`` the neck's output width.
        **kwargs: BYOL's arguments: ``backbone``, ``neck``, ``head``,
            ``base_momentum`` (defaults to 0.004), ...

    Examples:
        >>> import torch
        >>> from mmengine.logging import MessageHub
        >>> from mmpretrain.registry import MODELS
        >>> import nnclr_mm
        >>> mlp = dict(type='NonLinearNeck', hid_channels=64,
        ...            out_channels=32, with_bias=True, with_last_bn=False,
        ...            norm_cfg=dict(type='BN1d'))
        >>> model = MODELS.build(dict(
        ...     type='NNBYOL',
        ...     backbone=dict(type='ResNet', depth=18),
        ...     neck=dict(mlp, in_channels=512),
        ...     head=dict(type='LatentPredictHead',
        ...               predictor=dict(mlp, in_channels=32,
        ...                              with_avg_pool=False),
        ...               loss=dict(type='CosineSimilarityLoss')),
        ...     memory_bank=dict(type='NNMemoryBank', size=64, feat_dim=32)))
        >>> # The target's momentum schedule reads the run's length.
        >>> MessageHub.get_current_instance().update_info('max_iters', 10)
        >>> views = [torch.randn(4, 3, 32, 32) for _ in range(2)]
        >>> losses = model.loss(views)
        >>> int(model.memory_bank.num_filled)  # view 0's target projections
        4
    """

    def embed(
        self, inputs: List[torch.Tensor]
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The target projections of both views (searched) after the target
        network's momentum update, and the online projections."""
        online = [self.neck(self.backbone(view))[0] for view in inputs]
        with torch.no_grad():
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            target = torch.cat([self.target_net(view)[0] for view in inputs])
        return target, online

    def loss_with_positives(self, online: List[torch.Tensor],
                            positives: torch.Tensor) -> torch.Tensor:
        """BYOL's symmetric loss with ``positives`` as targets."""
        positive_0, positive_1 = positives.chunk(2)
        return 2. * (self.head.loss(online[0], positive_1) +
                     self.head.loss(online[1], positive_0))

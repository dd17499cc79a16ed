from typing import Dict, List, Optional, Tuple, Union

import torch
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn


def _linears(module: nn.Module) -> List[nn.Linear]:
    """The ``nn.Linear`` layers of ``module``, in registration order."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


@MODELS.register_module()
class NNCLR(BaseSelfSupervisor):
    """NNCLR: nearest-neighbour contrastive learning.

    Implementation of `With a Little Help from My Friends: Nearest-Neighbor
    Contrastive Learning of Visual Representations
    <https://arxiv.org/abs/2104.14548>`_ (Dwibedi et al., ICCV 2021).

    Both views go through the backbone and the neck (projection z) in one
    batch, and through the head's predictor (p). The positive of each
    sample is the nearest neighbour of its z in the support set
    (``memory_bank``), and the head's loss contrasts the neighbours of one
    view with the predictions of the other, in both orders. After the loss,
    view 1's z is enqueued, as in lightly's recipe. Gradients reach z only
    through p.

    Labels in ``data_samples`` (``gt_label``) are stored beside the bank and
    used only to log ``nn_acc``, the fraction of neighbours of the same
    class; they never influence training.

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
            docs/benchmarks.md). The math is unchanged. Defaults to False.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

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
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.memory_bank = MODELS.build(memory_bank)
        self.memory_format = (torch.channels_last
                              if channels_last else torch.contiguous_format)
        self.backbone.to(memory_format=self.memory_format)
        # Set by NNMemoryBankHook: False while positives are the sample's own
        # z (warm-up), True once they are nearest neighbours.
        self.nn_positives = True
        self._check_widths()

    def _check_widths(self) -> None:
        """Fail at build time when neck, bank and predictor disagree on d."""
        feat_dim = self.memory_bank.feat_dim
        neck_fcs = _linears(self.neck)
        if neck_fcs and neck_fcs[-1].out_features != feat_dim:
            raise ValueError(
                f'NNCLR: memory_bank.feat_dim ({feat_dim}) must equal the '
                f'neck\'s output width ({neck_fcs[-1].out_features})')
        head_fcs = _linears(self.head)
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

    @staticmethod
    def _labels(data_samples: Optional[List[DataSample]],
                device: torch.device) -> Optional[torch.Tensor]:
        if not data_samples or not all('gt_label' in s for s in data_samples):
            return None
        return torch.cat([s.gt_label for s in data_samples]).to(device)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """The forward function in training.

        Args:
            inputs (list[Tensor]): The two augmented views, ``(N, C, H, W)``
                each.
            data_samples (list[DataSample], optional): Samples of the batch;
                their ``gt_label``, if any, is used for ``nn_acc`` only.

        Returns:
            dict[str, Tensor]: ``loss``, and ``nn_acc`` when labels are
            given and positives are neighbours.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError('NNCLR: inputs must be a list of 2 views; set '
                             'num_views=2 in the pipeline\'s MultiView, got '
                             f'{type(inputs).__name__} of length '
                             f'{len(inputs)}')
        z = self.neck(self.extract_feat(torch.cat(inputs)))[0]
        p = self.head(z)
        z = z.detach()
        labels = self._labels(data_samples, z.device)

        losses = {}
        if self.nn_positives:
            neighbours, idx = self.memory_bank.nearest(z)
            nn_acc = self._nn_acc(idx, labels)
            if nn_acc is not None:
                losses['nn_acc'] = nn_acc
        else:
            neighbours = z
        losses['loss'] = self.head.loss(neighbours.chunk(2), p.chunk(2))
        self.memory_bank.enqueue(z.chunk(2)[1], labels)
        return losses

    def _nn_acc(self, idx: torch.Tensor,
                labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """Fraction of neighbours whose stored label equals the query's.

        ``idx`` holds the neighbours of both views; None when no query or
        no neighbour has a label.
        """
        if labels is None:
            return None
        stored = self.memory_bank.labels[idx.clamp(min=0)]
        known = (idx >= 0) & (stored >= 0)
        if not known.any():
            return None
        return (stored == labels.repeat(2))[known].float().mean()

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.structures import DataSample
from torch import nn

from ...registry import MODELS


def linears(module: nn.Module) -> List[nn.Linear]:
    """The ``nn.Linear`` layers of ``module``, in registration order."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


class SupportSetMixin:
    """Nearest-neighbour positives from a support set, for any SSL method.

    The idea of `NNCLR <https://arxiv.org/abs/2104.14548>`_ (Sec. 3.2): the
    positive of a sample is the nearest neighbour of its embedding in a
    support set of past embeddings (an ``NNMemoryBank``). Mixed in before
    an mmpretrain method (``class NNBYOL(SupportSetMixin, BYOL)``), it takes
    a ``memory_bank`` config beside the method's own arguments and runs
    every training step the same way (:meth:`loss`); the method supplies
    :meth:`embed` and :meth:`loss_with_positives`:

    1. ``embed`` returns the detached embeddings to search, ``(2N, d)``
       with view 0 first, and whatever else the method's loss needs;
    2. each is replaced by its nearest neighbour in the bank as it was
       before the step;
    3. ``loss_with_positives`` computes the method's loss with those
       positives in place of the embeddings;
    4. view ``enqueued_view`` of the searched embeddings is enqueued.

    ``nn_positives`` is the warm-up switch, set by ``NNMemoryBankHook``:
    while it is False the positives are the embeddings themselves, i.e.
    the method unchanged. Labels of ``data_samples`` are stored beside the
    bank only to log ``nn_acc``, the fraction of neighbours of the query's
    class; they never influence training.

    Args:
        memory_bank (dict): Support set config, e.g. ``NNMemoryBank`` with
            ``feat_dim`` the neck's output width.
        **kwargs: The mixed-in method's arguments (backbone, neck, head,
            ...).
    """

    #: The view whose embeddings are enqueued (0 or 1).
    enqueued_view = 0

    def __init__(self, memory_bank: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.memory_bank = MODELS.build(memory_bank)
        self.nn_positives = True
        feat_dim = self.memory_bank.feat_dim
        neck_fcs = linears(self.neck)
        if neck_fcs and neck_fcs[-1].out_features != feat_dim:
            raise ValueError(
                f'{type(self).__name__}: memory_bank.feat_dim ({feat_dim}) '
                'must equal the neck\'s output width '
                f'({neck_fcs[-1].out_features})')

    def embed(self, inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, Any]:
        """Embed both views; each method defines it.

        Args:
            inputs (list[Tensor]): The two augmented views, ``(N, C, H, W)``
                each.

        Returns:
            tuple[Tensor, Any]: The detached ``(2N, d)`` embeddings to
            search (view 0 first), and what :meth:`loss_with_positives`
            needs besides.
        """
        raise NotImplementedError

    def loss_with_positives(self, outputs: Any,
                            positives: torch.Tensor) -> torch.Tensor:
        """The method's loss with positives in place of the searched
        embeddings; each method defines it.

        Args:
            outputs (Any): The second item :meth:`embed` returned.
            positives (Tensor): ``(2N, d)``, view 0 first.

        Returns:
            Tensor: The scalar loss.
        """
        raise NotImplementedError

    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """The method's ``'tensor'`` and ``'loss'`` modes; ``'predict'``
        (what mmpretrain's ``inference_model`` and classification
        inferencer call) says what to use instead.

        Args:
            inputs (Tensor | list[Tensor]): Images, or the two views.
            data_samples (list[DataSample], optional): Defaults to None.
            mode (str): ``'tensor'`` or ``'loss'``. Defaults to
                ``'tensor'``.

        Raises:
            RuntimeError: For ``mode='predict'``: a self-supervised model
                predicts no classes.
        """
        if mode == 'predict':
            raise RuntimeError(
                f'{type(self).__name__} is self-supervised: it predicts no '
                'classes. For features use mmpretrain.FeatureExtractor('
                'CONFIG, pretrained=CKPT); for the nearest images of a '
                'query, mmpretrain.ImageRetrievalInferencer(RETRIEVAL_CONFIG,'
                ' prototype=FOLDER, pretrained=CKPT) with a retrieval config '
                '(nnclr_mm::nnclr/benchmarks/resnet18_retrieval_fashion-'
                'mnist.py) or `nnclr-mm retrieve`; for classes, train a '
                'linear probe (`nnclr-mm linear-probe`) and give its '
                'checkpoint to inference_model')
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """The forward function in training.

        Args:
            inputs (list[Tensor]): The two augmented views, ``(N, C, H, W)``
                each.
            data_samples (list[DataSample], optional): Samples of the batch;
                their ``gt_label``, if any, is used for ``nn_acc`` only.
                Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss``, and ``nn_acc`` when labels are
            given and positives are neighbours.
        """
        self._check_views(inputs)
        searched, outputs = self.embed(inputs)
        labels = self.labels_of(data_samples, searched.device)
        positives, losses = self.positives(searched, labels)
        losses['loss'] = self.loss_with_positives(outputs, positives)
        self.memory_bank.enqueue(
            searched.chunk(2)[self.enqueued_view], labels)
        return losses

    def _check_views(self, inputs: Sequence[torch.Tensor]) -> None:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f'{type(self).__name__}: inputs must be a list of 2 views; '
                'set num_views=2 in the pipeline\'s MultiView, got '
                f'{type(inputs).__name__} of length {len(inputs)}')

    @staticmethod
    def labels_of(data_samples: Optional[List[DataSample]],
                  device: torch.device) -> Optional[torch.Tensor]:
        """The ``(N, )`` gt_label of the batch, None if any is missing."""
        if not data_samples or not all('gt_label' in s for s in data_samples):
            return None
        return torch.cat([s.gt_label for s in data_samples]).to(device)

    def positives(
        self, embeddings: torch.Tensor, labels: Optional[torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """The positive of each embedding, searched in the bank as it is.

        Args:
            embeddings (Tensor): ``(2N, d)`` detached embeddings, view 0
                first.
            labels (Tensor, optional): ``(N, )`` labels of the batch.

        Returns:
            tuple[Tensor, dict]: The ``(2N, d)`` positives (L2-normalised
            neighbours; ``embeddings`` itself while ``nn_positives`` is
            False), and ``nn_acc`` when labels allow it.
        """
        if not self.nn_positives:
            return embeddings, {}
        neighbours, idx = self.memory_bank.nearest(embeddings)
        if labels is None:
            return neighbours, {}
        stored = self.memory_bank.labels[idx.clamp(min=0)]
        known = (idx >= 0) & (stored >= 0)
        if not known.any():
            return neighbours, {}
        nn_acc = (stored == labels.repeat(2))[known].float().mean()
        return neighbours, dict(nn_acc=nn_acc)

from typing import Iterable, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.utils import get_ori_model
from torch import nn

from .._validation import check_choice

#: What :func:`embed_batch` can return.
FEATURES = ('backbone', 'neck', 'pixels')


@torch.no_grad()
def embed_batch(model: nn.Module,
                data_batch: dict,
                features: str = 'backbone',
                fp16: bool = False) -> Tuple[torch.Tensor, Sequence]:
    """L2-normalised features of one batch from a dataloader.

    Args:
        model (nn.Module): An mmpretrain model (wrapped or not) with a
            data preprocessor and a backbone.
        data_batch (dict): A batch as the dataloader yields it.
        features (str): ``'backbone'`` (pooled last stage), ``'neck'`` (the
            neck's output on it, for self-supervised models: NNCLR's z,
            which the support set stores) or
            ``'pixels'`` (the preprocessed images). Defaults to
            ``'backbone'``.
        fp16 (bool): Run the network under autocast. Defaults to False.

    Returns:
        tuple[Tensor, Sequence]: ``(N, C)`` features and the data samples.
    """
    check_choice('embed_batch', 'features', features, FEATURES)
    model = get_ori_model(model)
    data = model.data_preprocessor(data_batch, False)
    inputs = data['inputs']
    if features == 'pixels':
        return F.normalize(inputs.flatten(1).float(), dim=1), \
            data['data_samples']
    with torch.autocast(inputs.device.type, enabled=fp16):
        # extract_feat: the model's own input handling (e.g. NNCLR's
        # channels_last), and a pooled output for classifiers.
        feats = model.extract_feat(inputs)
        if features == 'neck':
            feats = model.neck(feats)
    feats = feats[-1] if isinstance(feats, (tuple, list)) else feats
    if feats.dim() > 2:
        feats = feats.flatten(2).mean(2)
    return F.normalize(feats.float(), dim=1), data['data_samples']


def embed_dataset(
        model: nn.Module,
        dataloader: Iterable[dict],
        features: str = 'backbone') -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels (-1 where absent) of a whole dataloader, in its
    order (single process).

    Args:
        model (nn.Module): See :func:`embed_batch`.
        dataloader (Iterable[dict]): Yields batches; use ``shuffle=False``
            to keep the dataset's order.
        features (str): See :func:`embed_batch`.

    Returns:
        tuple[Tensor, Tensor]: ``(N, C)`` features on the CPU and ``(N, )``
        labels.
    """
    all_feats, all_labels = [], []
    for data_batch in dataloader:
        feats, samples = embed_batch(model, data_batch, features)
        all_feats.append(feats.cpu())
        all_labels += [
            s.gt_label.item() if 'gt_label' in s else -1 for s in samples
        ]
    return torch.cat(all_feats), torch.tensor(all_labels)

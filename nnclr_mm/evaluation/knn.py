import torch
import torch.nn.functional as F

from .._validation import check_positive
from ..utils import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine


def weighted_knn_scores(
        queries: torch.Tensor,
        bank: torch.Tensor,
        bank_labels: torch.Tensor,
        num_classes: int,
        k: int = 200,
        temperature: float = 0.07,
        chunk_elems: int = DEFAULT_CHUNK_ELEMS,
        normalized: bool = False) -> torch.Tensor:
    """Class scores of a temperature-weighted kNN classifier.

    From `Unsupervised Feature Learning via Non-Parametric Instance
    Discrimination <https://arxiv.org/abs/1805.01978>`_ (Wu et al., 2018,
    Sec. 3.4), the kNN protocol of SSL papers: each of the k most
    cosine-similar bank samples votes for its class with weight
    ``exp(similarity / temperature)``.

    Args:
        queries (Tensor): ``(N, C)`` features to classify.
        bank (Tensor): ``(M, C)`` labelled features.
        bank_labels (Tensor): ``(M, )`` integer labels of ``bank``.
        num_classes (int): Number of classes.
        k (int): Number of neighbours (capped at M). Defaults to 200.
        temperature (float): Vote temperature. Defaults to 0.07.
        chunk_elems (int): Bound on the similarity block, see
            :func:`chunked_topk_cosine`. Defaults to ``DEFAULT_CHUNK_ELEMS``.
        normalized (bool): Whether ``queries`` and ``bank`` hold unit rows
            already (as :class:`KNNValLoop` keeps its bank): then the search
            runs in ``bank``'s dtype (e.g. float16) on the tensors as given,
            with no float32 copy of the bank. Defaults to False: both are
            normalised in float32.

    Returns:
        Tensor: ``(N, num_classes)`` scores in float32, normalised to sum
        to 1.
    """
    check_positive('weighted_knn_scores', 'temperature', temperature)
    if normalized:
        queries = queries.to(bank.dtype)
    else:
        queries = F.normalize(queries.float(), dim=1)
        bank = F.normalize(bank.float(), dim=1)
    sim, idx = chunked_topk_cosine(queries, bank, min(k, len(bank)),
                                   chunk_elems)
    # float32 before exp: exp(1 / 0.07) overflows float16.
    votes = (sim.float() / temperature).exp()
    scores = torch.zeros(len(queries), num_classes, device=queries.device)
    scores.scatter_add_(1, bank_labels.to(idx.device)[idx], votes)
    return scores / scores.sum(1, keepdim=True)

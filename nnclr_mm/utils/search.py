"""Nearest neighbours by cosine similarity, in bounded memory: the search
the support set, the kNN evaluation and the neighbour pictures share."""
from typing import Iterator, Tuple

import torch

#: Elements of one similarity block of the chunked search (8 MiB in fp32):
#: the search's extra memory is bounded by it whatever the bank size. For
#: the choice of 2**21 see docs/measured/speed.md.
DEFAULT_CHUNK_ELEMS = 2**21


def _similarity_blocks(queries: torch.Tensor, keys: torch.Tensor,
                       chunk: int) -> Iterator[Tuple[int, torch.Tensor]]:
    """Similarity blocks of ``queries`` against consecutive ``keys``.

    Every block is written into one buffer of ``N * min(chunk, M)``
    elements, allocated once whatever ``M``, so a block is valid only until
    the next one is yielded. (Why one buffer rather than a fresh block per
    chunk: see docs/measured/speed.md.)

    Args:
        queries (Tensor): ``(N, C)``.
        keys (Tensor): ``(M, C)``, of ``queries``' dtype.
        chunk (int): Keys per block.

    Yields:
        tuple[int, Tensor]: ``start`` and the ``(N, chunk)`` block
        ``queries @ keys[start:start + chunk].T`` (fewer columns at the
        end).
    """
    n = queries.size(0)
    buffer = queries.new_empty(n * min(chunk, keys.size(0)))
    for start in range(0, keys.size(0), chunk):
        part = keys[start:start + chunk]
        block = buffer[:n * part.size(0)].view(n, part.size(0))
        yield start, torch.mm(queries, part.T, out=block)


@torch.no_grad()
def chunked_topk_cosine(queries: torch.Tensor, keys: torch.Tensor, k: int,
                        chunk_elems: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-k dot products of ``queries`` against ``keys``, chunk by chunk.

    Only a ``(N, chunk)`` block of similarities exists at a time, so the
    extra memory is bounded by ``chunk_elems`` whatever the number of keys.
    The products run in ``queries``' dtype, also under autocast, and carry
    no gradient.

    Args:
        queries (Tensor): ``(N, C)``, L2-normalised.
        keys (Tensor): ``(M, C)``, L2-normalised, ``M >= k``, of
            ``queries``' dtype.
        k (int): How many neighbours to keep per query.
        chunk_elems (int): Elements of one similarity block; the block has
            ``max(1, chunk_elems // N)`` keys.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` similarities, in descending order,
        and the ``(N, k)`` indices into ``keys``.
    """
    chunk = max(1, chunk_elems // queries.size(0))
    blocks = _similarity_blocks(queries, keys, chunk)
    if k == 1:
        return _running_max(blocks)
    best_sim = best_idx = None
    for start, sim in blocks:
        sim, idx = sim.topk(min(k, sim.size(1)), dim=1)
        idx += start
        if best_sim is not None:
            sim = torch.cat([best_sim, sim], 1)
            sim, pos = sim.topk(min(k, sim.size(1)), dim=1)
            idx = torch.cat([best_idx, idx], 1).gather(1, pos)
        best_sim, best_idx = sim, idx
    return best_sim, best_idx


def _running_max(
    blocks: Iterator[Tuple[int, torch.Tensor]]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-1 of :func:`chunked_topk_cosine` by a running max over blocks.

    The common case k = 1 needs no ``topk`` (for the choice, see
    docs/measured/speed.md). Across blocks only a strictly greater similarity
    replaces the best one, so a tie keeps the earlier key, as ``argmax``
    does.

    Args:
        blocks (Iterator[tuple[int, Tensor]]): As yielded by
            :func:`_similarity_blocks`.

    Returns:
        tuple[Tensor, Tensor]: ``(N, 1)`` similarities and indices.
    """
    best_sim = best_idx = None
    for start, sim in blocks:
        sim, idx = sim.max(dim=1)
        idx += start
        if best_sim is None:
            best_sim, best_idx = sim, idx
        else:
            better = sim > best_sim
            best_sim = torch.where(better, sim, best_sim)
            best_idx = torch.where(better, idx, best_idx)
    return best_sim[:, None], best_idx[:, None]

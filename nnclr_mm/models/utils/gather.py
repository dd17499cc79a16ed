"""All-gather helpers for contrastive losses under DDP."""
from typing import Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import all_gather, get_rank, get_world_size


class _AllGatherWithGrad(torch.autograd.Function):
    """All-gather whose backward sums the gradients of every rank.

    Each rank's loss uses the gathered tensor, so the gradient of a rank's
    input is the sum over ranks of the gradients that reach its slice. With
    DDP's gradient averaging this makes a W-process step equal to a
    1-process step on the concatenated batch. (mmpretrain's ``GatherLayer``
    keeps only the local rank's gradient and drops the rest.)
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(all_gather(x))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor) -> torch.Tensor:
        grad = torch.stack(grads)
        # gloo has no reduce_scatter; all_reduce then slice is equivalent.
        torch_dist.all_reduce(grad)
        return grad[get_rank()]


def concat_all_gather(x: torch.Tensor, grad: bool = False) -> torch.Tensor:
    """Concatenate ``x`` from all ranks in rank order.

    Args:
        x (Tensor): The local tensor; every rank passes the same shape.
        grad (bool): Whether gradients flow back to every rank's ``x``
            (summed over the ranks' losses). Defaults to False, which
            detaches the result.

    Returns:
        Tensor: ``(world_size * N, ...)``; ``x`` itself outside DDP.
    """
    if get_world_size() == 1:
        return x
    if grad:
        return torch.cat(_AllGatherWithGrad.apply(x))
    return torch.cat(all_gather(x.detach()))


def gather_rows(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` of every rank in rank order, whatever the number
    of rows each holds; ``x`` itself in one process.

    Args:
        x (Tensor): ``(N_rank, ...)``, the same trailing shape on all ranks.

    Returns:
        Tensor: ``(sum of N_rank, ...)``.
    """
    if get_world_size() == 1:
        return x
    sizes = [int(n) for n in all_gather(x.new_tensor([len(x)]))]
    padded = x.new_zeros((max(sizes), *x.shape[1:]))
    padded[:len(x)] = x
    return torch.cat(
        [part[:n] for part, n in zip(all_gather(padded), sizes)])

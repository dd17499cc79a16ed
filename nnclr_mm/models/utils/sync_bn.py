"""Synchronised batch normalisation for CPU tensors (gloo)."""
import torch
import torch.distributed as torch_dist
from torch import nn


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks; the gradient of a sum is summed over ranks too."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        torch_dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        torch_dist.all_reduce(grad)
        return grad


def cpu_sync_batch_norm(bn: nn.modules.batchnorm._BatchNorm,
                        x: torch.Tensor) -> torch.Tensor:
    """Training-mode batch norm of ``x`` with statistics over all ranks.

    The statistics, the running averages and the gradients equal those of
    :class:`torch.nn.SyncBatchNorm` on GPUs (and of plain BN on the
    concatenated batch), computed from per-channel sums that are
    all-reduced; torch's own kernel accepts only accelerator tensors.

    Args:
        bn (_BatchNorm): The layer, for its buffers and parameters.
        x (Tensor): ``(N, C, ...)`` input on the CPU.

    Returns:
        Tensor: The normalised ``x``.
    """
    channels = x.size(1)
    dims = [0] + list(range(2, x.dim()))
    count = x.new_tensor([x.numel() // channels])
    stats = _AllReduceSum.apply(
        torch.cat([x.sum(dims), (x * x).sum(dims), count]))
    total = stats[-1]
    mean = stats[:channels] / total
    var = stats[channels:2 * channels] / total - mean * mean
    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            factor = (1.0 / bn.num_batches_tracked.item()
                      if bn.momentum is None else bn.momentum)
            unbiased = var * total / (total - 1)
            bn.running_mean.mul_(1 - factor).add_(factor * mean)
            bn.running_var.mul_(1 - factor).add_(factor * unbiased)
    shape = [1, channels] + [1] * (x.dim() - 2)
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + bn.eps)
    if bn.affine:
        out = out * bn.weight.view(shape) + bn.bias.view(shape)
    return out


class CPUSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """:class:`torch.nn.SyncBatchNorm` for modules trained on CPUs.

    torch's SyncBatchNorm has only accelerator kernels, and DDP refuses it
    in a CPU module. This layer has the same parameters, buffers and
    statistics (see :func:`cpu_sync_batch_norm`); it synchronises over the
    default process group while training under DDP and is plain batch norm
    otherwise. :func:`convert_sync_batchnorm_for_cpu` swaps it in.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                f'expected at least 2D input (got {input.dim()}D input)')

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(input)
        if (self.training and torch_dist.is_available()
                and torch_dist.is_initialized()
                and torch_dist.get_world_size() > 1):
            return cpu_sync_batch_norm(self, input)
        return super().forward(input)


def convert_sync_batchnorm_for_cpu(module: nn.Module) -> nn.Module:
    """Replace every :class:`torch.nn.SyncBatchNorm` by a
    :class:`CPUSyncBatchNorm` that shares its parameters and buffers.

    Args:
        module (nn.Module): A model on the CPU.

    Returns:
        nn.Module: ``module`` itself, or the replacement if it is a
        SyncBatchNorm.
    """
    if isinstance(module, nn.SyncBatchNorm):
        if module.process_group is not None:
            raise NotImplementedError(
                'SyncBatchNorm on the CPU supports the default process group '
                'only')
        converted = CPUSyncBatchNorm(module.num_features, module.eps,
                                     module.momentum, module.affine,
                                     module.track_running_stats)
        if module.affine:
            converted.weight = module.weight
            converted.bias = module.bias
        if module.track_running_stats:
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
        converted.train(module.training)
        return converted
    for name, child in module.named_children():
        module.add_module(name, convert_sync_batchnorm_for_cpu(child))
    return module

import torch
import torch.nn.functional as F


def fit_linear_probe(feats: torch.Tensor,
                     labels: torch.Tensor,
                     num_classes: int,
                     weight_decay: float = 1e-4,
                     max_iter: int = 100) -> torch.nn.Linear:
    """A multinomial logistic regression on frozen features.

    The linear evaluation of SimCLR's transfer experiments (Chen et al.
    2020, App. B.8): standardised features, an L2-regularised softmax
    classifier fitted by full-batch L-BFGS in fp32, no augmentation.
    Deterministic for given inputs. It fits precomputed features, with no
    pass through the network; a probe trained by SGD through the network
    (the linear-probe config) takes epochs of forward passes instead.

    Args:
        feats (Tensor): ``(N, C)`` training features.
        labels (Tensor): ``(N, )`` integer labels in ``[0, num_classes)``.
        num_classes (int): Number of classes.
        weight_decay (float): Coefficient of ``0.5 * ||W||^2`` added to the
            mean cross-entropy. Defaults to 1e-4.
        max_iter (int): At most this many L-BFGS iterations; it stops
            earlier when the gradient vanishes. Defaults to 100.

    Returns:
        nn.Linear: The classifier on ``feats``' device, with the
        standardisation folded into its weight and bias so that it applies
        to raw ``feats``.

    Examples:
        >>> feats = torch.randn(100, 8)
        >>> labels = (feats[:, 0] > 0).long()
        >>> probe = fit_linear_probe(feats, labels, num_classes=2)
        >>> (probe(feats).argmax(1) == labels).float().mean().item()
        1.0
    """
    if feats.dim() != 2 or len(feats) != len(labels):
        raise ValueError('fit_linear_probe: feats must be (N, C) and labels '
                         f'(N, ), got {tuple(feats.shape)} and '
                         f'{tuple(labels.shape)}')
    feats = feats.float()
    # Statistics in fp64: a large N must not bias them.
    mean = feats.double().mean(0).float()
    std = feats.double().std(0).float().clamp_min(1e-8)
    x = (feats - mean) / std
    weight = torch.zeros(num_classes, x.shape[1], dtype=x.dtype,
                         device=x.device, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=x.dtype, device=x.device,
                       requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter,
                                  tolerance_grad=1e-7, tolerance_change=0,
                                  history_size=20,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = probe_objective(x, labels, weight, bias, weight_decay)
        loss.backward()
        return loss

    optimizer.step(closure)
    probe = torch.nn.Linear(x.shape[1], num_classes, device=x.device)
    with torch.no_grad():
        # W((f - m) / s) + b = (W / s) f + (b - (W / s) m)
        folded = weight / std
        probe.weight.copy_(folded)
        probe.bias.copy_(bias - folded @ mean)
    return probe


def probe_objective(x: torch.Tensor, labels: torch.Tensor,
                    weight: torch.Tensor, bias: torch.Tensor,
                    weight_decay: float) -> torch.Tensor:
    """What :func:`fit_linear_probe` minimises over ``weight`` and ``bias``
    on standardised features ``x``: mean cross-entropy plus
    ``0.5 * weight_decay * ||weight||^2``.

    Args:
        x (Tensor): ``(N, C)`` standardised features.
        labels (Tensor): ``(N, )`` integer labels.
        weight (Tensor): ``(num_classes, C)`` weights.
        bias (Tensor): ``(num_classes, )`` biases.
        weight_decay (float): The L2 coefficient.

    Returns:
        Tensor: The scalar objective.
    """
    return (F.cross_entropy(x @ weight.T + bias, labels) +
            0.5 * weight_decay * weight.pow(2).sum())

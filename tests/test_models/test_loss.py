import math

import pytest
import torch
from toolkit import AUTOCAST_DTYPE, autocast

from nnclr_mm.models import NNCLRLoss


def _unit(v):
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def _dot(u, v):
    return sum(x * y for x, y in zip(u, v))


def reference_paper_loss(anchors, targets, tau):
    """Eq. 2 of the paper, symmetrised over rows and columns, by hand."""
    a = [_unit(r) for r in anchors.tolist()]
    t = [_unit(r) for r in targets.tolist()]
    n = len(a)
    rows = cols = 0.0
    for i in range(n):
        # Row i: anchor i against every target.
        denom = sum(math.exp(_dot(a[i], t[k]) / tau) for k in range(n))
        rows += -math.log(math.exp(_dot(a[i], t[i]) / tau) / denom)
        # Column i: target i against every anchor.
        denom = sum(math.exp(_dot(a[k], t[i]) / tau) for k in range(n))
        cols += -math.log(math.exp(_dot(a[i], t[i]) / tau) / denom)
    return (rows / n + cols / n) / 2


def reference_ntxent(anchors, targets, tau):
    """SimCLR's NT-Xent over the 2N samples [anchors; targets], by hand."""
    x = [_unit(r) for r in anchors.tolist() + targets.tolist()]
    n = len(anchors)
    total = 0.0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        denom = sum(
            math.exp(_dot(x[i], x[k]) / tau) for k in range(2 * n) if k != i)
        total += -math.log(math.exp(_dot(x[i], x[pos]) / tau) / denom)
    return total / (2 * n)


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(3)
    return torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)


@pytest.mark.parametrize('mode, reference, tau', [
    ('paper', reference_paper_loss, 0.1), ('paper', reference_paper_loss, 0.5),
    ('paper', reference_paper_loss, 1.0), ('ntxent', reference_ntxent, 0.1),
    ('ntxent', reference_ntxent, 0.5)])
def test_each_mode_equals_its_hand_written_formula(pair, mode, reference, tau,
                                                   device):
    anchors, targets = pair
    loss = NNCLRLoss(temperature=tau, mode=mode)(anchors.to(device),
                                                 targets.to(device))
    expected = reference(anchors, targets, tau)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_modes_differ(pair):
    # Guards against both modes silently computing the same thing.
    paper = NNCLRLoss(0.5, 'paper')(*pair)
    ntxent = NNCLRLoss(0.5, 'ntxent')(*pair)
    assert abs(paper.item() - ntxent.item()) > 1e-3


def test_perfect_alignment_gives_known_value():
    # Orthonormal anchors equal to targets: positives score 1/tau, the
    # n - 1 negatives 0, so each paper row is log(e^(1/tau) + n - 1) - 1/tau.
    n, tau = 4, 0.5
    eye = torch.eye(n)
    loss = NNCLRLoss(tau, 'paper')(eye, eye)
    expected = math.log(math.exp(1 / tau) + n - 1) - 1 / tau
    assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('mode, reference', [('paper', reference_paper_loss),
                                             ('ntxent', reference_ntxent)])
def test_gradient_flows_only_to_targets_and_matches_reference(
        pair, mode, reference):
    anchors, targets = (x.double().requires_grad_() for x in pair)
    NNCLRLoss(0.2, mode)(anchors, targets).backward()
    assert anchors.grad is None
    # Central finite differences of the hand-written formula.
    eps = 1e-6
    base = targets.detach()
    numeric = torch.zeros_like(base)
    for idx in [(0, 0), (2, 3), (5, 4)]:
        plus, minus = base.clone(), base.clone()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (reference(anchors.detach(), plus, 0.2) -
                        reference(anchors.detach(), minus, 0.2)) / (2 * eps)
        assert targets.grad[idx].item() == pytest.approx(
            numeric[idx].item(), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('kwargs, culprit', [
    (dict(temperature=0.0), 'temperature'),
    (dict(temperature=-1), 'temperature'),
    (dict(mode='infonce'), 'mode'),
])
def test_bad_arguments_name_the_culprit(kwargs, culprit):
    with pytest.raises(ValueError, match=culprit):
        NNCLRLoss(**kwargs)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r'\(4, 3\) and \(4, 5\)'):
        NNCLRLoss()(torch.randn(4, 3), torch.randn(4, 5))


@pytest.mark.parametrize('mode', ['paper', 'ntxent'])
def test_mixed_precision_loss_is_fp32_and_close(pair, mode, device):
    # Inputs as --amp gives them (bf16 on the CPU, 8-bit mantissa; fp16 on
    # CUDA, 11-bit): what is left is the rounding of the similarities,
    # within one bf16 unit (2 ** -8) of the loss; measured 4e-4 in bf16.
    dtype = AUTOCAST_DTYPE[device.type]
    anchors, targets = (x.to(device, dtype) for x in pair)
    reference = (reference_paper_loss if mode == 'paper' else
                 reference_ntxent)(anchors.float(), targets.float(), 0.1)
    with autocast(device):
        loss = NNCLRLoss(temperature=0.1, mode=mode)(anchors, targets)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(reference, rel=2**-8)

"""The loss and the support set against lightly's own modules, which
lightly's NNCLR example trains with, on every device."""
import pytest
import torch
import torch.nn.functional as F

from nnclr_mm.models import NNCLRLoss, NNMemoryBank

lightly_loss = pytest.importorskip('lightly.loss')
lightly_modules = pytest.importorskip('lightly.models.modules')


def test_ntxent_mode_equals_lightly_ntxent_loss(device):
    g = torch.Generator().manual_seed(0)
    anchors = torch.randn(16, 8, generator=g).to(device)
    targets = torch.randn(16, 8, generator=g).to(device)
    ours_p = targets.clone().requires_grad_()
    theirs_p = targets.clone().requires_grad_()
    # lightly's recipe: NTXentLoss() (temperature 0.5), neighbours first.
    ours = NNCLRLoss(temperature=0.5, mode='ntxent')(anchors, ours_p)
    theirs = lightly_loss.NTXentLoss()(anchors, theirs_p)
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(ours_p.grad, theirs_p.grad, rtol=1e-5,
                               atol=1e-7)


def test_support_set_equals_lightly_nn_memory_bank(device):
    # lightly's bank starts full of random rows and, at its end, drops what
    # does not fit; a size the batch divides and a full first pass make the
    # two banks hold the same rows (lightly's raw, ours L2-normalised).
    size, dim, batch = 64, 16, 16
    theirs = lightly_modules.NNMemoryBankModule(size=(size, dim)).to(device)
    ours = NNMemoryBank(size, dim).to(device)
    g = torch.Generator().manual_seed(1)
    for step in range(size // batch + 3):
        z0, z1 = (torch.randn(batch, dim, generator=g).to(device)
                  for _ in range(2))
        # The recipe's order: view 0 searched, view 1 searched and stored.
        nn0 = theirs(z0, update=False)
        nn1 = theirs(z1, update=True)
        ours_nn0, _ = ours.nearest(z0)
        ours_nn1 = ours(z1, update=True)
        if step >= size // batch:  # both banks full of the same rows
            torch.testing.assert_close(ours_nn0, F.normalize(nn0, dim=1))
            torch.testing.assert_close(ours_nn1, F.normalize(nn1, dim=1))
    torch.testing.assert_close(ours.bank, F.normalize(theirs.bank, dim=1))

"""Distributed training without CUDA: when the fix applies, and that it
wraps mmengine once. Training itself runs in tests/test_distributed.py,
the SyncBN layers in tests/test_models/test_sync_bn.py."""
import mmengine.dist
import pytest
import torch
from mmengine.model import MMDistributedDataParallel

from nnclr_mm._compat import cpu_distributed


@pytest.mark.parametrize('cuda, needed', [(False, True), (True, False)])
def test_needed_without_cuda(monkeypatch, cuda, needed):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    assert cpu_distributed.needed() is needed


def test_init_dist_uses_gloo_and_selects_no_device():
    calls = []

    def init_dist(launcher, backend, init_backend, **kwargs):
        torch.cuda.set_device(0)  # fails without CUDA unless patched out
        calls.append((launcher, backend, init_backend, kwargs))

    set_device = torch.cuda.set_device
    cpu_distributed._cpu_init_dist(init_dist)('pytorch', timeout=5)
    assert calls == [('pytorch', 'gloo', 'torch', dict(timeout=5))]
    assert torch.cuda.set_device is set_device


@pytest.mark.skipif(not cpu_distributed.needed(),
                    reason='CUDA is available: not fixed')
def test_fixing_twice_wraps_once():
    init_dist = mmengine.dist.init_dist
    ddp_init = MMDistributedDataParallel.__init__
    cpu_distributed.fix_cpu_distributed()
    assert mmengine.dist.init_dist is init_dist
    assert MMDistributedDataParallel.__init__ is ddp_init

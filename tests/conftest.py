import os

import pytest
import torch

# Make every test deterministic and keep the 2-core CI machine responsive.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def tiny_nnclr_cfg(bank_size: int = 64, feat_dim: int = 32,
                   loss: dict = None) -> dict:
    """A ResNet-18 NNCLR small enough for CPU unit tests."""
    return dict(
        type='NNCLR',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(
            type='NNCLRNeck',
            in_channels=512,
            hid_channels=64,
            out_channels=feat_dim),
        head=dict(
            type='NNCLRHead',
            predictor=dict(
                type='NonLinearNeck',
                in_channels=feat_dim,
                hid_channels=64,
                out_channels=feat_dim,
                num_layers=2,
                with_last_bn=False,
                with_last_bias=True,
                with_avg_pool=False,
                norm_cfg=dict(type='BN1d')),
            loss=loss or dict(type='NNCLRLoss', temperature=0.1)),
        memory_bank=dict(
            type='NNMemoryBank', size=bank_size, feat_dim=feat_dim))


@pytest.fixture
def tiny_cfg():
    """Factory of :func:`tiny_nnclr_cfg` configs."""
    return tiny_nnclr_cfg


@pytest.fixture
def build_tiny_nnclr():
    from mmpretrain.registry import MODELS

    import nnclr_mm  # noqa: F401

    def build(**kwargs):
        return MODELS.build(tiny_nnclr_cfg(**kwargs))

    return build

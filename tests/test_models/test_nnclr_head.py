"""NNCLRHead's predictor: the paper's MLP, completed from the keys given."""
import torch
from mmpretrain.registry import MODELS
from torch import nn

import nnclr_mm  # noqa: F401


def layers(head, channels):
    """What each layer of the head's MLP is, in the order a forward pass
    runs them, as the paper would list them."""
    described = []

    def describe(m, inputs, output):
        if isinstance(m, nn.Linear):
            described.append(('Linear', m.in_features, m.out_features,
                              m.bias is not None))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            described.append((type(m).__name__, m.num_features))
        elif isinstance(m, nn.ReLU):
            described.append(('ReLU', ))

    for m in head.predictor.modules():
        m.register_forward_hook(describe)
    head(torch.randn(4, channels))
    return described


def test_default_predictor_is_the_papers_mlp():
    # Sec. 4.1: prediction MLP [4096, d], d = 256, Linear-BN-ReLU-Linear.
    head = MODELS.build(dict(type='NNCLRHead'))
    assert layers(head, 256) == [('Linear', 256, 4096, False),
                                 ('BatchNorm1d', 4096), ('ReLU', ),
                                 ('Linear', 4096, 256, True)]


def test_widths_given_keep_the_papers_structure():
    head = MODELS.build(
        dict(type='NNCLRHead',
             predictor=dict(in_channels=128, hid_channels=512,
                            norm_cfg=dict(type='SyncBN'))))
    assert layers(head, 128) == [('Linear', 128, 512, False),
                                 ('SyncBatchNorm', 512), ('ReLU', ),
                                 ('Linear', 512, 128, True)]
    head = MODELS.build(
        dict(type='NNCLRHead',
             predictor=dict(in_channels=128, hid_channels=512,
                            out_channels=64)))
    assert layers(head, 128)[-1] == ('Linear', 512, 64, True)


def test_a_predictor_with_a_type_is_built_as_given():
    # mmpretrain's NonLinearNeck defaults, unlike the paper's MLP: SyncBN,
    # and a BN but no bias after the last layer.
    head = MODELS.build(
        dict(type='NNCLRHead',
             predictor=dict(type='NonLinearNeck', in_channels=16,
                            hid_channels=32, out_channels=16,
                            with_avg_pool=False)))
    assert layers(head, 16) == [('Linear', 16, 32, False),
                                ('SyncBatchNorm', 32), ('ReLU', ),
                                ('Linear', 32, 16, False),
                                ('SyncBatchNorm', 16)]


def test_another_neck_is_built_as_given():
    # The paper's keys (num_layers, with_last_bn ...) would not fit it.
    head = MODELS.build(
        dict(type='NNCLRHead',
             predictor=dict(type='LinearNeck', in_channels=16,
                            out_channels=16, norm_cfg=None)))
    assert layers(head, 16) == [('Linear', 16, 16, True)]

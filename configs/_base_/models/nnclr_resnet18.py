# NNCLR on a ResNet-18 with lightly's CIFAR-scale widths: projection
# (512, 512, 128), prediction (128, 512, 128), a support set of
# 4096 x 128, the paper's loss at temperature 0.1.
_base_ = './resnet18_backbone.py'

model = dict(
    type='NNCLR',
    neck=dict(type='NNCLRNeck', in_channels=512, hid_channels=512,
              out_channels=128),
    head=dict(
        type='NNCLRHead',
        predictor=dict(in_channels=128, hid_channels=512),
        loss=dict(type='NNCLRLoss', temperature=0.1, mode='paper')),
    memory_bank=dict(type='NNMemoryBank', size=4096, feat_dim=128))

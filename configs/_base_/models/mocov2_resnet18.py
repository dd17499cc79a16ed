# mmpretrain's MoCo v2 on the small-image ResNet-18, its queue as long as
# NNCLR's support set (4096 x 128).
_base_ = './resnet18_backbone.py'

model = dict(
    type='MoCo',
    queue_len=4096,
    feat_dim=128,
    momentum=0.001,
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512,
              out_channels=128, with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
              temperature=0.2))

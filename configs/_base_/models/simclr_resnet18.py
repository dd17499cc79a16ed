# mmpretrain's SimCLR on the small-image ResNet-18, with NNCLR's
# projection widths (512, 512, 128) and temperature 0.1.
_base_ = './resnet18_backbone.py'

model = dict(
    type='SimCLR',
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=512,
              out_channels=128, num_layers=2, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
              temperature=0.1))

# mmpretrain's BYOL on the small-image ResNet-18: projection and
# prediction (1024 hidden, 128 out).
_base_ = './resnet18_backbone.py'

model = dict(
    type='BYOL',
    base_momentum=0.01,
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=1024,
              out_channels=128, num_layers=2, with_bias=True,
              with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(type='NonLinearNeck', in_channels=128,
                       hid_channels=1024, out_channels=128, num_layers=2,
                       with_bias=True, with_last_bn=False,
                       with_avg_pool=False, norm_cfg=dict(type='BN1d')),
        loss=dict(type='CosineSimilarityLoss')))

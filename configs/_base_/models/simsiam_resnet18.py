# mmpretrain's SimSiam on the small-image ResNet-18 with solo-learn's CIFAR
# widths: projection (512, 2048, 2048, 2048), its last BN without affine,
# prediction (2048, 512, 2048).
_base_ = './resnet18_backbone.py'

model = dict(
    type='SimSiam',
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=2048,
              out_channels=2048, num_layers=3, with_last_bn_affine=False,
              with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(
        type='LatentPredictHead',
        loss=dict(type='CosineSimilarityLoss'),
        predictor=dict(type='NonLinearNeck', in_channels=2048,
                       hid_channels=512, out_channels=2048,
                       with_avg_pool=False, with_last_bn=False,
                       with_last_bias=True, norm_cfg=dict(type='BN1d'))))

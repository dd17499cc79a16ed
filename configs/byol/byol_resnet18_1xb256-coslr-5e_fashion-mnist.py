# mmpretrain's BYOL on the quickstart's data, model size, schedule and kNN
# validation, to compare with NNCLR side by side.
_base_ = '../nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'

model = dict(
    _delete_=True,
    type='BYOL',
    base_momentum=0.01,
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.model.backbone}},
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
custom_hooks = [dict(type='RNGStateHook')]

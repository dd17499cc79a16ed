# mmpretrain's MoCo v2 on the quickstart's data, model size, schedule and
# kNN validation, to compare with NNCLR side by side.
_base_ = '../nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'

model = dict(
    _delete_=True,
    type='MoCo',
    queue_len=4096,  # the same number of stored embeddings as NNCLR's bank
    feat_dim=128,
    momentum=0.001,
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512,
              out_channels=128, with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
              temperature=0.2))
custom_hooks = [dict(type='RNGStateHook')]

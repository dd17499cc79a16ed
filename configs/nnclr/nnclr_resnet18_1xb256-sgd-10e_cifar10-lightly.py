# lightly's NNCLR example, value for value, through mmpretrain's CIFAR10:
# ResNet-18 at 32 px, projection (512, 512, 128), prediction (128, 512,
# 128), support set 4096 x 128, NT-Xent at temperature 0.5 on
# 0.5 * (L(nn0, p1) + L(nn1, p0)), plain SGD lr 0.06, batch 256, 10 epochs,
# SimCLRTransform(input_size=32). CIFAR-10 must be in data/cifar10 (the
# python version); nothing is downloaded.
# Two differences by design: both views share one BN batch (lightly runs
# them separately), and an empty bank returns the query itself (lightly
# starts from random vectors).
_base_ = [
    './_base_/ssl_runtime.py',
    # tools/test.py: kNN of the backbone on CIFAR-10's test split.
    './_base_/datasets/cifar10_knn.py',
]

# lightly's SimCLRTransform defaults at input_size=32.
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.08, 1.0),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[
             dict(type='ColorJitter', brightness=0.8, contrast=0.8,
                  saturation=0.8, hue=0.2, backend='pillow')
         ],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
         magnitude_std='inf', prob=0.5),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CIFAR10',
        data_root='data/cifar10',
        split='train',
        pipeline=[
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ]))

model = dict(
    type='NNCLR',
    # lightly normalises with ImageNet statistics.
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    # torchvision's resnet18 without its fc: ImageNet stem, pooled output,
    # and torchvision's initialisation: the last BN of each residual block
    # starts at 1, not at mmpretrain's default 0 (zero_init_residual).
    backbone=dict(
        type='ResNet',
        depth=18,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(type='NNCLRNeck', in_channels=512, hid_channels=512,
              out_channels=128),
    head=dict(
        type='NNCLRHead',
        predictor=dict(type='NonLinearNeck', in_channels=128,
                       hid_channels=512, out_channels=128, num_layers=2,
                       with_last_bn=False, with_last_bias=True,
                       with_avg_pool=False, norm_cfg=dict(type='BN1d')),
        loss=dict(type='NNCLRLoss', temperature=0.5, mode='ntxent')),
    memory_bank=dict(type='NNMemoryBank', size=4096, feat_dim=128))

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.06))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10)
custom_hooks = [
    dict(type='NNMemoryBankHook', warmup=0),
    dict(type='RNGStateHook'),  # exact --resume
    dict(type='InvalidLossHook'),  # stop at a NaN/inf loss
    dict(type='PreemptionCheckpointHook'),  # checkpoint on SIGTERM
]
default_hooks = dict(logger=dict(interval=50))

# Quickstart: NNCLR on real Fashion-MNIST, offline, a few minutes on a CPU.
# ResNet-18 at 32 px with lightly's CIFAR-scale widths; the data come from
# Debian's dataset-fashion-mnist package (see OfflineFashionMNIST).
_base_ = [
    './_base_/ssl_runtime.py', './_base_/datasets/fashion_mnist_32px.py'
]

num_train = 10240  # a subset keeps the CPU run short; None for all 60,000
batch_size = 256

# SimCLR augmentations (Chen et al. 2020, App. A) at 32 px.
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[
             dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                  saturation=0.2, hue=0.1, backend='pillow')
         ],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # equal batches on every rank for the gathers
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='OfflineFashionMNIST',
                 data_root={{_base_.data_root}}, split='train',
                 indices=num_train, pipeline=train_pipeline))

# kNN validation (see the base): 2,000 test images, the training subset
# votes.
val_dataloader = dict(dataset=dict(indices=2000))
val_cfg = dict(bank_dataloader=dict(dataset=dict(indices=num_train)))

model = dict(
    type='NNCLR',
    data_preprocessor={{_base_.data_preprocessor}},
    channels_last=True,  # NHWC convolutions, see the README's benchmarks
    # Residual branches start like torchvision's (and lightly's), not at
    # mmpretrain's default 0: better for NNCLR and SimCLR alike at this
    # budget, see docs/ablation_zero_init_residual.md.
    backbone=dict(type='ResNet', depth=18, out_indices=(3, ),
                  norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NNCLRNeck', in_channels=512, hid_channels=512,
              out_channels=128),
    head=dict(
        type='NNCLRHead',
        predictor=dict(type='NonLinearNeck', in_channels=128,
                       hid_channels=512, out_channels=128, num_layers=2,
                       with_last_bn=False, with_last_bias=True,
                       with_avg_pool=False, norm_cfg=dict(type='BN1d')),
        loss=dict(type='NNCLRLoss', temperature=0.1, mode='paper')),
    memory_bank=dict(type='NNMemoryBank', size=4096, feat_dim=128))

max_epochs = 5
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.06 * batch_size / 256, momentum=0.9,
                   weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
auto_scale_lr = dict(base_batch_size=256)

custom_hooks = [
    dict(type='NNMemoryBankHook', warmup=batch_size),
    dict(type='RNGStateHook'),  # exact --resume
    dict(type='InvalidLossHook'),  # stop at a NaN/inf loss
    dict(type='PreemptionCheckpointHook'),  # checkpoint on SIGTERM
]

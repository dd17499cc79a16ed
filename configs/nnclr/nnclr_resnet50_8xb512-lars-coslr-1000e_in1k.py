# NNCLR, the paper's ImageNet recipe: Dwibedi et al., ICCV 2021,
# arXiv 2104.14548, Sec. 4.1 "Implementation details" (cited as [Sec. 4.1]).
_base_ = [
    # BYOL's asymmetric augmentations, which NNCLR uses [Sec. 4.1]: blur
    # p = 1.0 / 0.1 and solarize p = 0 / 0.2 on views 1 / 2, colour jitter
    # (0.4, 0.4, 0.2, 0.1) p = 0.8, grayscale p = 0.2, RRC 224.
    'mmpretrain::_base_/datasets/imagenet_bs32_byol.py',
    'mmpretrain::_base_/default_runtime.py',
    # tools/test.py: kNN of the backbone, training set votes for val.
    './_base_/datasets/imagenet_knn.py',
]
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)

# Total batch 4096 [Sec. 4.1] = 8 GPUs x 512.
train_dataloader = dict(batch_size=512, num_workers=8, drop_last=True)

model = dict(
    type='NNCLR',
    channels_last=True,  # NHWC convolutions (speed only; same math)
    # ResNet-50 with synchronised BN across all devices [Sec. 4.1].
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    # Projection MLP [2048, 2048, d], d = 256, BN after each layer, ReLU
    # after all but the last [Sec. 4.1].
    neck=dict(
        type='NNCLRNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=256,
        num_layers=3,
        norm_cfg=dict(type='SyncBN')),
    # Prediction MLP [4096, d] [Sec. 4.1]; temperature 0.1 [Sec. 4.1].
    head=dict(
        type='NNCLRHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_last_bn=False,
            with_last_bias=True,
            with_avg_pool=False,
            norm_cfg=dict(type='SyncBN')),
        loss=dict(type='NNCLRLoss', temperature=0.1, mode='paper')),
    # Support set of 98,304 embeddings [Sec. 4.1, Table 8].
    memory_bank=dict(type='NNMemoryBank', size=98304, feat_dim=256, topk=1))
custom_hooks = [
    dict(type='NNMemoryBankHook', warmup=0),
    dict(type='RNGStateHook'),  # exact --resume
    dict(type='InvalidLossHook'),  # stop at a NaN/inf loss
    dict(type='PreemptionCheckpointHook'),  # checkpoint on SIGTERM
]

# LARS, base lr 0.3 per 256 images (4.8 at 4096), weight decay 1e-6; BN
# and bias parameters have no weight decay and no LARS adaptation
# [Sec. 4.1, following SimCLR / BYOL].
optimizer = dict(type='LARS', lr=0.3 * 4096 / 256, momentum=0.9,
                 weight_decay=1e-6)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN of ResNet's downsample branches
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

# 10 warm-up epochs, then cosine decay, 1000 epochs in all [Sec. 4.1].
max_epochs = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=0.0,
         by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
# --auto-scale-lr rescales lr when the total batch is not 4096.
auto_scale_lr = dict(base_batch_size=4096)

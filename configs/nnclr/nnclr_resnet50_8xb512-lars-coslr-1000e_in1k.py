# NNCLR, the paper's ImageNet recipe: Dwibedi et al., ICCV 2021,
# arXiv 2104.14548, Sec. 4.1 "Implementation details" (cited as [Sec. 4.1]).
_base_ = [
    '../_base_/models/nnclr_resnet50.py',
    # BYOL's asymmetric augmentations, which NNCLR uses [Sec. 4.1]: blur
    # p = 1.0 / 0.1 and solarize p = 0 / 0.2 on views 1 / 2, colour jitter
    # (0.4, 0.4, 0.2, 0.1) p = 0.8, grayscale p = 0.2, RRC 224.
    'mmpretrain::_base_/datasets/imagenet_bs32_byol.py',
    # tools/test.py: kNN of the backbone, training set votes for val.
    '../_base_/datasets/imagenet_knn.py',
    # LARS, lr 4.8 = 0.3 per 256 images at 4096, momentum 0.9, weight decay
    # 1e-6, 10 linear warm-up epochs then cosine [Sec. 4.1].
    'mmpretrain::_base_/schedules/imagenet_lars_coslr_200e.py',
    '../_base_/default_runtime.py',
]

# Total batch 4096 [Sec. 4.1] = 8 GPUs x 512.
train_dataloader = dict(batch_size=512, num_workers=8, drop_last=True)

# Mixed precision (fp16 autocast, dynamic loss scaling), as large-batch
# recipes train: 2 views x 512 images of 224 px per GPU through ResNet-50
# (the peak per GPU: tools/gpu/acceptance.sh, docs/results/gpu/). Without a
# GPU, float32.
# BN and bias parameters have no weight decay and no LARS adaptation
# [Sec. 4.1, following SimCLR / BYOL], as mmpretrain's SimCLR recipe.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN of ResNet's downsample branches
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))
# 1000 epochs in all [Sec. 4.1]: the schedule's cosine stretched to end there.
max_epochs = 1000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=0.0,
         by_epoch=True, begin=10, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='NNMemoryBankHook', warmup=0),
                *_base_.custom_hooks]
default_hooks = dict(logger=dict(interval=100),
                     checkpoint=dict(interval=10, max_keep_ckpts=3))
# --auto-scale-lr rescales lr when the total batch is not 4096.
auto_scale_lr = dict(base_batch_size=4096)

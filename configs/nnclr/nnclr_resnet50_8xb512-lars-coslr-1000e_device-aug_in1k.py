# The paper's recipe with BYOL's photometric augmentations on the GPU: the
# dataloader workers only decode, crop and flip; DeviceAugDataPreprocessor
# applies colour jitter, grayscale, blur (p = 1.0 / 0.1) and solarize
# (p = 0 / 0.2) to the whole batch, each image with its own parameters
# (the ranges and probabilities of mmpretrain's imagenet_bs32_byol.py).
_base_ = [
    './nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py',
    '../_base_/datasets/device_aug_colour.py',
]

crop_flip = [
    dict(type='RandomResizedCrop', scale=224, interpolation='bicubic',
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1],
         transforms=[crop_flip, crop_flip]),
    dict(type='PackInputs'),
]))
data_preprocessor = dict(
    type='DeviceAugDataPreprocessor',
    view_augments=[
        [*_base_.colour_augments,
         dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), prob=1.0),
         dict(type='Solarize', thr=128, prob=0.0)],
        [*_base_.colour_augments,
         dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), prob=0.1),
         dict(type='Solarize', thr=128, prob=0.2)],
    ])

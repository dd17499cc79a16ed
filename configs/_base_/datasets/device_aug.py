# Photometric augmentations as DeviceAugDataPreprocessor steps, with the
# ranges and probabilities of the pipeline transforms they replace.

# SimCLR's and BYOL's colour distortion: colour jitter (0.4, 0.4, 0.2, 0.1)
# with p = 0.8, then grayscale with p = 0.2.
colour_augments = [
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2,
         channel_weights=(0.114, 0.587, 0.2989)),
]

# BYOL's asymmetric views (mmpretrain's imagenet_bs32_byol.py): blur with
# p = 1.0 / 0.1 and solarize with p = 0 / 0.2; the workers decode, crop and
# flip.
byol_view_augments = [
    [*colour_augments,
     dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), prob=1.0),
     dict(type='Solarize', thr=128, prob=0.0)],
    [*colour_augments,
     dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), prob=0.1),
     dict(type='Solarize', thr=128, prob=0.2)],
]
byol_crop_flip = [
    dict(type='RandomResizedCrop', scale=224, interpolation='bicubic',
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
byol_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1],
         transforms=[byol_crop_flip, byol_crop_flip]),
    dict(type='PackInputs'),
]

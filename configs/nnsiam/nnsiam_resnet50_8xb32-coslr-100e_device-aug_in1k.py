# NNSiam on ImageNet-1k with SimSiam's photometric augmentations on the GPU
# (mmpretrain's imagenet_bs32_mocov2.py: colour jitter (0.4, 0.4, 0.4, 0.1)
# with p = 0.8, grayscale p = 0.2, blur p = 0.5): the dataloader workers
# only decode, crop and flip.
_base_ = './nnsiam_resnet50_8xb32-coslr-100e_in1k.py'

crop_flip = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[crop_flip]),
    dict(type='PackInputs'),
]))
view_augments = [
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), prob=0.5),
]
data_preprocessor = dict(type='DeviceAugDataPreprocessor',
                         view_augments=[view_augments, view_augments])

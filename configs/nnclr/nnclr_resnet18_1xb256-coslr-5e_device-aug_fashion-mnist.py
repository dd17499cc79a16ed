# The quickstart with its photometric augmentations on the model's device:
# the dataloader workers only crop and flip, DeviceAugDataPreprocessor
# applies the same colour jitter and grayscale to the whole batch, each
# image with its own parameters (the ranges and probabilities of
# ../_base_/datasets/fashion_mnist_bs256_simclr.py).
_base_ = [
    './nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py',
    '../_base_/datasets/device_aug.py',
]

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]))
data_preprocessor = dict(
    type='DeviceAugDataPreprocessor',
    view_augments=[_base_.colour_augments, _base_.colour_augments])

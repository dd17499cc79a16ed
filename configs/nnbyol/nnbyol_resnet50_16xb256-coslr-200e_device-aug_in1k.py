# NNBYOL on ImageNet-1k with BYOL's photometric augmentations on the GPU:
# the dataloader workers only decode, crop and flip; DeviceAugDataPreprocessor
# applies colour jitter, grayscale, blur (p = 1.0 / 0.1) and solarize
# (p = 0 / 0.2) to the whole batch, each image with its own parameters.
_base_ = [
    './nnbyol_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/datasets/device_aug.py',
]

train_dataloader = dict(dataset=dict(pipeline=_base_.byol_train_pipeline))
data_preprocessor = dict(type='DeviceAugDataPreprocessor',
                         view_augments=_base_.byol_view_augments)

# Self-supervised training on Fashion-MNIST at 32 px: two views of each of
# the first 10,240 training images (a subset keeps a CPU run short), SimCLR's
# augmentations (Chen et al. 2020, App. A), batch 256; kNN validation on
# 2,000 test images with the training subset voting.
_base_ = './fashion_mnist_knn.py'

num_train = 10240  # None for all 60,000

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
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # equal batches on every rank for the gathers
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='OfflineFashionMNIST',
                 data_root={{_base_.data_root}}, split='train',
                 indices=num_train, pipeline=train_pipeline))

val_dataloader = dict(dataset=dict(indices=2000))
val_cfg = dict(bank_dataloader=dict(dataset=dict(indices=num_train)))

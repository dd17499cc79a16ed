# Linear probe on Fashion-MNIST for any mmpretrain SSL checkpoint of a
# ResNet-18 (NNCLR, SimCLR, MoCo, BYOL ...): the backbone is loaded from
# the checkpoint's `backbone.*` weights and frozen (BN statistics too), and
# a linear classifier is trained on its pooled features. Usage:
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.backbone.init_cfg.checkpoint=CKPT
# The kNN config's classifier (ImageClassifier, ResNet-18, pooled features)
# with its backbone loaded and frozen, and a linear head.
_base_ = './resnet18_knn-k200-t0.07_fashion-mnist.py'

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, 5)))

train_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='OfflineFashionMNIST',
                 data_root={{_base_.data_root}}, split='train',
                 pipeline=train_pipeline))
# Accuracy of the classifier on the base's test split.

max_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
# The classifier's own loops, not the base's kNN.
val_cfg = dict(_delete_=True)
test_cfg = dict(_delete_=True)
default_hooks = dict(logger=dict(interval=50))

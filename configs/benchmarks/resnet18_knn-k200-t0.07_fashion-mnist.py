# Weighted kNN (k = 200, T = 0.07) on Fashion-MNIST for any mmpretrain SSL
# checkpoint of a ResNet-18 (NNCLR, SimCLR, MoCo, BYOL ...):
#   python tools/knn_eval.py THIS_CONFIG CKPT [--pixel-baseline]
# All 60,000 training images vote for the 10,000 test images.
_base_ = '../_base_/ssl_runtime.py'

data_root = '/usr/share/datasets/fashion-mnist'

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=[72.94, 72.94, 72.94],
        std=[90.02, 90.02, 90.02],
        to_rgb=True),
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'))

test_pipeline = [
    dict(type='Resize', scale=32, backend='pillow'),
    dict(type='PackInputs'),
]
knn_loader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False))
val_dataloader = dict(
    **knn_loader,
    dataset=dict(type='OfflineFashionMNIST', data_root=data_root,
                 split='test', pipeline=test_pipeline))
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader=dict(
        **knn_loader,
        dataset=dict(type='OfflineFashionMNIST', data_root=data_root,
                     split='train', pipeline=test_pipeline)),
    k=200,
    temperature=0.07)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

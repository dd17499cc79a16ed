# Weighted kNN (k = 200, T = 0.07) on Fashion-MNIST for any mmpretrain SSL
# checkpoint of a ResNet-18 (NNCLR, SimCLR, MoCo, BYOL ...):
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG CKPT [--pixel-baseline]
# All 60,000 training images vote for the 10,000 test images.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/datasets/fashion_mnist_knn.py',
]

model = dict(
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'))

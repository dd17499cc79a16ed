# mmpretrain's MoCo v2 on the NNCLR quickstart's data, backbone, schedule and
# kNN validation, to compare the two side by side.
_base_ = [
    '../_base_/models/mocov2_resnet18.py',
    '../_base_/datasets/fashion_mnist_bs256_simclr.py',
    '../_base_/schedules/sgd_coslr_5e.py',
    '../_base_/default_runtime.py',
]

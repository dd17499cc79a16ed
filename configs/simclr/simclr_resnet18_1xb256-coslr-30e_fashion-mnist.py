# mmpretrain's SimCLR on the 30-epoch NNCLR recipe's data, backbone,
# schedule and kNN validation.
_base_ = [
    '../_base_/models/simclr_resnet18.py',
    '../_base_/datasets/fashion_mnist_bs256_simclr.py',
    '../_base_/schedules/sgd_coslr_30e.py',
    '../_base_/default_runtime.py',
]

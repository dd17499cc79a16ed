# Quickstart: NNCLR on real Fashion-MNIST, offline, a few minutes on a CPU.
# ResNet-18 at 32 px with lightly's CIFAR-scale widths; the data come from
# Debian's dataset-fashion-mnist package (see OfflineFashionMNIST).
_base_ = [
    '../_base_/models/nnclr_resnet18.py',
    '../_base_/datasets/fashion_mnist_bs256_simclr.py',
    '../_base_/schedules/sgd_coslr_5e.py',
    '../_base_/default_runtime.py',
]

model = dict(channels_last=True)  # NHWC convolutions (speed only)
# Positives are the samples themselves until the bank holds one batch.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=256),
                *_base_.custom_hooks]

# The quickstart's recipe, six times as long: 30 epochs on the same
# 10,240 Fashion-MNIST images (see docs/results/compare_30e.md).
_base_ = [
    '../_base_/models/nnclr_resnet18.py',
    '../_base_/datasets/fashion_mnist_bs256_simclr.py',
    '../_base_/schedules/sgd_coslr_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(channels_last=True)  # NHWC convolutions (speed only)
# Positives are the samples themselves until the bank holds one batch.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=256),
                *_base_.custom_hooks]

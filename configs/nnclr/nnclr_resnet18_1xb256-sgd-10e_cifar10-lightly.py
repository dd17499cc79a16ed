# lightly's NNCLR example, value for value, through mmpretrain's CIFAR10:
# ResNet-18 at 32 px, projection (512, 512, 128), prediction (128, 512,
# 128), support set 4096 x 128, NT-Xent at temperature 0.5 on
# 0.5 * (L(nn0, p1) + L(nn1, p0)), plain SGD lr 0.06, batch 256, 10 epochs,
# SimCLRTransform(input_size=32). CIFAR-10 must be in data/cifar10 (the
# python version); nothing is downloaded.
# Two differences by design: both views share one BN batch (lightly runs
# them separately), and an empty bank returns the query itself (lightly
# starts from random vectors).
_base_ = [
    # torchvision's resnet18 without its fc and its initialisation, as the
    # base's backbone: the last BN of each residual block starts at 1.
    '../_base_/models/nnclr_resnet18.py',
    # tools/test.py: kNN of the backbone on CIFAR-10's test split.
    '../_base_/datasets/cifar10_bs256_lightly.py',
    '../_base_/schedules/sgd_10e.py',
    '../_base_/default_runtime.py',
]

# channels_last: NHWC convolutions, the same maths; its step against
# lightly's own went from 1.00 to 0.96 (docs/measured/speed.md).
model = dict(channels_last=True,
             head=dict(loss=dict(temperature=0.5, mode='ntxent')))
custom_hooks = [dict(type='NNMemoryBankHook', warmup=0),
                *_base_.custom_hooks]
default_hooks = dict(logger=dict(interval=50))

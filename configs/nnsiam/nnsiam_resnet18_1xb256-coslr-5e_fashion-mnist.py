# NNSiam: the SimSiam config with nearest-neighbour targets from a support
# set of 4,096 projections (NNCLR's quickstart size), same data, backbone,
# schedule and kNN validation.
_base_ = ['../simsiam/simsiam_resnet18_1xb256-coslr-5e_fashion-mnist.py']

model = dict(
    type='NNSiam',
    memory_bank=dict(type='NNMemoryBank', size=4096, feat_dim=2048))
# Targets are the projections themselves until the bank holds one batch.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=256),
                *_base_.custom_hooks]

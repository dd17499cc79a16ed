# NNBYOL: the BYOL config with nearest-neighbour targets from a support set
# of 4,096 target projections (NNCLR's quickstart size), same data,
# backbone, schedule and kNN validation.
_base_ = ['../byol/byol_resnet18_1xb256-coslr-5e_fashion-mnist.py']

model = dict(
    type='NNBYOL',
    memory_bank=dict(type='NNMemoryBank', size=4096, feat_dim=128))
# Targets are the target projections until the bank holds one batch.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=256),
                *_base_.custom_hooks]

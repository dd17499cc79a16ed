# NNCLR as the paper trains it on ImageNet: Dwibedi et al., ICCV 2021,
# arXiv 2104.14548, Sec. 4.1 "Implementation details" (cited as [Sec. 4.1]).
model = dict(
    type='NNCLR',
    channels_last=True,  # NHWC convolutions (speed only; same math)
    # ResNet-50 with synchronised BN across all devices [Sec. 4.1].
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    # Projection MLP [2048, 2048, d], d = 256, BN after each layer, ReLU
    # after all but the last [Sec. 4.1].
    neck=dict(
        type='NNCLRNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=256,
        num_layers=3,
        norm_cfg=dict(type='SyncBN')),
    # Prediction MLP [4096, d] [Sec. 4.1]; temperature 0.1 [Sec. 4.1].
    head=dict(
        type='NNCLRHead',
        predictor=dict(in_channels=256, hid_channels=4096,
                       norm_cfg=dict(type='SyncBN')),
        loss=dict(type='NNCLRLoss', temperature=0.1, mode='paper')),
    # Support set of 98,304 embeddings [Sec. 4.1, Table 8].
    memory_bank=dict(type='NNMemoryBank', size=98304, feat_dim=256, topk=1))

# The ResNet-18 every small-image recipe trains (NNCLR and the methods it
# is compared with), pooled 512-d features. Residual branches start like
# torchvision's (and lightly's), not at mmpretrain's default 0: better for
# NNCLR and SimCLR alike at the quickstart's budget, see
# docs/measured/ablation_zero_init_residual.md.
model = dict(
    backbone=dict(type='ResNet', depth=18, out_indices=(3, ),
                  norm_cfg=dict(type='BN'), zero_init_residual=False))

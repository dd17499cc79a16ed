# Linear probe on ImageNet-1k for any mmpretrain SSL checkpoint of a
# ResNet-50 (mmpretrain's SimCLR protocol: frozen backbone, LARS, 90
# epochs, batch 4096). Usage:
#   bash tools/dist_train.sh THIS_CONFIG 8 \
#     --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = ('mmpretrain::simclr/benchmarks/'
          'resnet50_8xb512-linear-coslr-90e_in1k.py')
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)

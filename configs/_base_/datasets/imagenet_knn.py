# kNN evaluation on ImageNet-1k as the runner's test loop (tools/test.py):
# weighted kNN (Wu et al. 2018, k = 200, T = 0.07) on backbone features,
# all training images vote for the 50,000 validation images, each resized
# to 256 on the short edge and centre-cropped to 224 (mmpretrain's ImageNet
# test pipeline). Data in data/imagenet, as in mmpretrain's configs.
# Names are prefixed with knn_ so that this base combines with mmpretrain's
# ImageNet training bases.
knn_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
knn_loader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
test_dataloader = dict(
    **knn_loader,
    dataset=dict(type='ImageNet', data_root='data/imagenet', split='val',
                 pipeline=knn_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, 5))
# The bank: the same loader on the training split.
test_cfg = dict(
    type='KNNTestLoop',
    bank_dataloader=dict(
        test_dataloader,
        dataset=dict(test_dataloader['dataset'], split='train')),
    k=200,
    temperature=0.07)

# Real Fashion-MNIST at 32 px, offline: Debian's dataset-fashion-mnist
# package, read by OfflineFashionMNIST. Normalisation and the kNN
# evaluation, shared by the training recipes and the benchmarks.
data_root = '/usr/share/datasets/fashion-mnist'

# No type: SSL algorithms default to SelfSupDataPreprocessor, classifiers
# to ClsDataPreprocessor.
data_preprocessor = dict(
    mean=[72.94, 72.94, 72.94],  # training-set statistics
    std=[90.02, 90.02, 90.02],
    to_rgb=True)

test_pipeline = [
    dict(type='Resize', scale=32, backend='pillow'),
    dict(type='PackInputs'),
]
eval_loader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
val_dataloader = dict(
    **eval_loader,
    dataset=dict(type='OfflineFashionMNIST', data_root=data_root,
                 split='test', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
# Weighted kNN on backbone features (Wu et al. 2018, k = 200, T = 0.07):
# the training images vote for the test images, through the same loader.
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader=dict(
        val_dataloader,
        dataset=dict(val_dataloader['dataset'], split='train')),
    k=200,
    temperature=0.07)
# tools/test.py: the same kNN on the whole splits (all 60,000 training
# images vote for all 10,000 test images), whatever val_* a config narrows.
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict(val_cfg, type='KNNTestLoop')

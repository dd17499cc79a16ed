# The nearest images of a query, for any mmpretrain SSL checkpoint of a
# ResNet-18 at 32 px (NNCLR, SimCLR, MoCo, BYOL ...): mmpretrain's
# ImageToImageRetriever compares the globally pooled backbone features by
# cosine; the checkpoint's backbone.* weights (or a backbone's state dict)
# load into image_encoder.0. The gallery defaults to the Fashion-MNIST
# training images; a folder of images replaces it:
#   from mmpretrain import ImageRetrievalInferencer
#   ImageRetrievalInferencer(THIS_CONFIG, prototype='my_images/',
#                            pretrained=CKPT)('query.png', topk=5)
#   nnclr-mm retrieve query.png --gallery my_images/ --checkpoint CKPT \
#       --config THIS_CONFIG
_base_ = './resnet18_knn-k200-t0.07_fashion-mnist.py'

model = dict(
    _delete_=True,
    type='ImageToImageRetriever',
    image_encoder=[
        dict(type='ResNet', depth=18),
        dict(type='GlobalAveragePooling'),
    ],
    prototype={{_base_.val_cfg.bank_dataloader}},
    data_preprocessor={{_base_.data_preprocessor}},
    similarity_fn='cosine_similarity',
    topk=-1)

# The nearest images of a query, for any mmpretrain SSL checkpoint of a
# ResNet-50 at 224 px (the paper's NNCLR recipe, NNBYOL, NNSiam, SimCLR
# ...): mmpretrain's ImageToImageRetriever compares the globally pooled
# backbone features by cosine; the checkpoint's backbone.* weights (or a
# backbone's state dict) load into image_encoder.0. The gallery defaults
# to the ImageNet training images (data/imagenet); a folder replaces it:
#   ImageRetrievalInferencer(THIS_CONFIG, prototype='my_images/',
#                            pretrained=CKPT)('query.jpg', topk=5)
#   nnclr-mm retrieve query.jpg --gallery my_images/ --checkpoint CKPT \
#       --config THIS_CONFIG
_base_ = './resnet50_knn-k200-t0.07_in1k.py'

model = dict(
    _delete_=True,
    type='ImageToImageRetriever',
    image_encoder=[
        dict(type='ResNet', depth=50),
        dict(type='GlobalAveragePooling'),
    ],
    prototype={{_base_.test_cfg.bank_dataloader}},
    data_preprocessor={{_base_.data_preprocessor}},
    similarity_fn='cosine_similarity',
    topk=-1)

# Short name for the paper's recipe.
_base_ = './nnclr/nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py'

"""``nnclr-mm publish``: write a trained checkpoint for publishing, weights
only, hash in name.

mmpretrain's ``publish_model.py`` for self-supervised checkpoints. It drops
what only training needs: the optimizer, LR schedulers, message hub, RNG
states (``RNGStateHook``) and the support set (``memory_bank.*``, 96 MiB in
the paper's recipe). ``meta`` keeps the config, dataset meta and versions.
The file is written as ``OUT`` without ``.pth``, the date and the first 8
hex digits of its SHA-256, as mmpretrain names its published weights, e.g.
``nnclr_r50_20260101-0123abcd.pth``.

The result loads where a trained checkpoint does: ``get_model(CONFIG,
pretrained=FILE)``, ``FeatureExtractor(CONFIG, pretrained=FILE)``, and
``init_cfg=dict(type='Pretrained', checkpoint=FILE, prefix='backbone.')``
(linear probes). With ``--backbone-only`` the file is the backbone's flat
state dict without the ``backbone.`` prefix, which ``get_model`` and
``FeatureExtractor`` load into the backbone too; mmpretrain's ResNet uses
torchvision's parameter names, so ``torchvision.models.resnet50()
.load_state_dict(torch.load(FILE), strict=False)`` misses only ``fc``.
"""
import datetime
import hashlib
import os
import os.path as osp

import mmpretrain
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from . import QUICKSTART_CKPT, common

#: State-dict prefix of the support set, rebuilt by training.
SUPPORT_SET = 'memory_bank.'
EXAMPLE = (f'nnclr-mm publish {QUICKSTART_CKPT} work_dirs/nnclr_r18.pth '
           '--backbone-only')


def parse_args(argv=None):
    parser = common.parser_for(
        'publish', 'Write the weights of a checkpoint for publishing.',
        EXAMPLE, checkpoint='checkpoint written by training')
    parser.add_argument('out_file', help='output name, e.g. nnclr_r50.pth')
    parser.add_argument(
        '--backbone-only',
        action='store_true',
        help='write the backbone state dict alone, without its prefix')
    return parser.parse_args(argv)


def slim(checkpoint: dict, backbone_only: bool = False) -> dict:
    """The published content of a training ``checkpoint``."""
    state = checkpoint.get('state_dict', checkpoint)
    if backbone_only:
        prefix = 'backbone.'
        backbone = {k[len(prefix):]: v for k, v in state.items()
                    if k.startswith(prefix)}
        if not backbone:
            raise ValueError('--backbone-only: the checkpoint has no '
                             f'{prefix}* weights')
        return backbone
    meta = dict(checkpoint.get('meta', {}))
    meta.setdefault('mmpretrain_version', mmpretrain.__version__)
    return dict(
        meta=meta,
        state_dict={k: v for k, v in state.items()
                    if not k.startswith(SUPPORT_SET)})


def publish(in_file: str, out_file: str, backbone_only: bool = False) -> str:
    """Write the slim checkpoint of ``in_file``; return its final path."""
    out_dir = osp.dirname(osp.abspath(out_file))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'output directory {out_dir} does not '
                                'exist; create it first')
    checkpoint = _load_checkpoint(in_file, map_location='cpu')
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    temp = f'{stem}.publishing.tmp'
    torch.save(slim(checkpoint, backbone_only), temp)
    with open(temp, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    date = datetime.datetime.now().strftime('%Y%m%d')
    final = f'{stem}_{date}-{sha[:8]}.pth'
    os.replace(temp, final)
    return final


def main(argv=None):
    args = parse_args(argv)
    final = publish(args.checkpoint, args.out_file, args.backbone_only)
    size = osp.getsize(final) / 2**20
    print(f'published {final} ({size:.1f} MiB) from {args.checkpoint} '
          f'({osp.getsize(args.checkpoint) / 2**20:.1f} MiB)')
    return final

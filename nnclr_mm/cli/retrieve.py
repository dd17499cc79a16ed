"""``nnclr-mm retrieve``: the nearest images of queries in a folder of
images, by the cosine of a checkpoint's pooled backbone features, printed
and drawn as a picture (``retrieval.png`` beside the checkpoint by
default).

mmpretrain's ``ImageRetrievalInferencer`` on an ``ImageToImageRetriever``
around the checkpoint's backbone: the model of ``--config`` (a retrieval
config, e.g. ``nnclr_mm::nnclr/benchmarks/resnet18_retrieval_fashion-
mnist.py``) or, by default, the one :func:`retrieval_config` derives from
the config the checkpoint was trained with.
"""
import os.path as osp
from typing import List

import mmcv
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

from ..visualization import neighbour_grid
from . import common

EXAMPLE = ('nnclr-mm retrieve query.png --gallery my_images/ '
           '--checkpoint work_dirs/quickstart/epoch_5.pth --topk 5')


def parse_args(argv=None):
    parser = common.parser_for(
        'retrieve', 'The nearest images of queries in a folder of images.',
        EXAMPLE)
    parser.add_argument('queries', nargs='+', help='query image files')
    parser.add_argument('--gallery', required=True,
                        help='folder of the images to search (subfolders '
                        'too)')
    parser.add_argument('--checkpoint', required=True,
                        help='checkpoint of an SSL model or a backbone')
    parser.add_argument('--config',
                        help='retrieval config file or package::path '
                        '(default: derived from the config saved in the '
                        'checkpoint)')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--out', help='PNG path (default: retrieval.png '
                        'beside the checkpoint)')
    parser.add_argument('--device', help='e.g. cuda:0 (default: a GPU '
                        'when there is one)')
    return parser.parse_args(argv)


def retrieval_config(trained: Config) -> Config:
    """The retrieval config of a training config: mmpretrain's
    ``ImageToImageRetriever`` on the globally pooled features of its
    backbone, compared by cosine, with its data preprocessor and test
    pipeline.

    Args:
        trained (Config): A training config (NNCLR, SimCLR, ...) with
            ``model.backbone`` and a ``test_dataloader``.

    Returns:
        Config: The config for ``ImageRetrievalInferencer``.
    """
    model = trained.model
    preprocessor = model.get('data_preprocessor') or trained.get(
        'data_preprocessor') or {}
    preprocessor = {k: v for k, v in preprocessor.items() if k != 'type'}
    return Config(dict(
        custom_imports=dict(imports=['nnclr_mm'],
                            allow_failed_imports=False),
        model=dict(type='ImageToImageRetriever',
                   image_encoder=[model.backbone,
                                  dict(type='GlobalAveragePooling')],
                   # The inferencer's gallery takes its place.
                   prototype=dict(), data_preprocessor=preprocessor,
                   similarity_fn='cosine_similarity', topk=-1),
        test_dataloader=dict(dataset=dict(
            pipeline=trained.test_dataloader.dataset.pipeline))))


def config_of(checkpoint: str) -> Config:
    """The config saved in a checkpoint by mmengine's runner."""
    meta = _load_checkpoint(checkpoint, map_location='cpu').get('meta', {})
    if 'cfg' not in meta:
        raise ValueError(
            f'{checkpoint} holds no training config (a published backbone '
            'or another tool\'s file): give --config, a retrieval config '
            'such as nnclr_mm::nnclr/benchmarks/resnet18_retrieval_fashion-'
            'mnist.py')
    return Config.fromstring(meta['cfg'], '.py')


def rgb(path: str):
    return mmcv.imread(path, channel_order='rgb')


def main(argv=None) -> List[list]:
    from mmpretrain import ImageRetrievalInferencer
    args = parse_args(argv)
    common.require_checkpoint(args.checkpoint)
    if not osp.isdir(args.gallery):
        raise FileNotFoundError(f'--gallery {args.gallery} is no folder')
    cfg = (Config.fromfile(common.resolve_config(args.config))
           if args.config else retrieval_config(config_of(args.checkpoint)))
    inferencer = ImageRetrievalInferencer(
        cfg, prototype=args.gallery, pretrained=args.checkpoint,
        device=args.device)
    results = inferencer(args.queries, topk=args.topk)
    print()  # after the inferencer's progress bar
    for query, matches in zip(args.queries, results):
        print(f'{query}:')
        for match in matches:
            print(f'  {float(match["match_score"]):.4f}  '
                  f'{match["sample"]["img_path"]}')
    out = common.picture_path(args, 'retrieval.png')
    neighbour_grid(
        [rgb(q) for q in args.queries],
        [[rgb(m['sample']['img_path']) for m in matches]
         for matches in results], out,
        title=f'{args.topk} nearest images in {args.gallery}')
    print(f'wrote {out}')
    return results

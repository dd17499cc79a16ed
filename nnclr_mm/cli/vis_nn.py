"""``nnclr-mm vis-nn``: nearest neighbours of query images among the
training set, as a PNG (by default ``nn_grid.png`` beside the checkpoint).

CONFIG is a config with a ``KNNValLoop`` (like the quickstart's): queries
come from ``val_dataloader``, neighbours from ``val_cfg.bank_dataloader``.
Embeddings are NNCLR's z (``--features neck``), searched by cosine exactly
as the support set is; frames are green where a neighbour has the query's
class, red where not.
"""

import numpy as np
import torch

from ..evaluation import embed_dataset
from ..utils import DEFAULT_CHUNK_ELEMS, chunked_topk_cosine
from ..visualization import neighbour_grid, raw_image
from . import QUICKSTART, QUICKSTART_CKPT, common

EXAMPLE = f'nnclr-mm vis-nn {QUICKSTART} {QUICKSTART_CKPT}'


def parse_args(argv=None):
    parser = common.parser_for(
        'vis-nn', 'Nearest neighbours of query images, as a PNG.', EXAMPLE,
        config='config with a KNNValLoop val_cfg',
        checkpoint='checkpoint of the model',
        out='PNG path (default: nn_grid.png beside the checkpoint)',
        runner=True)
    parser.add_argument('--num-queries', type=int, default=8)
    parser.add_argument('--topk', type=int, default=6)
    parser.add_argument(
        '--features',
        choices=['neck', 'backbone'],
        default='neck',
        help='neck: the z the support set stores; backbone: pooled features')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


@torch.no_grad()
@common.ends_process_group
def main(argv=None):
    args = parse_args(argv)
    out = common.picture_path(args, 'nn_grid.png')
    runner = common.runner_for_checkpoint(args)
    cfg = runner.cfg
    bank_loader = runner.build_dataloader(cfg.val_cfg.bank_dataloader)
    query_loader = runner.build_dataloader(cfg.val_dataloader)
    bank, bank_labels = embed_dataset(runner.model, bank_loader,
                                      args.features)
    queries, query_labels = embed_dataset(runner.model, query_loader,
                                          args.features)
    # Neighbours of every held-out image: the shown ones and the accuracy
    # over all come from one search.
    _, all_idx = chunked_topk_cosine(queries, bank, args.topk,
                                     DEFAULT_CHUNK_ELEMS)
    rng = np.random.RandomState(args.seed)
    picked = rng.choice(len(queries), args.num_queries, replace=False)
    idx = all_idx[picked]

    bank_set, query_set = bank_loader.dataset, query_loader.dataset
    labelled = bool((bank_labels >= 0).all() and (query_labels >= 0).all())
    accuracy = neighbour_grid(
        [raw_image(query_set, int(i)) for i in picked],
        [[raw_image(bank_set, int(j)) for j in row] for row in idx],
        out,
        query_labels=query_labels[picked].tolist() if labelled else None,
        neighbour_labels=bank_labels[idx].tolist() if labelled else None,
        title=f'{args.topk} nearest neighbours ({args.features})')
    if accuracy is not None:
        overall = (bank_labels[all_idx] == query_labels[:, None]).float()
        print(f'neighbour accuracy: shown {100 * accuracy:.1f}%, all '
              f'{len(queries)} queries {100 * overall.mean().item():.1f}%')
    print(f'wrote {out}')
    return out

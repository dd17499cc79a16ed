"""Train several methods (or variants of one) at one budget and evaluate
them all with the same evaluator.

    python tools/comparisons/compare_methods.py RUN [RUN ...] [--seeds 0 1]
        [--cfg-options KEY=VALUE ...] [--pixel-baseline]
        [--out docs/results/compare]

Each RUN is ``NAME=CONFIG[,KEY=VALUE,...]``: a config (e.g. the quickstart
and the ``*_fashion-mnist.py`` configs of ``configs/{simclr,mocov2,byol,
nnbyol,simsiam,nnsiam}/``, which share data, backbone, schedule and kNN)
with overrides for that run only; ``--cfg-options`` apply to every run.
Each run trains through mmengine's runner once per seed, validating by
kNN after every epoch as its config says. The final weights are then
evaluated on frozen features of the config's test loaders (for the
Fashion-MNIST configs: all 60,000 training and all 10,000 test images),
embedded once for two evaluators: the config's kNN classifier (its k and
temperature, the numbers ``tools/test.py`` prints) and a linear probe,
:func:`nnclr_mm.evaluation.fit_linear_probe`. ``--pixel-baseline`` adds a
row for the same evaluators on the preprocessed images.

Writes ``OUT.json`` (every run, seed, epoch), ``OUT.md`` (a table: kNN and
probe top-1 per seed and mean, wall time per epoch) and ``OUT.png``
(validation kNN against epoch, mean over seeds, one line per run).

Example, the quickstart against SimCLR on the same budget::

    python tools/comparisons/compare_methods.py \\
        nnclr=configs/nnclr/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py \\
        simclr=configs/simclr/simclr_resnet18_1xb256-coslr-5e_fashion-mnist.py
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time
from statistics import mean

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from nnclr_mm.evaluation import (
    embed_dataset,
    fit_linear_probe,
    weighted_knn_scores,
)
from nnclr_mm.visualization import load_scalars


def parse_run(text: str) -> dict:
    """``NAME=CONFIG[,KEY=VALUE,...]`` as ``dict(name, config, options)``."""
    name, sep, rest = text.partition('=')
    if not sep or not rest:
        raise argparse.ArgumentTypeError(
            f'run {text!r}: expected NAME=CONFIG[,KEY=VALUE,...]')
    config, *pairs = rest.split(',')
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep:
            raise argparse.ArgumentTypeError(
                f'run {name!r}: override {pair!r} is not KEY=VALUE')
        options[key] = DictAction._parse_iterable(value)
    return dict(name=name, config=config, options=options)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='+', type=parse_run,
                        help='NAME=CONFIG[,KEY=VALUE,...]')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides for every run, e.g. train_cfg.max_epochs=30')
    parser.add_argument(
        '--pixel-baseline', action='store_true',
        help='also evaluate the raw pixels of the first run\'s loaders')
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--out', default='docs/results/compare')
    return parser.parse_args(argv)


def run_config(run: dict, seed: int, common: dict, work_dir: str) -> Config:
    """The config of one run and seed."""
    cfg = Config.fromfile(run['config'])
    cfg.merge_from_dict({**common, **run['options']})
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(work_dir, f'{run["name"]}_seed{seed}')
    # Named per run: mmengine keys its logger and visualizer by this name,
    # and two runs started in one second would otherwise share them.
    cfg.experiment_name = f'{run["name"]}_seed{seed}'
    return cfg


def check_builds(cfg: Config, name: str) -> None:
    """Build the run's model now, so that a wrong override fails before
    hours of training the runs before it."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    try:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            MODELS.build(cfg.model)
    except Exception as error:
        raise ValueError(f'run {name!r} ({cfg.filename}): its model does '
                         f'not build: {error}') from error


def evaluate_frozen(runner: Runner, features: str = 'backbone') -> dict:
    """kNN and linear probe on the frozen features of the config's test
    loop: its bank (training) and held-out loaders, k and temperature,
    embedded once and shared by both evaluators."""
    loop = runner.test_loop
    model = runner.model.eval()
    train_feats, train_labels = embed_dataset(model, loop.bank_dataloader,
                                              features)
    test_feats, test_labels = embed_dataset(model, loop.dataloader,
                                            features)
    num_classes = int(train_labels.max()) + 1
    # Unit rows, searched as KNNTestLoop searches them (tools/test.py).
    scores = weighted_knn_scores(test_feats, train_feats, train_labels,
                                 num_classes, loop.k, loop.temperature,
                                 normalized=True)
    top5_scores, top5 = scores.topk(min(5, num_classes), dim=1)
    # As mmpretrain's Accuracy: a class with no vote (score 0) is no hit.
    hits = (top5 == test_labels[:, None]) & (top5_scores > 0)
    probe = fit_linear_probe(train_feats, train_labels, num_classes)
    with torch.no_grad():
        probe_pred = probe(test_feats).argmax(1)

    def percent(hits):
        return 100 * hits.sum().item() / len(hits)

    return dict(knn_top1=percent(hits[:, 0]),
                knn_top5=percent(hits.any(1)),
                probe_top1=percent(probe_pred == test_labels))


def train_and_test(run: dict, cfg: Config):
    """Train one run's config; its validation and test metrics."""
    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    seconds = time.time() - start
    test = evaluate_frozen(runner)
    scalars = load_scalars(
        osp.join(runner.log_dir, 'vis_data', 'scalars.json'))
    val = [value for _, value in scalars.get('knn_top1', [])]
    epochs = cfg.train_cfg.max_epochs
    return dict(name=run['name'], seed=cfg.randomness.seed, epochs=epochs,
                seconds_per_epoch=round(seconds / epochs, 1),
                val_knn_top1=val, test=test)


def pixel_baseline(cfg: Config) -> dict:
    """The same evaluators on the preprocessed images themselves."""
    cfg = cfg.copy()
    cfg.work_dir = osp.join(osp.dirname(cfg.work_dir), 'pixels')
    # mmengine keeps a runner's visualizer under its experiment name and
    # timestamp: a run built in the same second must not get this one's.
    cfg.experiment_name = 'pixels'
    runner = Runner.from_cfg(cfg)
    return dict(name='raw pixels', seed=None, epochs=0,
                seconds_per_epoch=None, val_knn_top1=[],
                test=evaluate_frozen(runner, 'pixels'))


def write_results(results, args):
    os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
    machine = (torch.cuda.get_device_name() if torch.cuda.is_available()
               else f'{platform.machine()}, {os.cpu_count()} CPU cores, '
               'no GPU')
    with open(args.out + '.json', 'w') as f:
        json.dump(dict(machine=machine, torch=torch.__version__,
                       common_options=args.cfg_options, results=results),
                  f, indent=2)
    names = list(dict.fromkeys(r['name'] for r in results))
    seeds = args.seeds
    lines = [
        'Written by `python ' + ' '.join(sys.argv) + '`.', '',
        f'Machine: {machine}, torch {torch.__version__}. Test: frozen '
        "features of the config's test loaders; kNN with its k and "
        'temperature, and a linear probe (L-BFGS logistic regression).', '',
        '| run | ' + ' | '.join(f'kNN top-1, seed {s} (%)' for s in seeds) +
        ' | kNN mean (%) | ' +
        ' | '.join(f'probe top-1, seed {s} (%)' for s in seeds) +
        ' | probe mean (%) | s / epoch |',
        '|---|' + '---|' * (2 * len(seeds) + 3)
    ]
    for name in names:
        rows = [r for r in results if r['name'] == name]
        cells = []
        for metric in ('knn_top1', 'probe_top1'):
            values = [r['test'][metric] for r in rows]
            cells += [f'{v:.2f}' for v in values]
            cells += ['–'] * (len(seeds) - len(values))
            cells.append(f'{mean(values):.2f}')
        times = [r['seconds_per_epoch'] for r in rows
                 if r['seconds_per_epoch'] is not None]
        cells.append(f'{mean(times):.0f}' if times else '–')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))

    from matplotlib.figure import Figure
    fig = Figure(figsize=(5, 3.5), dpi=100)
    ax = fig.subplots()
    for name in names:
        curves = [r['val_knn_top1'] for r in results
                  if r['name'] == name and r['val_knn_top1']]
        if not curves:
            continue
        length = min(len(c) for c in curves)
        ax.plot(range(1, length + 1),
                [mean([c[i] for c in curves]) for i in range(length)],
                marker='o', label=name)
    ax.set_xlabel('epoch')
    ax.set_ylabel('validation kNN top-1 (%)')
    ax.set_title(f'mean over seeds {", ".join(map(str, seeds))}')
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out + '.png')


def main():
    args = parse_args()
    jobs = [(run, run_config(run, seed, args.cfg_options, args.work_dir))
            for run in args.runs for seed in args.seeds]
    for run, cfg in jobs[::len(args.seeds)]:
        check_builds(cfg, run['name'])
    results = []
    if args.pixel_baseline:
        results.append(pixel_baseline(jobs[0][1]))
        print(results[-1])
    for run, cfg in jobs:
        results.append(train_and_test(run, cfg))
        print(results[-1])
    write_results(results, args)


if __name__ == '__main__':
    main()

"""Train several methods (or variants of one) at one budget and evaluate
them all with the same evaluator.

    python tools/benchmarks/compare_methods.py RUN [RUN ...] [--seeds 0 1]
        [--cfg-options KEY=VALUE ...] [--out docs/compare]

Each RUN is ``NAME=CONFIG[,KEY=VALUE,...]``: a config (e.g. the quickstart
and ``configs/compare/*``, which share data, backbone, schedule and kNN)
with overrides for that run only; ``--cfg-options`` apply to every run.
Each run trains through mmengine's runner once per seed, validating by
kNN after every epoch as its config says, then runs the config's test
loop on the final weights (for the Fashion-MNIST configs: kNN, k = 200,
T = 0.07, all training images vote for all 10,000 test images).

Writes ``OUT.json`` (every run, seed, epoch), ``OUT.md`` (a table: test
kNN per seed and mean, wall time per epoch) and ``OUT.png`` (validation
kNN against epoch, mean over seeds, one line per run).

Example, the quickstart against SimCLR on the same budget::

    python tools/benchmarks/compare_methods.py \\
        nnclr=configs/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py \\
        simclr=configs/compare/simclr_resnet18_1xb256-coslr-5e_fashion-mnist.py
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

import nnclr_mm  # noqa: F401


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


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='+', type=parse_run,
                        help='NAME=CONFIG[,KEY=VALUE,...]')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides for every run, e.g. train_cfg.max_epochs=30')
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--out', default='docs/compare')
    return parser.parse_args()


def run_config(run: dict, seed: int, common: dict, work_dir: str) -> Config:
    """The config of one run and seed."""
    cfg = Config.fromfile(run['config'])
    cfg.merge_from_dict({**common, **run['options']})
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(work_dir, f'{run["name"]}_seed{seed}')
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


def train_and_test(run: dict, cfg: Config):
    """Train one run's config; its validation and test metrics."""
    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    seconds = time.time() - start
    test = runner.test()
    scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    with open(scalars) as f:
        val = [json.loads(line) for line in f]
    val = [r['knn_top1'] for r in val if 'knn_top1' in r]
    epochs = cfg.train_cfg.max_epochs
    return dict(name=run['name'], seed=cfg.randomness.seed, epochs=epochs,
                seconds_per_epoch=round(seconds / epochs, 1),
                val_knn_top1=val, test=test)


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
        f'Machine: {machine}, torch {torch.__version__}. Test: each '
        "config's test loop on the final weights.", '',
        '| run | ' + ' | '.join(f'test kNN top-1, seed {s} (%)'
                               for s in seeds) +
        ' | mean (%) | s / epoch |',
        '|---|' + '---|' * (len(seeds) + 2)
    ]
    for name in names:
        rows = [r for r in results if r['name'] == name]
        top1 = [r['test']['knn_top1'] for r in rows]
        lines.append(
            f'| {name} | ' + ' | '.join(f'{v:.2f}' for v in top1) +
            f' | {mean(top1):.2f} | '
            f'{mean([r["seconds_per_epoch"] for r in rows]):.0f} |')
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    for name in names:
        curves = [r['val_knn_top1'] for r in results if r['name'] == name]
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
    for run, cfg in jobs:
        results.append(train_and_test(run, cfg))
        print(results[-1])
    write_results(results, args)


if __name__ == '__main__':
    main()

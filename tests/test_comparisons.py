"""The learning benchmarks of tools/comparisons/, run as typed on little
data: they train, evaluate and write their tables."""
import json

import pytest
from toolkit import QUICKSTART, SIMCLR, tiny_options


def test_lightly_parity_runs_both_and_writes_the_table(run_tool, tmp_path):
    out = tmp_path / 'parity'
    # One step of batch 256 each, on Debian's Fashion-MNIST files.
    run_tool('comparisons/lightly_parity.py', '--epochs', 1, '--seeds', 0,
             '--num-train', 256, '--num-test', 128, '--workers', 0,
             '--out', out)
    rows = json.loads((tmp_path / 'parity.json').read_text())['rows']
    assert [(r['run'], r['seed']) for r in rows] == [('lightly 1.6', 0),
                                                    ('nnclr_mm', 0)]
    for row in rows:
        assert 0.0 <= row['knn_top1'] <= 100.0
        assert 0.0 < row['feature_std'] < 1.0
    table = (tmp_path / 'parity.md').read_text()
    assert 'lightly_parity.py --epochs 1' in table
    assert '| nnclr_mm | 0 |' in table


def test_lightly_parity_ablation_swaps_one_piece(run_tool, tmp_path):
    out = tmp_path / 'ablation'
    run_tool('comparisons/lightly_parity.py', '--epochs', 1, '--seeds', 0,
             '--num-train', 256, '--num-test', 128, '--workers', 0,
             '--runs', 'lightly', 'lightly+heads', 'lightly+zero-init',
             '--out', out)
    rows = json.loads((tmp_path / 'ablation.json').read_text())['rows']
    lightly, heads, zero_init = rows
    assert heads['run'] == 'lightly 1.6 + ours: heads'
    # NNCLRNeck and the predictor are built layer for layer as lightly's
    # heads and initialised alike, drawing the same random numbers: the
    # same step, the same features.
    assert (heads['knn_top1'], heads['feature_std']) == (
        lightly['knn_top1'], lightly['feature_std'])
    # Zero-initialised residual branches change the trained features.
    assert zero_init['feature_std'] != lightly['feature_std']


def test_compare_methods_trains_every_run_and_plots(run_tool, tmp_path,
                                                    fashion_mnist_root):
    # The quickstart's loaders serve all three runs (the SimCLR config
    # inherits them).
    # k = 1: one class has a vote, the other four of a top 5 score 0 and
    # must not count as hits, as in tools/test.py.
    # The runs' hook lists differ, so these options, shared by all runs,
    # leave them as they are.
    shrink = [
        option for option in tiny_options(
            QUICKSTART, fashion_mnist_root, batch_size=16, epochs=2)
        if not option.startswith('custom_hooks.')
    ] + ['test_cfg.k=1']
    out = tmp_path / 'compare'
    run_tool('comparisons/compare_methods.py', f'nnclr={QUICKSTART}',
             f'nnclr-zir-on={QUICKSTART},'
             'model.backbone.zero_init_residual=True',
             f'simclr={SIMCLR}', '--seeds', 0, '--pixel-baseline',
             '--work-dir', tmp_path / 'work', '--out', out, '--cfg-options',
             *shrink)
    results = json.loads((tmp_path / 'compare.json').read_text())['results']
    assert [r['name'] for r in results] == ['raw pixels', 'nnclr',
                                            'nnclr-zir-on', 'simclr']
    for result in results[1:]:
        assert len(result['val_knn_top1']) == 2  # one kNN per epoch
    for result in results:
        assert set(result['test']) == {'knn_top1', 'knn_top5', 'probe_top1'}
        assert 0 <= result['test']['probe_top1'] <= 100
    # Its kNN is the config's test loop, as tools/test.py runs it.
    by_test = tmp_path / 'test.json'
    run_tool('test.py', QUICKSTART, tmp_path / 'work/nnclr_seed0/epoch_2.pth',
             '--work-dir', tmp_path / 'test', '--out', by_test,
             '--cfg-options', *shrink)
    assert json.loads(by_test.read_text()) == pytest.approx({
        k: v for k, v in results[1]['test'].items() if k.startswith('knn')
    })
    table = (tmp_path / 'compare.md').read_text()
    assert table.count('\n| ') == 5  # header, pixels and three runs
    assert (tmp_path / 'compare.png').stat().st_size > 1000

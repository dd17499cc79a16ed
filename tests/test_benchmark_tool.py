"""tools/benchmark.py runs and reports every section (its numbers are
recorded in the README, never asserted)."""
import json

import pytest
from toolkit import run_tool_subprocess


def test_benchmark_quick_writes_every_section(tmp_path):
    out = tmp_path / 'bench.json'
    run = run_tool_subprocess('benchmark.py', '--quick', '--out', out)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert {'machine', 'step', 'lookup', 'data', 'e2e'} <= set(results)
    for row in results['step']:
        # The ratio comes from unrounded medians.
        assert abs(row['ratio'] - row['nnclr_s'] / row['simclr_s']) < 0.01
        assert row['bank'] == 4096 and row['amp'] is False
    lookup = results['lookup'][0]
    assert lookup['chunked_ms'] > 0 and lookup['dense_ms'] > 0
    assert all(row['images_per_s_per_core'] > 0 for row in results['data'])
    assert results['e2e']['samples_per_s'] > 0
    assert '== lookup' in run.stdout


@pytest.mark.parametrize('args, message', [
    (['--amp'], '--amp needs a CUDA GPU'),
    (['--bank-size', '4'], '--bank-size (4) must hold one view\'s batch (8)'),
])
def test_bad_options_are_clear_errors(args, message):
    run = run_tool_subprocess('benchmark.py', '--quick', *args,
                              env=dict(CUDA_VISIBLE_DEVICES=''))
    assert run.returncode == 2
    assert message in run.stderr

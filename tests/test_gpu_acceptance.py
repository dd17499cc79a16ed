"""The GPU acceptance run, rehearsed on the CPU: tools/gpu/prepare.py
carries what a bare GPU node lacks, and every line of
``tools/gpu/acceptance.sh OUT --rehearse`` runs and passes, so that the
first GPU runs a script that has run before."""
import json
import os
import subprocess
import sys

from toolkit import ROOT, run_tool_subprocess

#: The checks of tools/gpu/acceptance.py, in its order.
CHECKS = ['environment', 'train_amp_resume', 'units',
          'checkpoint_portability', 'speed', 'device_aug', 'dist_train',
          'methods_amp', 'exact_resume']


def test_prepare_then_rehearse_writes_a_passing_report(tmp_path):
    prepared = run_tool_subprocess('gpu/prepare.py')
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    assert 'the working tree that travels is' in prepared.stdout
    out = tmp_path / 'out'
    run = subprocess.run(
        ['bash', os.path.join(ROOT, 'tools', 'gpu', 'acceptance.sh'),
         str(out), '--rehearse'],
        cwd=ROOT, env=dict(os.environ, PYTHON=sys.executable),
        capture_output=True, text=True)
    report = json.loads((out / 'gpu_report.json').read_text())
    results = {c['name']: c['result'] for c in report['checks']}
    assert run.returncode == 0, (results, run.stdout[-3000:],
                                 run.stderr[-3000:])
    assert list(results) == CHECKS
    assert set(results.values()) == {'pass'}
    assert report['mode'] == 'rehearsal'
    # The carried wheels were installed and used.
    env = report['checks'][0]['measured']
    assert env['carried_from']['mmengine'] == str(out / 'site')
    table = (out / 'gpu_report.md').read_text()
    for name in CHECKS:
        assert f'| {name} | pass |' in table
    # tools/analysis_tools/speed.py --quick, as the GPU runs it: every section.
    bench = report['checks'][CHECKS.index('speed')]['measured']
    for row in bench['step']:
        # The ratio comes from unrounded medians.
        assert abs(row['ratio'] - row['nnclr_s'] / row['simclr_s']) < 0.01
        assert row['bank'] == 98304 and row['amp'] is True
    lookup = bench['lookup'][0]
    assert lookup['chunked_ms'] > 0 and lookup['dense_ms'] > 0
    (knn, ) = bench['knn']
    assert knn['bank'] == 4096 and knn['ms_per_1000_queries'] > 0
    device_aug = report['checks'][CHECKS.index('device_aug')]['measured']
    assert device_aug['equivalence']['failures'] == 0
    assert [row['where'].split(',')[0] for row in device_aug['cost']] == [
        'mmcv transforms', 'DeviceAugDataPreprocessor']

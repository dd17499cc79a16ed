"""tools/analysis_tools/speed.py runs and reports its sections (its numbers are
recorded in docs/measured/speed.md, never asserted); the GPU acceptance
rehearsal (tests/test_gpu_acceptance.py) runs its step, lookup and knn
sections."""
import json

from toolkit import run_tool_subprocess


def test_speed_quick_writes_the_data_sections(tmp_path):
    out = tmp_path / 'bench.json'
    run = run_tool_subprocess('analysis_tools/speed.py', '--quick',
                              '--sections', 'loader', 'device-aug',
                              'lightly', 'e2e', '--out', out)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results) == {'machine', 'loader', 'device-aug', 'lightly',
                            'e2e'}
    assert [row['pipeline'] for row in results['loader']] == [
        'decode only', 'decode + crop + flip',
        'device-aug workers (+ pack to uint8)',
        'paper (BYOL two views), pillow', 'paper (BYOL two views), cv2']
    assert all(row['images_per_s_per_core'] > 0
               and row['workers_1_images_per_s'] > 0
               for row in results['loader'])
    assert all(row['ms_per_sample'] > 0 for row in results['device-aug'])
    for row in results['lightly']:
        # The ratio comes from unrounded medians.
        assert abs(row['ratio'] - row['ours_s'] / row['lightly_s']) < 0.02
    assert results['e2e']['samples_per_s'] > 0
    assert '== e2e' in run.stdout


def test_a_bank_smaller_than_the_batch_is_a_clear_error():
    run = run_tool_subprocess('analysis_tools/speed.py', '--quick',
                              '--bank-size', 4,
                              env=dict(CUDA_VISIBLE_DEVICES=''))
    assert run.returncode == 2
    assert '--bank-size (4) must hold one view\'s batch (8)' in run.stderr

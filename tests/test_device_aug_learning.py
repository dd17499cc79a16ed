"""The quickstart learns as well with its photometric augmentations on the
device as with them in the dataloader workers: both trained through
tools/comparisons/compare_methods.py with 2 seeds, kNN on the whole test
split. Slow (about 25 minutes on 2 CPU cores); the numbers of one run are
in docs/results/device_aug_learning.md."""
import json
from statistics import mean

import pytest
from toolkit import DEVICE_AUG, QUICKSTART, run_tool_subprocess


@pytest.mark.slow
def test_device_augmentation_learns_as_the_worker_pipeline(tmp_path):
    out = tmp_path / 'device_aug_learning'
    run = run_tool_subprocess(
        'comparisons/compare_methods.py', f'pillow-workers={QUICKSTART}',
        f'device-aug={DEVICE_AUG}', '--seeds', '0', '1', '--work-dir',
        tmp_path / 'work', '--out', out)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.with_suffix('.json').read_text())['results']
    knn = {name: [r['test']['knn_top1'] for r in results
                  if r['name'] == name]
           for name in ('pillow-workers', 'device-aug')}
    assert all(len(seeds) == 2 for seeds in knn.values())
    # Within seed noise: the means differ by no more than twice the larger
    # spread between two seeds of one pipeline (or one point).
    noise = max(1.0, 2 * max(max(s) - min(s) for s in knn.values()))
    assert abs(mean(knn['device-aug']) - mean(knn['pillow-workers'])) <= \
        noise, knn

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from toolkit import NO_VALIDATION, QUICKSTART, serial_options, tiny_config

import nnclr_mm  # noqa: F401
from nnclr_mm.visualization import (
    GridLayout,
    find_scalars,
    load_scalars,
    neighbour_grid,
    plot_training_curves,
)
from nnclr_mm.visualization.neighbours import GREEN, GREY, RED

SMALL = [
    '--cfg-options', 'val_dataloader.dataset.indices=64',
    'val_cfg.bank_dataloader.dataset.indices=256',
    'model.memory_bank.size=64',  # as in the tiny checkpoint
    *serial_options(QUICKSTART)
]


def test_neighbour_grid_marks_same_class_neighbours(tmp_path):
    # Two queries with three neighbours each; labels chosen by hand.
    grey = np.full((8, 8, 3), 128, np.uint8)
    out = tmp_path / 'grid.png'
    accuracy = neighbour_grid(
        [grey, grey], [[grey] * 3, [grey] * 3],
        str(out),
        query_labels=[1, 2],
        neighbour_labels=[[1, 0, 1], [2, 2, 2]])
    assert accuracy == pytest.approx(5 / 6)
    image = np.asarray(Image.open(out).convert('RGB'))
    assert image.shape[1::-1] == GridLayout().size(2, 4)
    expected = [[GREY, GREEN, RED, GREEN], [GREY, GREEN, GREEN, GREEN]]
    for row, colours in enumerate(expected):
        for col, colour in enumerate(colours):
            x, y = GridLayout().origin(row, col)
            # A pixel in the frame (left border, halfway down) ...
            assert tuple(image[y + 36, x + 1]) == colour, (row, col)
            # ... and one of the image inside it.
            assert tuple(image[y + 36, x + 36]) == (128, 128, 128)


def test_neighbour_grid_without_labels_has_no_accuracy(tmp_path):
    img = np.zeros((8, 8), np.uint8)
    assert neighbour_grid([img], [[img, img]], str(tmp_path / 'g.png')) is None


def test_training_curves_from_scalars(tmp_path):
    scalars = tmp_path / 'scalars.json'
    records = [dict(loss=5.0 - i, nn_acc=0.1 * i, bank_fill=1.0, step=i)
               for i in range(1, 4)] + [dict(knn_top1=60.0, step=1)]
    scalars.write_text('\n'.join(json.dumps(r) for r in records))
    series = load_scalars(str(scalars))
    assert series['loss'] == [(1, 4.0), (2, 3.0), (3, 2.0)]
    out = tmp_path / 'curves.png'
    plot_training_curves(series, str(out))
    # Four panels of 3.6 x 3.2 inches at 100 dpi.
    assert Image.open(out).size == (1440, 320)


def test_plots_leave_the_caller_s_matplotlib_backend_alone(tmp_path):
    # A library that calls matplotlib.use() switches a notebook's or a
    # GUI's backend under it; the plots draw on Figures of their own.
    script = f"""
import matplotlib
matplotlib.use('svg')
import numpy as np
from nnclr_mm.visualization import plot_embedding, plot_training_curves
plot_training_curves({{'loss': [(1, 2.0), (2, 1.0)]}}, r'{tmp_path}/c.png')
plot_embedding(np.zeros((4, 2)), np.arange(4), r'{tmp_path}/e.png')
print(matplotlib.get_backend())
"""
    run = subprocess.run([sys.executable, '-c', script], capture_output=True,
                         text=True, check=True)
    assert run.stdout.split() == ['svg']
    assert Image.open(tmp_path / 'c.png').size == (360, 320)
    assert Image.open(tmp_path / 'e.png').size == (700, 600)


def test_curves_join_a_run_and_the_run_that_resumed_it(tmp_path, run_tool,
                                                        capsys):
    # mmengine writes each run's scalars into a folder of its own; the
    # resumed run logs again the steps after its checkpoint (here 3).
    runs = {'20260101_000000': [(1, 5.0), (2, 4.0), (3, 3.5)],
            '20260101_010000': [(3, 3.0), (4, 2.0)]}
    for stamp, losses in runs.items():
        folder = tmp_path / stamp / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text('\n'.join(
            json.dumps(dict(loss=loss, step=step)) for step, loss in losses))
    series = load_scalars(find_scalars(str(tmp_path)))
    assert series['loss'] == [(1, 5.0), (2, 4.0), (3, 3.0), (4, 2.0)]
    run_tool('analysis_tools/plot_curves.py', tmp_path)
    assert (tmp_path / 'training_curves.png').is_file()
    assert 'from 2 runs' in capsys.readouterr().out


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A quickstart-model checkpoint after 2 training steps."""
    from mmengine.runner import Runner
    work = tmp_path_factory.mktemp('ckpt')
    cfg = tiny_config(
        QUICKSTART, batch_size=32, **NO_VALIDATION,
        train_dataloader=dict(dataset=dict(indices=64)),
        train_cfg=dict(_delete_=True, by_epoch=False, max_iters=2),
        param_scheduler=None,
        model=dict(memory_bank=dict(size=64)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=0)],
        default_hooks=dict(checkpoint=dict(
            _delete_=True, type='CheckpointHook', by_epoch=False,
            interval=2)),
        work_dir=str(work))
    Runner.from_cfg(cfg).train()
    return work / 'iter_2.pth'


def test_vis_nn_tool_writes_the_grid(tmp_path, tiny_checkpoint, run_tool,
                                     capsys):
    out = tmp_path / 'nn.png'
    run_tool('visualization/vis_nn.py', QUICKSTART, tiny_checkpoint,
             '--out', out, '--num-queries', 3, '--topk', 4, '--work-dir',
             tmp_path / 'w', *SMALL)
    assert Image.open(out).size == GridLayout().size(3, 5)
    assert 'neighbour accuracy: shown' in capsys.readouterr().out


@pytest.mark.parametrize('method', ['pca', 'tsne'])
def test_vis_embedding_tool_writes_the_plot(tmp_path, tiny_checkpoint,
                                            run_tool, method):
    out = tmp_path / 'emb.png'
    run_tool('visualization/vis_embedding.py', QUICKSTART, tiny_checkpoint,
             '--out', out, '--method', method, '--work-dir', tmp_path / 'w',
             *SMALL)
    assert Image.open(out).size == (700, 600)


def test_pictures_go_beside_the_checkpoint_by_default(tmp_path,
                                                      tiny_checkpoint,
                                                      run_tool):
    import os.path as osp
    import shutil
    checkpoint = tmp_path / 'run' / 'iter_2.pth'
    checkpoint.parent.mkdir()
    shutil.copy(tiny_checkpoint, checkpoint)
    for tool, name in (('visualization/vis_nn.py', 'nn_grid.png'),
                       ('visualization/vis_embedding.py', 'embedding.png')):
        run_tool(tool, QUICKSTART, checkpoint, '--work-dir', tmp_path / 'w',
                 *SMALL, *(['--method', 'pca'] if 'embedding' in tool
                           else ['--num-queries', 3]))
        assert osp.isfile(checkpoint.parent / name), tool


def test_checkpoint_from_another_model_is_refused(tmp_path, run_tool):
    # vis tools load the whole model strictly: a mismatch must be loud.
    ckpt = tmp_path / 'other.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(1))), ckpt)
    with pytest.raises(ValueError, match=r'other.pth does not fit NNCLR: '
                       r'0.0% of its parameters'):
        run_tool('visualization/vis_nn.py', QUICKSTART, ckpt, '--out',
                 tmp_path / 'x.png', '--work-dir', tmp_path / 'w', *SMALL)

import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

#: Panels of the training-curve figure: (key, title, x axis).
PANELS = (('loss', 'loss', 'iteration'), ('nn_acc', 'nn_acc', 'iteration'),
          ('bank_fill', 'bank fill', 'iteration'),
          ('knn_top1', 'kNN top-1 (%)', 'epoch'))


def find_scalars(work_dir: str) -> List[str]:
    """Every ``vis_data/scalars.json`` mmengine wrote under a work dir, one
    per run (a resumed run writes its own), oldest first.

    Args:
        work_dir (str): A runner's work dir.
    """
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not found:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json under {work_dir!r}: train with a '
            "visualizer that has a LocalVisBackend (mmpretrain's default)")
    return found


def load_scalars(
    paths: Union[str, Sequence[str]]
) -> Dict[str, List[Tuple[int, float]]]:
    """Series ``key -> [(step, value), ...]``, by step, from scalars.json
    files of one run and the runs that resumed it, in that order.

    A resumed run logs again the steps after its checkpoint: a step's value
    is the last run's.

    Args:
        paths (str | Sequence[str]): mmengine's one-JSON-object-per-line
            scalars files, e.g. :func:`find_scalars`'s.
    """
    by_step: Dict[str, Dict[int, float]] = {}
    for path in [paths] if isinstance(paths, str) else paths:
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                step = record.pop('step')
                for key, value in record.items():
                    if isinstance(value, (int, float)):
                        by_step.setdefault(key, {})[step] = value
    return {key: sorted(steps.items()) for key, steps in by_step.items()}


def plot_training_curves(series: Dict[str, List[Tuple[int, float]]],
                         out: str,
                         title: str = 'NNCLR training') -> str:
    """Write a PNG with one panel per curve of :data:`PANELS` present.

    Args:
        series (dict): As returned by :func:`load_scalars`.
        out (str): PNG path.
        title (str): Figure title. Defaults to ``'NNCLR training'``.

    Returns:
        str: ``out``.
    """
    # A Figure of its own: no pyplot state, the caller's backend untouched.
    from matplotlib.figure import Figure

    panels = [p for p in PANELS if series.get(p[0])]
    if not panels:
        raise ValueError(f'none of {[p[0] for p in PANELS]} in the scalars')
    fig = Figure(figsize=(3.6 * len(panels), 3.2))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (key, label, xlabel) in zip(axes[0], panels):
        steps, values = zip(*series[key])
        ax.plot(steps, values, marker='o' if len(steps) < 30 else None)
        ax.set_title(label)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return out

from typing import Optional, Sequence

import numpy as np

from .._validation import check_choice

METHODS = ('tsne', 'pca')


def project_2d(feats: np.ndarray, method: str = 'tsne',
               seed: int = 0) -> np.ndarray:
    """2-D projection of ``(N, C)`` features with scikit-learn.

    Args:
        feats (ndarray): The features.
        method (str): ``'tsne'`` (t-SNE, PCA-initialised) or ``'pca'``.
            Defaults to ``'tsne'``.
        seed (int): Random state of t-SNE. Defaults to 0.
    """
    check_choice('project_2d', 'method', method, METHODS)
    try:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE
    except ImportError as error:
        raise ImportError('the embedding plot needs scikit-learn: pip '
                          'install "nnclr_mm[vis]"') from error
    if method == 'pca':
        return PCA(n_components=2).fit_transform(feats)
    perplexity = min(30.0, (len(feats) - 1) / 3)
    return TSNE(n_components=2, init='pca', perplexity=perplexity,
                random_state=seed).fit_transform(feats)


def plot_embedding(points: np.ndarray,
                   labels: np.ndarray,
                   out: str,
                   class_names: Optional[Sequence[str]] = None,
                   title: str = 'embedding') -> str:
    """Scatter plot of 2-D points coloured by class, as a 700 x 600 PNG.

    Args:
        points (ndarray): ``(N, 2)`` coordinates.
        labels (ndarray): ``(N, )`` integer classes.
        out (str): PNG path.
        class_names (Sequence[str], optional): Legend names by class index.
        title (str): Figure title. Defaults to ``'embedding'``.

    Returns:
        str: ``out``.
    """
    # A Figure of its own: no pyplot state, the caller's backend untouched.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    cmap = colormaps['tab10' if labels.max() < 10 else 'tab20']
    for cls in np.unique(labels):
        mask = labels == cls
        name = class_names[cls] if class_names else str(cls)
        ax.scatter(points[mask, 0], points[mask, 1], s=6, color=cmap(cls),
                   label=name)
    ax.legend(fontsize=7, markerscale=2, loc='best')
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return out

from .curves import find_scalars, load_scalars, plot_training_curves
from .embedding import plot_embedding, project_2d
from .neighbours import GridLayout, neighbour_grid, raw_image

__all__ = [
    'GridLayout', 'find_scalars', 'load_scalars', 'neighbour_grid',
    'plot_embedding', 'plot_training_curves', 'project_2d', 'raw_image'
]

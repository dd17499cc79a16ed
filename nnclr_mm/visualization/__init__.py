from .curves import find_scalars, load_scalars, plot_training_curves

__all__ = ['find_scalars', 'load_scalars', 'plot_training_curves']

"""Training curves of a work dir: ``nnclr-mm plot-curves``
from a clone (nnclr_mm/cli/plot_curves.py)."""
from nnclr_mm.cli.plot_curves import main

if __name__ == '__main__':
    main()

"""Nearest neighbours of query images: ``nnclr-mm vis-nn``
from a clone (nnclr_mm/cli/vis_nn.py)."""
from nnclr_mm.cli.vis_nn import main

if __name__ == '__main__':
    main()

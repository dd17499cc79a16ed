"""A 2-D projection of features: ``nnclr-mm vis-embedding``
from a clone (nnclr_mm/cli/vis_embedding.py)."""
from nnclr_mm.cli.vis_embedding import main

if __name__ == '__main__':
    main()

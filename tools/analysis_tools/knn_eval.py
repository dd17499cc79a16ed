"""kNN of a checkpoint's backbone: ``nnclr-mm knn``
from a clone (nnclr_mm/cli/knn.py)."""
from nnclr_mm.cli.knn import main

if __name__ == '__main__':
    main()

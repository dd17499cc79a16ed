"""Train a model: ``nnclr-mm train``
from a clone (nnclr_mm/cli/train.py)."""
from nnclr_mm.cli.train import main

if __name__ == '__main__':
    main()

"""Weights of a checkpoint for publishing: ``nnclr-mm publish``
from a clone (nnclr_mm/cli/publish.py)."""
from nnclr_mm.cli.publish import main

if __name__ == '__main__':
    main()

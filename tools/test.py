"""Test a checkpoint: ``nnclr-mm test``
from a clone (nnclr_mm/cli/test.py)."""
from nnclr_mm.cli.test import main

if __name__ == '__main__':
    main()

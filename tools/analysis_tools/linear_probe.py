"""Linear probe of a checkpoint's backbone: ``nnclr-mm linear-probe``
from a clone (nnclr_mm/cli/linear_probe.py)."""
from nnclr_mm.cli.linear_probe import main

if __name__ == '__main__':
    main()

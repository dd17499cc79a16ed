"""Speed and memory against SimCLR: ``nnclr-mm speed``
from a clone (nnclr_mm/cli/speed.py)."""
from nnclr_mm.cli.speed import main

if __name__ == '__main__':
    main()

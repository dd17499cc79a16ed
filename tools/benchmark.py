"""Speed and memory against SimCLR: ``nnclr-mm benchmark``
from a clone (nnclr_mm/cli/benchmark.py)."""
from nnclr_mm.cli.benchmark import main

if __name__ == '__main__':
    main()

"""The nearest images of queries in a folder: ``nnclr-mm retrieve``
from a clone (nnclr_mm/cli/retrieve.py)."""
from nnclr_mm.cli.retrieve import main

if __name__ == '__main__':
    main()

"""``python -m nnclr_mm.cli COMMAND ...``: the ``nnclr-mm`` command line,
also where torchrun starts it (``nnclr-mm dist-train``)."""
from . import main

if __name__ == '__main__':
    main()

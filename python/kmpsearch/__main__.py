"""``python -m kmpsearch``: the ``kmpsearch`` command (see ``kmpsearch.cli``)."""

import sys

from kmpsearch.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m ui [--host H] [--port P] [--auth USER:PASS]``: the same as ``rag serve``."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))

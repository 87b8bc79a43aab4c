"""Entry point of the frozen app (PyInstaller): the same as ``python -m gcnn_viewer``."""

import multiprocessing
import sys

if __name__ == "__main__":
    # torch can start worker processes; in a frozen app a child must not run the app again.
    multiprocessing.freeze_support()
    from gcnn_viewer.cli import main

    sys.exit(main())

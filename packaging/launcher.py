"""Entry point of the frozen app (PyInstaller): the same as ``python -m gcnn_viewer``.

A bundle has no ``python -m``, so the launcher also answers ``--install-desktop`` and
``--uninstall-desktop`` (``python -m gcnn_viewer.desktop`` in a pip install): they put the
bundle's executable, by its absolute path, in this user's application menu.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # torch can start worker processes; in a frozen app a child must not run the app again.
    multiprocessing.freeze_support()
    if sys.argv[1:] in (["--install-desktop"], ["--uninstall-desktop"]):
        from gcnn_viewer.desktop import main as desktop_main

        sys.exit(desktop_main(["--uninstall"] if sys.argv[1] == "--uninstall-desktop" else []))
    from gcnn_viewer.cli import main

    sys.exit(main())

"""Launching the desktop app: ``gcnn-viewer`` with no subcommand."""

from __future__ import annotations

import os
import sys
import traceback

from gcnn_viewer.errors import first_line


def run_app(argv: list[str] | None = None) -> int:
    """Create the QApplication and the main window; return the exit status.

    The window is on screen before torch is imported: the models load on a thread of their
    own (:mod:`gcnn_viewer.gui.startup`), so there is no splash screen."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6 import QtCore, QtWidgets

    from gcnn_viewer.gui.identity import APPLICATION, DISPLAY_NAME, ORGANISATION
    from gcnn_viewer.gui.platform_check import display_problem

    # Without a usable display Qt aborts the process inside QApplication(); say why first.
    problem = None if QtWidgets.QApplication.instance() else display_problem(argv=argv or [])
    if problem:
        print(f"gcnn-viewer: error: {problem}", file=sys.stderr)
        return 2

    QtCore.QCoreApplication.setOrganizationName(ORGANISATION)
    QtCore.QCoreApplication.setApplicationName(APPLICATION)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(
        [sys.argv[0]] + list(argv or [])
    )
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(DISPLAY_NAME)

    from gcnn_viewer.gui.identity import app_icon
    from gcnn_viewer.gui.main_window import MainWindow

    app.setWindowIcon(app_icon())
    window = MainWindow()

    def excepthook(kind, value, tb):
        # An unexpected error in a slot: log it in full, tell the user in one line, carry on.
        traceback.print_exception(kind, value, tb)
        from gcnn_viewer.gui.dialogs import show_error

        show_error(window, "Unexpected error", f"{kind.__name__}: {first_line(value)}")

    previous_hook = sys.excepthook
    sys.excepthook = excepthook
    try:
        window.show()
        status = app.exec()
    finally:
        sys.excepthook = previous_hook
        window.shutdown()
        window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    return int(status)

"""Start-up: the window first, torch and the models after (issue 20, "A window in a second").

The main window is built and shown before torch is imported (no module it imports at the top
imports torch; ``tests/gui/test_startup.py`` checks that). :class:`ModelLoader` then imports
torch and loads and probes the panels' models on a thread of its own, while the window is
on screen and takes strokes; the window shows the models when it is done. The colour scales
come from a cache per weights (:func:`gcnn_viewer.viewer.models.cached_probe`), so a second
start skips measuring them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.errors import first_line
from gcnn_viewer.viewer.models import ModelCatalog

LOADING_TEXT = "loading models…"
LOADING_HINT = "Loading PyTorch and the models. Draw meanwhile: your strokes are kept."
STARTUP_THREADS = 1  # torch threads while loading: the other core stays with the window
UNSHOWN_START_MS = 200  # a window that is not shown (or never exposed) starts loading anyway


class ModelLoader(QtCore.QThread):
    """Imports torch and prepares (loads, probes) the catalog entries ``keys``; then
    ``loaded()``, or ``failed(line)`` (the window then loads them on first use, and says
    why if that fails too)."""

    loaded = QtCore.Signal()
    failed = QtCore.Signal(str)

    def __init__(
        self, catalog: ModelCatalog, keys: Sequence[str], parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("gcnn-viewer start-up")
        self.catalog, self.keys = catalog, tuple(keys)

    def run(self) -> None:
        try:
            import torch

            torch.set_num_threads(STARTUP_THREADS)  # (per thread)
            self.catalog.prepare(self.keys)
        except Exception as exc:  # noqa: BLE001  reported; the window carries on
            self.failed.emit(first_line(exc))
            return
        self.loaded.emit()


def show_loading(panel, key: str) -> None:
    """A model panel before its model is loaded: its selector on ``key``, "loading models…"."""
    panel.refresh_selector()
    panel.selector.setCurrentIndex(max(0, panel.selector.findData(key)))
    panel.prediction.setText(LOADING_TEXT)
    panel.detail.setText(LOADING_TEXT)
    panel.hint.setText(LOADING_HINT)


class StartWhenShown(QtCore.QObject):
    """Starts ``loader`` once ``window`` is on screen (its first expose event, so that it
    is painted before torch's import competes for the interpreter), or after
    :data:`UNSHOWN_START_MS` if it is not shown; never once ``closed()`` (the window has
    closed)."""

    def __init__(
        self, window: QtWidgets.QWidget, loader: ModelLoader, closed: Callable[[], bool]
    ) -> None:
        super().__init__(window)
        self.window, self.loader, self.closed, self.started = window, loader, closed, False
        window.installEventFilter(self)
        QtCore.QTimer.singleShot(UNSHOWN_START_MS, self, self.start)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if obj is self.window and kind == QtCore.QEvent.Type.Show:
            handle = self.window.windowHandle()
            if handle is not None:
                handle.installEventFilter(self)
        elif (
            isinstance(obj, QtGui.QWindow) and kind == QtCore.QEvent.Type.Expose and obj.isExposed()
        ):
            QtCore.QTimer.singleShot(0, self, self.start)  # after this paint
        return False

    def start(self) -> None:
        if self.started or self.closed():
            return
        self.started = True
        self.window.removeEventFilter(self)
        if (handle := self.window.windowHandle()) is not None:
            handle.removeEventFilter(self)
        self.loader.start()

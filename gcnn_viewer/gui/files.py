"""Files in and out of the window: digit images, model checkpoints, drag and drop, and the
folder the last file dialog was in. A bad file gets a one-line message and changes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.data.digits import DigitImageError, load_image_file
from gcnn_viewer.errors import GcnnViewerError, first_line
from gcnn_viewer.gui.dialogs import show_error
from gcnn_viewer.gui.stored_settings import is_text, stored
from gcnn_viewer.viewer.models import CHECKPOINT_SUFFIXES
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.training import save_model_file
from gcnn_viewer.viewer.window_texts import opened_image_text

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm);;All files (*)"
)
MODEL_FILTER = "gcnn-viewer checkpoints (*.pt *.pth *.ckpt);;All files (*)"
LAST_DIR = "files/last_dir"
DRAG_EVENTS = (
    QtCore.QEvent.Type.DragEnter,
    QtCore.QEvent.Type.DragMove,
    QtCore.QEvent.Type.Drop,
)


class Files(QtCore.QObject):
    """Opens and saves for ``window`` (the dialogs' parent and its status bar), remembering
    the last folder in ``settings``; files dropped on the window open too (an event filter:
    checkpoints in the panel they land on, left over ``left_panel``, else right; anything
    else as a digit image)."""

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        state: ViewerState,
        settings: QtCore.QSettings,
        left_panel: QtWidgets.QWidget,
    ) -> None:
        super().__init__(window)
        self.window, self.state, self.settings = window, state, settings
        self.left_panel = left_panel
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def last_dir(self) -> str:
        value = stored(self.settings, LAST_DIR, is_text, "folder of the last file dialog")
        return value or ""

    def _remember(self, path: Path) -> None:
        self.settings.setValue(LAST_DIR, str(path.parent))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _ask_open(self, caption: str, filter_: str) -> Path | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, caption, self.last_dir(), filter_
        )
        return Path(path) if path else None

    def open_image(self, path: str | Path | None = None) -> bool:
        """Load a digit image (dialog when ``path`` is None)."""
        path = (
            Path(path) if path is not None else self._ask_open("Open a digit image", IMAGE_FILTER)
        )
        if path is None:
            return False
        try:
            image = load_image_file(path)
        except DigitImageError as exc:
            show_error(self.window, "Cannot open image", str(exc))
            return False
        self._remember(path)
        self.state.drawing.set_image(image, path.name)
        self._say(opened_image_text(path.name, image.shape))
        return True

    def open_model(self, path: str | Path | None = None, panel: int = 1) -> bool:
        """Load a checkpoint our CLI wrote into ``panel`` (dialog when ``path`` is None); a
        corrupt, foreign or mismatched file changes nothing."""
        if path is None:
            path = self._ask_open("Open a model checkpoint", MODEL_FILTER)
            if path is None:
                return False
        path = Path(path)
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            entry = self.state.catalog.open_checkpoint(path)
        except GcnnViewerError as exc:  # CheckpointError, DataError…: already one line
            error = str(exc)
        except Exception as exc:  # noqa: BLE001  anything else a file can do: one line, go on
            error = f"{path.name}: {first_line(exc)}"
        else:
            error = ""
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if error:
            show_error(self.window, "Cannot open model", error)
            return False
        self._remember(path)
        if self.state.panel_key(panel) != entry.key:  # (reopened: shown via catalog.changed)
            self.state.set_panel(panel, entry.key)
        side = "left" if panel == 0 else "right"
        self._say(f"Opened {entry.title} from {path.name} ({side} panel)")
        return True

    def save_model(self, path: str | Path | None = None, panel: int = 1) -> bool:
        """Write ``panel``'s model as a checkpoint in our format (dialog when ``path`` is
        None); a model opened from or trained to a file is copied with its metadata."""
        entry = self.state.panel_entry(panel)
        if path is None:
            suggested = entry.path.name if entry.path is not None else f"{entry.arch}.pt"
            start = str(Path(self.last_dir() or ".") / suggested)
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self.window, "Save the model as a checkpoint", start, MODEL_FILTER
            )
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
            path = path.with_suffix(".pt")
        try:
            save_model_file(entry.model, path, source=entry.path)
        except Exception as exc:  # noqa: BLE001  disk full, no permission…: one line, go on
            show_error(self.window, "Cannot save model", f"{path.name}: {first_line(exc)}")
            return False
        self._remember(path)
        self._say(f"Saved {entry.title} to {path}")
        return True

    # -- drag and drop ----------------------------------------------------------------------
    @staticmethod
    def dropped_path(event: QtGui.QDropEvent | QtGui.QDragEnterEvent) -> Path | None:
        """The first local file a drag carries, if any."""
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        urls = [u for u in mime.urls() if u.isLocalFile()]
        return Path(urls[0].toLocalFile()) if urls else None

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if watched is not self.window or kind not in DRAG_EVENTS:
            return super().eventFilter(watched, event)
        if kind == QtCore.QEvent.Type.Drop:
            self.drop(event, self.left_panel)
        elif self.dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()
        return True

    def drop(self, event: QtGui.QDropEvent, left_panel: QtWidgets.QWidget) -> None:
        """A checkpoint opens in the panel it was dropped on (right unless over
        ``left_panel``); anything else is read as a digit image."""
        path = self.dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        if path.suffix.lower() in CHECKPOINT_SUFFIXES:
            pos = left_panel.parentWidget().mapFrom(self.window, event.position().toPoint())
            self.open_model(path, panel=0 if left_panel.geometry().contains(pos) else 1)
        else:
            self.open_image(path)

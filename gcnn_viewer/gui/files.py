"""Files in and out of the window: digit images, model checkpoints, drag and drop, and the
folder the last file dialog was in. A bad file gets a one-line message and changes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.data.digits import DigitImageError, load_image_file
from gcnn_viewer.errors import GcnnViewerError, first_line
from gcnn_viewer.gui.dialogs import show_error
from gcnn_viewer.gui.stored_settings import is_text, stored
from gcnn_viewer.gui.user_model_dialog import UserModelChoice, UserModelDialog
from gcnn_viewer.viewer.models import CHECKPOINT_SUFFIXES
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.training import save_model_file
from gcnn_viewer.viewer.window_texts import opened_image_text

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm);;All files (*)"
)
MODEL_FILTER = (
    "Models: checkpoints and Python files (*.pt *.pth *.ckpt *.py);;"
    "gcnn-viewer checkpoints (*.pt *.pth *.ckpt);;Python files (*.py);;All files (*)"
)
# a .py file is a program: the caption says so before it is chosen (and the next dialog again)
MODEL_CAPTION = "Open a model: a checkpoint, or a Python file (opening it runs its code)"
WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth *.ckpt *.bin);;All files (*)"
PYTHON_SUFFIX = ".py"
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
        self.user_dialog: UserModelDialog | None = None  # File ▸ Open model… on a .py file
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
        corrupt, foreign or mismatched file changes nothing. A ``.py`` file goes to
        :meth:`open_user_model`."""
        if path is None:
            path = self._ask_open(MODEL_CAPTION, MODEL_FILTER)
            if path is None:
                return False
        path = Path(path)
        if path.suffix.lower() == PYTHON_SUFFIX:
            return self.open_user_model(path, panel)
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

    def open_user_model(self, path: Path, panel: int = 1) -> bool:
        """A Python file: list the factories it defines (this runs it) and ask which one to
        open, with its weights, name, input size and layers (:class:`UserModelDialog`, not
        blocking). A file that cannot be run or defines no factory: one line, nothing changes."""
        from gcnn_viewer.models.user import list_factories  # torch: only when asked

        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            factories = list_factories(path)
        except GcnnViewerError as exc:  # already one line naming the file
            error = str(exc)
        except Exception as exc:  # noqa: BLE001  the user's code: one line, go on
            error = f"{path.name}: {first_line(exc)}"
        else:
            error = "" if factories else f"{path.name} defines no function or class to call"
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if error:
            show_error(self.window, "Cannot open model", error)
            return False
        self._remember(path)
        if self.user_dialog is not None:
            self.user_dialog.close()
        self.user_dialog = UserModelDialog(
            self.window, path, factories, self._open_choice, self._ask_weights, panel
        )
        self.user_dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.user_dialog.destroyed.connect(self._dialog_gone)
        self.user_dialog.open()  # window-modal, returns at once
        return True

    def _dialog_gone(self, _obj=None) -> None:
        self.user_dialog = None

    def _ask_weights(self) -> Path | None:
        return self._ask_open("Weights for the model (optional)", WEIGHTS_FILTER)

    def _open_choice(self, choice: UserModelChoice) -> str:
        """Open the model the dialog describes in its panel: "" or the one-line error."""
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            entry = self.state.catalog.open_user_model(
                choice.spec,
                weights=choice.weights,
                name=choice.name,
                input_size=choice.input_size,
                layers=choice.layers,
            )
            entry.probe()  # its first forward passes: a model that fails says so here
        except GcnnViewerError as exc:
            return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        except Exception as exc:  # noqa: BLE001  the user's code: one line, go on
            return f"{Path(choice.spec).name}: {first_line(exc)}"
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if self.state.panel_key(choice.panel) != entry.key:
            self.state.set_panel(choice.panel, entry.key)
        side = "left" if choice.panel == 0 else "right"
        self._say(f"Opened {entry.title} from {Path(choice.spec).name} ({side} panel)")
        return ""

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
        if path.suffix.lower() in (*CHECKPOINT_SUFFIXES, PYTHON_SUFFIX):
            pos = left_panel.parentWidget().mapFrom(self.window, event.position().toPoint())
            self.open_model(path, panel=0 if left_panel.geometry().contains(pos) else 1)
        else:
            self.open_image(path)

"""GUI fixtures: an offscreen main window with deterministic models, settings and data.

Models: the shipped P4CNN plus seeded untrained stand-ins for the rest, whatever else ships.
Settings live in a temporary INI file; the data cache is an empty temporary folder; error
dialogs are recorded instead of shown, so no test can block on a modal dialog.

RULE (user actions through user input): a GUI test reaches every user-visible action the
way a user does — ``click(qtbot, button)`` / ``qtbot.mouseClick`` on the real button,
``qtbot.keyClick`` for a shortcut, ``menu_action(window, "File", "Open image…").trigger()``
for a menu entry, ``drag(widget, points)`` (mouse press / move with the button held /
release) on the canvas, dial and slider, ``hover(...)`` over a map, ``drop_file(...)``
with a real QDropEvent — and NEVER by calling the slot (``panel.start()``,
``window.open_model(path)``…): a test that calls the slot is how a Start button that
failed on every click passed 360 tests. File dialogs are the exception that proves it:
``file_dialog`` patches QFileDialog's static methods to return a path, but the action that
opens the dialog is still triggered through the menu, shortcut or button.
``test_every_action_is_exercised.py`` checks that every menu entry and button is reached
this way somewhere in tests/gui.
"""

from __future__ import annotations

import os
from pathlib import Path

# The offscreen platform's default screen is 800×800, smaller than the 1024×700 the window
# is made for: give the tests a 1920×1080 screen (restoreGeometry clamps to the screen).
SCREEN_CONFIG = Path(__file__).with_name("offscreen-screen.json")
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREEN_CONFIG}"

import shutil  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.gui.synthetic_input import canvas_points, drag, mouse  # noqa: E402,F401
from gcnn_viewer.models.pretrained import pretrained_path  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from gcnn_viewer.viewer.state import ViewerState  # noqa: E402
from tests.training.conftest import tiny_datasets  # noqa: E402

FRAME_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    shutil.copy(pretrained_path("p4cnn"), folder / "p4cnn.pt")
    return folder


@pytest.fixture(scope="session")
def shared_catalog(weights_dir):
    """Loaded and probed once for the session (tests that add models make their own)."""
    return ModelCatalog(weights_dir)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "empty-cache"))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # the probe runs in this thread; keep it off OpenMP contention
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def errors(monkeypatch):
    """Every QMessageBox.critical call as (title, text), instead of a blocking dialog."""
    calls = []

    def critical(parent, title, text, *args, **kwargs):
        calls.append((title, text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", staticmethod(critical))
    return calls


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


def wait_frame(qtbot, window, timeout=FRAME_TIMEOUT_MS):
    """Wait until the newest frame requested is on screen; return it."""
    qtbot.waitUntil(
        lambda: window.last_frame is not None and window.last_frame.seq == window.pending_frame,
        timeout=timeout,
    )
    return window.last_frame


def wait_sweep(qtbot, window, timeout=FRAME_TIMEOUT_MS):
    qtbot.waitUntil(
        lambda: (
            window.last_sweep is not None
            and window.last_sweep.version == window.state.drawing.version
            and window.sweep.status.text() == ""
        ),
        timeout=timeout,
    )
    return window.last_sweep


@pytest.fixture
def make_window(qtbot, settings, shared_catalog, errors):
    windows = []

    def make(catalog=None, settings_=None, resize=True):
        state = ViewerState(catalog if catalog is not None else shared_catalog)
        window = MainWindow(state, settings_ if settings_ is not None else settings)
        qtbot.addWidget(window)
        if resize:
            window.resize(1400, 900)
        window.show()
        wait_frame(qtbot, window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        # every thread stopped, and the catalog (shared by the tests) no longer calls it
        assert not window.worker.isRunning() and not window.analysis.worker.isRunning()
        assert not window.exporter.runner.isRunning()
        catalog = window.state.catalog
        assert all(
            getattr(callback, "__self__", None) not in (window, window.analysis)
            for callback in catalog.added._callbacks + catalog.changed._callbacks
        )


@pytest.fixture
def window(make_window):
    return make_window()


def displayed(window, panel: int, layer: str) -> np.ndarray:
    """The mosaic a layer's ImageItem shows right now (uint8 colour indices)."""
    return np.array(window.panels[panel].maps.layers[layer].image.mosaic, copy=True)


# -- user input --------------------------------------------------------------------------------
LEFT = QtCore.Qt.MouseButton.LeftButton
NO_BUTTON = QtCore.Qt.MouseButton.NoButton


def click(qtbot, widget: QtWidgets.QWidget) -> None:
    """A left click in the middle of a visible, enabled widget (as a user clicks it)."""
    assert widget.isVisible(), f"{widget.objectName() or widget} is not visible"
    assert widget.isEnabled(), f"{widget.objectName() or widget} is disabled"
    pos = widget.rect().center()
    if isinstance(widget, QtWidgets.QCheckBox):  # only the box and its text take clicks
        option = QtWidgets.QStyleOptionButton()
        option.initFrom(widget)
        box = widget.style().subElementRect(
            QtWidgets.QStyle.SubElement.SE_CheckBoxIndicator, option, widget
        )
        pos = box.center()
    qtbot.mouseClick(widget, LEFT, pos=pos)


SEVEN = [(0.3, 0.22), (0.72, 0.22), (0.55, 0.5), (0.45, 0.82)]  # a 7 in one stroke


def hover(view, layer: str, channel: int, orientation: int, y: float = 0.5, x: float = 0.5):
    """Move the mouse, no button held, over map ``(channel, orientation)`` of ``layer`` at
    the fraction ``(y, x)`` of the map; returns the viewport position."""
    plot = view.layers[layer]
    top, left = plot.layout.cell_origin(channel, orientation)
    cell = plot.layout.cell
    scene = plot.image.item.mapToScene(QtCore.QPointF(left + x * cell, top + y * cell))
    pos = view.mapFromScene(scene)
    mouse(view.viewport(), QtCore.QEvent.Type.MouseMove, pos, NO_BUTTON, NO_BUTTON)
    return pos


def drop_file(target: QtWidgets.QWidget, path, pos: QtCore.QPointF | None = None) -> bool:
    """Drag a local file over ``target`` and drop it there with real QDragEnter / QDrop
    events, as a file manager does; True when the drop was accepted."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    point = QtCore.QPointF(pos) if pos is not None else QtCore.QPointF(target.rect().center())
    action = QtCore.Qt.DropAction.CopyAction
    modifiers = QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(point.toPoint(), action, mime, LEFT, modifiers)
    QtWidgets.QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QtGui.QDropEvent(point, action, mime, LEFT, modifiers)
    QtWidgets.QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def menu_action(window: QtWidgets.QMainWindow, *path: str) -> QtGui.QAction:
    """The QAction a user reaches through the menu bar: ``menu_action(w, "File",
    "Examples", "Digit 3")``. Texts are matched without ``&`` and a trailing "…"; the last
    one may be a prefix (a text that changes, such as "Undo stroke")."""

    def clean(text: str) -> str:
        return text.replace("&", "").rstrip("…").strip()

    actions = window.menuBar().actions()
    for depth, name in enumerate(path):
        last = depth == len(path) - 1
        found = [
            a
            for a in actions
            if not a.isSeparator()
            and (clean(a.text()) == clean(name) or (last and clean(a.text()).startswith(name)))
        ]
        assert found, f"no menu entry {' ▸ '.join(path[: depth + 1])!r}"
        action = found[0]
        if last:
            assert action.isVisible(), f"{' ▸ '.join(path)} is hidden"
            return action
        assert action.menu() is not None, f"{name!r} is not a menu"
        actions = action.menu().actions()
    raise AssertionError("empty menu path")


def trigger(window, *path: str) -> QtGui.QAction:
    """Choose a menu entry (it must be enabled, as for a user)."""
    action = menu_action(window, *path)
    assert action.isEnabled(), f"{' ▸ '.join(path)} is disabled"
    action.trigger()
    return action


def key(qtbot, widget, key_name: str) -> None:
    """Press a shortcut, e.g. ``key(qtbot, window, "Ctrl+T")``, on ``widget``."""
    sequence = QtGui.QKeySequence(key_name)
    combo = sequence[0]
    qtbot.keyClick(widget, combo.key(), combo.keyboardModifiers())


class DialogAnswers(list):
    """Paths the next file dialogs return; ``opened`` lists the dialogs shown."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []


@pytest.fixture
def file_dialog(monkeypatch):
    """Answers for QFileDialog's static methods: append paths (str) to the returned list;
    each dialog takes the next one ("" = the user cancelled). Records the dialogs opened."""
    answers = DialogAnswers()
    opened = answers.opened

    def answer(kind):
        def dialog(parent=None, caption="", directory="", filter="", *args, **kwargs):
            opened.append(f"{kind}: {caption}")
            path = answers.pop(0) if answers else ""
            return str(path), ""

        return staticmethod(dialog)

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", answer("open"))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", answer("save"))
    return answers


@pytest.fixture
def questions(monkeypatch):
    """QMessageBox.question answers from this list (default Yes), recorded, never shown."""
    asked, answers = [], []

    def question(parent, title, text, *args, **kwargs):
        asked.append((title, text))
        yes = answers.pop(0) if answers else True
        b = QtWidgets.QMessageBox.StandardButton
        return b.Yes if yes else b.No

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(question))
    return asked, answers


# -- data --------------------------------------------------------------------------------------
TINY_SPEC = dict(n_train=96, n_valid=32, n_test=32)


def tiny_mnist_rot(folder: Path, seed: int = 0) -> Path:
    """A tiny MNIST-rot file in ``folder`` (a data cache): the shipped MNIST sample digits
    turned by random angles, in the real file format under its real (small) spec name, so
    that the browser and ``Datasets.from_mnist_rot`` read it as they read the real one."""
    from gcnn_viewer.data.mnist_rot import (
        MnistRot,
        MnistRotSpec,
        _write,
        content_hash,
        generator_versions,
        mnist_rot_path,
        rotate_digit,
    )
    from gcnn_viewer.viewer.models import sample_digits

    samples = sample_digits()
    pool = np.stack([(np.asarray(img) * 255).round().astype(np.uint8) for _, img in samples])
    pool_labels = np.array([int(name.split("-")[0]) for name, _ in samples], np.int64)
    spec = MnistRotSpec(seed=seed, **TINY_SPEC)
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(pool), spec.n_total).astype(np.int64)
    angles = rng.uniform(0.0, 360.0, spec.n_total).astype(np.float32)
    images = np.stack(
        [rotate_digit(pool[k], float(a)) for k, a in zip(source, angles, strict=True)]
    )
    labels = pool_labels[source]
    data = MnistRot(
        images=images,
        labels=labels,
        angles=angles,
        source_index=source,
        spec=spec,
        content_hash=content_hash(images, labels),
        generator=generator_versions(),
    )
    path = mnist_rot_path(spec, folder)
    _write(data, path)
    return path


def tiny_loader(path: Path):
    """A Train-panel data loader that reads the tiny MNIST-rot file as the real one is read."""
    from gcnn_viewer.data.mnist_rot import read_mnist_rot
    from gcnn_viewer.training import Datasets

    def load(say):
        say("reading tiny MNIST-rot")
        return Datasets.from_mnist_rot(read_mnist_rot(path))

    return load


def choose(qtbot, combo: QtWidgets.QComboBox, data) -> None:
    """Open a combo box's list with a click and click the entry holding ``data``."""
    index = combo.findData(data)
    assert index >= 0, f"{combo.objectName()} has no entry {data!r}"
    assert combo.isVisible() and combo.isEnabled()
    qtbot.mousePress(combo, LEFT, pos=combo.rect().center())  # a press opens the list
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5000)
    # Qt ignores a release on the list this soon after it opened (a slow click on the box)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(QtWidgets.QApplication.doubleClickInterval() + 50, loop.quit)
    loop.exec()
    view.scrollTo(combo.model().index(index, 0))
    rect = view.visualRect(combo.model().index(index, 0))
    qtbot.mouseClick(view.viewport(), LEFT, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=5000)


def slider_drag(slider: QtWidgets.QSlider, value: int) -> None:
    """Drag a horizontal slider's handle to ``value`` with the mouse."""
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    cc = QtWidgets.QStyle.ComplexControl.CC_Slider
    handle = style.subControlRect(cc, option, QtWidgets.QStyle.SubControl.SC_SliderHandle, slider)
    groove = style.subControlRect(cc, option, QtWidgets.QStyle.SubControl.SC_SliderGroove, slider)
    span = groove.width() - handle.width()
    x = groove.left() + QtWidgets.QStyle.sliderPositionFromValue(
        slider.minimum(), slider.maximum(), value, span
    )
    target = QtCore.QPointF(x + handle.width() / 2, handle.center().y())
    drag(slider, [QtCore.QPointF(handle.center()), target])


@pytest.fixture
def trainer_window(make_window, weights_dir, tmp_path, questions):
    """A window with the Train tab in front, set for quick Z2CNN runs on tiny data."""
    window = make_window(ModelCatalog(weights_dir))  # its own catalog: training adds to it
    panel = window.train_panel
    panel.load_data = lambda _say: tiny_datasets()
    panel.runs_dir = tmp_path / "runs"
    panel.report_every = 1
    panel.snapshot_every = 1
    panel.snapshot_min_interval_s = 0.0
    panel.refresh_data_status()
    trigger(window, "File", "Train a model")
    panel.model_box.setCurrentIndex(panel.model_box.findData("z2cnn"))
    panel.batch.setValue(16)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    return window

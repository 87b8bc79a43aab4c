"""Your own model in the app (issue 22): ``gcnn-viewer --model FILE.py:FACTORY``, File ▸ Open
model… on a .py file (its factories listed, one chosen, weights optional), and
``gcnn_viewer.view(module)``, which blocks until its window closes; the Filters view says
it cannot show the filters of a layer that is not ours."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import runpy  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

import gcnn_viewer  # noqa: E402
from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE  # noqa: E402
from gcnn_viewer.cli import main  # noqa: E402
from gcnn_viewer.gui import app as app_module  # noqa: E402
from gcnn_viewer.gui.analysis_views import EQUIVARIANCE_ANGLES  # noqa: E402
from gcnn_viewer.gui.files import MODEL_CAPTION  # noqa: E402
from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.gui.user_model_dialog import CODE_WARNING  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from tests.analysis.test_accuracy import synthetic_rot  # noqa: E402

from .conftest import (  # noqa: E402
    FRAME_TIMEOUT_MS,
    choose,
    click,
    displayed,
    drop_file,
    hover,
    key,
    trigger,
    wait_frame,
    wait_sweep,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
P4_FILE = EXAMPLES / "p4_plain_torch.py"
P4_LAYERS = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top"]
LEFT, RIGHT = 0, 1


@pytest.fixture
def user_settings(tmp_path, monkeypatch):
    """The app's own QSettings (what run_app and view() use) in a temporary folder."""
    native, user = QtCore.QSettings.Format.NativeFormat, QtCore.QSettings.Scope.UserScope
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    QtCore.QSettings.setPath(native, user, str(tmp_path / "config"))
    yield tmp_path / "config"
    QtCore.QSettings.setPath(native, user, home)


@pytest.fixture
def launched(qtbot, user_settings, monkeypatch, errors):
    """``gcnn-viewer ARGS`` through the command line, up to its window on screen (the event
    loop that would block is the test's): returns ``launch(args) -> (status, window)``."""
    windows: list[MainWindow] = []

    def show(app, window, own_loop):
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        windows.append(window)
        return 0

    monkeypatch.setattr(app_module, "_show", show)

    def launch(args):
        status = main(args)
        return status, (windows[-1] if windows else None)

    yield launch
    for window in windows:
        window.close()


def wait_models(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.models_ready, timeout=FRAME_TIMEOUT_MS)
    wait_frame(qtbot, window)


def headers(window, panel: int) -> list[str]:
    """The layer plots' titles as shown, e.g. ``l1 26×26``."""
    maps = window.panels[panel].maps
    return [
        lp.plot.titleLabel.text.replace("<b>", "").replace("</b>", "")
        for lp in maps.layers.values()
    ]


def assert_rolled(before: np.ndarray, after: np.ndarray, layout) -> None:
    """A p4 layer's mosaic after +90°: column g is column g−1 before, turned by 90°."""
    for c in range(layout.channels):
        for g in range(4):
            now = layout.cell_of(after, c, g).astype(int)
            then = np.rot90(layout.cell_of(before, c, (g - 1) % 4)).astype(int)
            assert np.abs(now - then).max() <= 1, (c, g)
    assert not np.array_equal(after, before)


def test_launch_with_a_model_spec_shows_its_layers_and_plus_90_rolls_them(launched, qtbot):
    status, window = launched(["--model", f"{P4_FILE}:build", "--name", "my p4"])
    assert status == 0 and window is not None
    wait_models(qtbot, window)
    entry = window.panels[LEFT].entry
    assert entry.title == "my p4" and window.panels[LEFT].selector.shown_text() == "my p4"
    assert headers(window, LEFT) == [
        "l1 26×26", "l2 24×24", "pool 12×12", "l3 10×10", "l4 8×8", "l5 6×6", "l6 4×4",
        "top",
    ]  # fmt: skip
    assert window.panels[RIGHT].entry.arch == "p4cnn"  # the other panel: the default
    assert "my p4" in window.windowTitle()
    layout = window.panels[LEFT].maps.layers["l2"].layout
    assert layout.is_group and layout.orientations == 4
    frame0 = wait_frame(qtbot, window)
    at_0 = {name: displayed(window, LEFT, name) for name in P4_LAYERS}
    before = at_0["l2"]
    click(qtbot, window.rotation.plus)
    frame90 = wait_frame(qtbot, window)
    assert frame90.angle == 90
    assert_rolled(before, displayed(window, LEFT, "l2"), layout)
    # invariant logits: the orientation maximum at the top
    np.testing.assert_allclose(
        frame90.panels[LEFT].probabilities, frame0.panels[LEFT].probabilities, atol=1e-5
    )
    # the stabilised view: every layer turned back and rolled back stands still at 90°
    trigger(window, "View", "Stabilised view")
    assert wait_frame(qtbot, window).turns == 1
    for name in P4_LAYERS:
        diff = np.abs(displayed(window, LEFT, name).astype(int) - at_0[name])
        assert diff.max() <= 1, name
    # probability against angle: the same at the four quarter turns
    sweep = wait_sweep(qtbot, window)
    curve = sweep.curve(entry.key, int(np.argmax(frame0.panels[LEFT].probabilities)))
    quarter = [int(np.argmin(np.abs(sweep.angles - a))) for a in (0, 90, 180, 270)]
    assert np.ptp(curve[quarter]) < 1e-5 and np.ptp(curve) > 0  # (not flat in between)


def test_launch_with_two_specs_fills_both_panels(launched, qtbot):
    status, window = launched(
        ["--model", f"{P4_FILE}:build", f"{EXAMPLES / 'plain_cnn.py'}:build", "--name", "a", "b"]
    )
    assert status == 0
    wait_models(qtbot, window)
    assert [p.entry.title for p in window.panels] == ["a", "b"]
    assert list(window.panels[RIGHT].maps.layers) == ["conv1", "conv2", "pool", "conv3", "conv4"]


def test_launch_with_a_bad_spec_is_one_line_and_no_window(launched, capsys):
    status, window = launched(["--model", f"{EXAMPLES / 'no_such_file.py'}:build"])
    assert status == 2 and window is None
    err = capsys.readouterr().err.strip()
    assert err.startswith("gcnn-viewer: error:") and "no_such_file.py" in err
    assert "\n" not in err and "Traceback" not in err
    status, window = launched(["--weights", "w.pt"])
    assert status == 2 and window is None
    assert "--weights goes with --model" in capsys.readouterr().err


@pytest.fixture
def own_window(make_window, weights_dir):
    return make_window(ModelCatalog(weights_dir))  # its own catalog: the test adds to it


def open_py(qtbot, window, file_dialog, path):
    """File ▸ Open model…, the file dialog answered with ``path``: the factory dialog."""
    file_dialog.append(str(path))
    trigger(window, "File", "Open model")
    dialog = window.files.user_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    return dialog


def test_open_model_lists_the_factories_and_opens_the_chosen_one_with_weights(
    own_window, qtbot, file_dialog, errors, tmp_path
):
    window = own_window
    torch.manual_seed(3)
    net = runpy.run_path(str(P4_FILE))["P4Net"]()
    weights = tmp_path / "p4.pt"
    torch.save(net.state_dict(), weights)
    dialog = open_py(qtbot, window, file_dialog, P4_FILE)
    assert file_dialog.opened == ["open: " + MODEL_CAPTION] and "runs its code" in MODEL_CAPTION
    assert dialog.warning.text() == CODE_WARNING and "runs" in CODE_WARNING
    factories = [dialog.factory.itemText(i) for i in range(dialog.factory.count())]
    assert factories == ["P4MaxPool", "P4Net", "build"]
    assert dialog.factory.currentText() == "build"  # offered first
    choose(qtbot, dialog.factory, "P4Net")
    file_dialog.append(str(weights))
    click(qtbot, dialog.browse)
    assert dialog.weights.text() == str(weights)
    click(qtbot, dialog.open_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=FRAME_TIMEOUT_MS)
    assert not errors
    frame = wait_frame(qtbot, window)
    entry = window.panels[RIGHT].entry
    assert entry.title == "P4Net" and frame.panels[RIGHT].key == entry.key
    assert list(window.panels[RIGHT].maps.layers) == P4_LAYERS
    # these weights, not a fresh initialisation: the panel's logits are the network's
    x = torch.from_numpy(frame.input)[None, None]
    with torch.no_grad():
        expected = net.eval()(x)[0].numpy()
    np.testing.assert_allclose(frame.panels[RIGHT].logits, expected, rtol=1e-4, atol=1e-4)
    # it is in both selectors, like an opened checkpoint
    assert window.panels[LEFT].selector.findData(entry.key) >= 0
    assert "P4Net" in window.statusBar().currentMessage()


def test_a_factory_that_fails_is_one_line_in_the_dialog_and_nothing_is_lost(
    own_window, qtbot, file_dialog, errors, tmp_path
):
    window = own_window
    source = tmp_path / "mixed.py"
    source.write_text(
        "import torch\n"
        "def broken():\n"
        "    raise RuntimeError('no GPU here')\n"
        "def build():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),\n"
        "                               torch.nn.LazyLinear(10))\n",
        encoding="utf-8",
    )
    keys = window.state.panel_keys
    dialog = open_py(qtbot, window, file_dialog, source)
    choose(qtbot, dialog.factory, "broken")
    qtbot.keyClicks(dialog.name, "kept")
    click(qtbot, dialog.open_button)
    assert dialog.isVisible() and dialog.error.isVisible()
    line = dialog.error.text()
    assert "RuntimeError: no GPU here" in line and "mixed.py:3" in line and "\n" not in line
    assert window.state.panel_keys == keys and dialog.name.text() == "kept"
    choose(qtbot, dialog.factory, "build")
    click(qtbot, dialog.open_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=FRAME_TIMEOUT_MS)
    entry = window.panels[RIGHT].entry
    assert entry.title == "kept"
    # its layers: the conv's planar maps; Flatten's [B, N] is no map: skipped, said so
    assert list(window.panels[RIGHT].maps.layers) == ["0"]
    hint = window.panels[RIGHT].hint.text()
    assert "Not shown: 1: [2, 2704] is not [B, C, H, W]" in hint, hint
    assert wait_frame(qtbot, window).panels[RIGHT].key == entry.key


def test_a_file_that_cannot_run_is_one_line_and_no_dialog(
    own_window, qtbot, file_dialog, errors, tmp_path
):
    window = own_window
    bad = tmp_path / "bad.py"
    bad.write_text("def build(:\n", encoding="utf-8")
    keys = window.state.panel_keys
    file_dialog.append(str(bad))
    key(qtbot, window, "Ctrl+Shift+O")
    assert window.files.user_dialog is None
    assert len(errors) == 1 and errors[0][0] == "Cannot open model"
    assert "bad.py" in errors[0][1] and "SyntaxError" in errors[0][1] and "\n" not in errors[0][1]
    assert window.state.panel_keys == keys


def test_the_filters_view_says_it_cannot_show_a_user_layer(own_window, qtbot, file_dialog, errors):
    window = own_window
    dialog = open_py(qtbot, window, file_dialog, P4_FILE)
    click(qtbot, dialog.open_button)
    wait_frame(qtbot, window)
    view = window.panels[RIGHT].maps
    pos = hover(view, "l2", 1, 2)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    filters = window.analysis.filters
    qtbot.waitUntil(window.analysis.filters_dock.isVisible, timeout=5000)
    assert filters.layer_box.currentText() == "l2"
    text = filters.header.text()
    assert "cannot show this layer's filters" in text and "P4Block" in text
    assert filters.mosaic is None and not errors


def test_view_opens_live_modules_and_blocks_until_the_window_closes(qtbot, user_settings):
    """``gcnn_viewer.view(model, other)``: the window shows both modules; it returns when the
    window is closed (here: Ctrl+Q, once the first frame is on screen), and the modules are
    given back as they were (training mode, gradients on)."""
    build = runpy.run_path(str(P4_FILE))["build"]
    plain = runpy.run_path(str(EXAMPLES / "plain_cnn.py"))["build"]
    left, right = build(), plain().eval()
    left.train()
    seen: dict = {}

    def poll():
        windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        shown = [w for w in windows if w.isVisible()]
        if shown and shown[0].models_ready and shown[0].last_frame is not None:
            window = shown[0]
            seen["titles"] = [p.entry.title for p in window.panels]
            seen["layers"] = list(window.panels[0].maps.layers)
            seen["frame"] = window.last_frame.panels[0].key
            qtbot.keyClick(window, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)
            seen["closed"] = not window.isVisible()
            return
        QtCore.QTimer.singleShot(50, poll)

    def give_up():  # a failure above must not leave view() blocking the test run
        for window in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(window, MainWindow):
                window.close()

    QtCore.QTimer.singleShot(0, poll)
    # a timer we stop: a bare singleShot would still fire a minute later, in another
    # test, and close that test's window
    guard = QtCore.QTimer(singleShot=True, interval=FRAME_TIMEOUT_MS * 6)
    guard.timeout.connect(give_up)
    guard.start()
    try:
        gcnn_viewer.view(left, right, name="mine")  # returns only once the window has closed
    finally:
        guard.stop()
    assert seen["closed"]
    assert seen["titles"] == ["mine", "PlainCNN"]
    assert seen["layers"] == P4_LAYERS and seen["frame"].startswith("user:")
    assert left.training and all(p.requires_grad for p in left.parameters())
    assert not right.training  # (it was in eval mode: kept)


def test_the_input_size_typed_in_the_dialog_reaches_the_model_and_the_panel_says_so(
    own_window, qtbot, file_dialog, errors
):
    window = own_window
    dialog = open_py(qtbot, window, file_dialog, EXAMPLES / "plain_cnn.py")
    dialog.input_size.selectAll()
    qtbot.keyClicks(dialog.input_size, "29")
    click(qtbot, dialog.open_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=FRAME_TIMEOUT_MS)
    assert not errors
    panel = window.panels[RIGHT]
    assert panel.entry.model.input_size == 29
    assert "Input 29×29: the digit drawn into that field the MNIST way." in panel.hint.text()
    assert panel.maps.layers["conv1"].layout.size == 27  # 29 − 2: a 3×3 convolution
    assert wait_frame(qtbot, window).panels[RIGHT].key == panel.entry.key


def test_equivariance_and_accuracy_views_measure_user_models(launched, qtbot):
    """The p4 example beside the plain CNN: View ▸ Equivariance gives float rounding at
    quarter turns for every p4 layer and clearly more for the plain one; Accuracy vs angle
    classifies MNIST-rot digits with both."""
    status, window = launched(
        [
            "--model", f"{P4_FILE}:build", f"{EXAMPLES / 'plain_cnn.py'}:build",
            "--name", "p4", "plain",
        ]
    )  # fmt: skip
    assert status == 0
    wait_models(qtbot, window)
    docks = window.analysis
    with qtbot.waitSignal(docks.equivariance.computed, timeout=FRAME_TIMEOUT_MS * 3) as done:
        trigger(window, "View", "Equivariance")
    result = done.args[0]
    p4, plain = window.state.panel_key(LEFT), window.state.panel_key(RIGHT)
    assert list(result[p4]) == [*P4_LAYERS, "logits"]
    quarter = np.isin(EQUIVARIANCE_ANGLES, [90, 180, 270])
    assert max(err[quarter].max() for err in result[p4].values()) <= EXACT_TOLERANCE
    assert result[plain]["conv2"][quarter].min() > 1e-2
    view = docks.accuracy
    view.data_loader = lambda: synthetic_rot(200)  # (the MNIST-rot cache is not here)
    trigger(window, "View", "Accuracy vs angle")
    with qtbot.waitSignal(view.computed, timeout=FRAME_TIMEOUT_MS * 3) as computed:
        click(qtbot, view.compute_button)
    assert set(computed.args[0]) == {p4, plain}
    status = view.status.text()  # e.g. "error on 200 test digits: p4 88.50%, plain 93.50%"
    assert status.startswith("error on 200 test digits: p4 ") and ", plain " in status


def test_a_py_file_dropped_on_a_panel_asks_for_its_factory_for_that_panel(
    own_window, qtbot, errors
):
    window = own_window
    assert drop_file(window.panels[LEFT], P4_FILE)
    dialog = window.files.user_dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=5000)
    assert dialog.panel.currentIndex() == LEFT
    click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: window.files.user_dialog is None, timeout=5000)
    assert not errors and window.panels[LEFT].entry.arch == "z2cnn"  # nothing changed


def test_the_filters_view_shows_a_user_conv2d_and_says_so_for_other_layers(launched, qtbot):
    """The plain CNN example's conv blocks hold one nn.Conv2d each: a click on a conv2 map
    shows its filter; the p4 example's P4Block layers are not ours: the view says so."""
    status, window = launched(["--model", f"{EXAMPLES / 'plain_cnn.py'}:build", f"{P4_FILE}:build"])
    assert status == 0
    wait_models(qtbot, window)
    filters = window.analysis.filters
    view = window.panels[LEFT].maps
    pos = hover(view, "conv2", 3, 0)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(window.analysis.filters_dock.isVisible, timeout=5000)
    assert (filters.layer_box.currentText(), filters.channel_box.currentText()) == ("conv2", "3")
    assert filters.mosaic is not None and "output channel 3" in filters.header.text()
    view = window.panels[RIGHT].maps
    pos = hover(view, "l3", 0, 1)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: filters.layer_box.currentText() == "l3", timeout=5000)
    assert "cannot show this layer's filters" in filters.header.text()
    assert filters.mosaic is None


def test_a_model_with_five_classes_gets_five_bars_and_a_sweep(
    own_window, qtbot, file_dialog, errors, tmp_path
):
    """K need not be 10: the bars follow the model's logits, and a tracked class it does not
    have (7) falls back to its own top class in the probability-vs-angle plot."""
    window = own_window
    source = tmp_path / "five.py"
    source.write_text(
        "import torch\n"
        "def build():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),\n"
        "        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 5))\n",
        encoding="utf-8",
    )
    dialog = open_py(qtbot, window, file_dialog, source)
    click(qtbot, dialog.open_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=FRAME_TIMEOUT_MS)
    frame = wait_frame(qtbot, window)
    assert not errors and frame.panels[RIGHT].probabilities.shape == (5,)
    assert len(window.panels[RIGHT].bars.rects) == 5 and len(window.panels[LEFT].bars.rects) == 10
    choose(qtbot, window.sweep.class_box, 7)
    assert window.state.tracked_class == 7
    sweep = wait_sweep(qtbot, window)
    top = int(np.argmax(sweep.probabilities[window.state.panel_key(RIGHT)][0]))
    assert window.sweep.classes == [7, top]

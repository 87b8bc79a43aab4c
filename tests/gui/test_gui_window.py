"""The main window: first launch, menus, About, settings, teardown."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from gcnn_viewer.gui.dialogs import HELP_TEXT, about_text  # noqa: E402

from .conftest import click, key, wait_frame, wait_sweep  # noqa: E402

LAYERS = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top"]


def test_first_launch_shows_a_sample_digit_in_every_panel(window, qtbot):
    assert window.state.drawing.source.startswith("sample 7")
    frame = wait_frame(qtbot, window)
    assert window.preview.pixels is not None and window.preview.pixels.max() > 0.5
    assert window.windowTitle() == "gcnn-viewer — Z2CNN vs P4CNN"
    for panel, layer_count in zip(window.panels, (8, 8), strict=True):
        assert list(panel.maps.mosaics) == LAYERS[:layer_count]
        assert panel.prediction.text().startswith("predicts ")
        assert panel.bars.probabilities.sum() > 0.99
    assert frame.panels[1].prediction == 7  # the trained P4CNN reads the sample right
    sweep = wait_sweep(qtbot, window)
    assert set(sweep.probabilities) == set(window.state.panel_keys)
    assert window.sweep.curves[1].getData()[0] is not None


def test_untrained_models_are_labelled_as_such(window):
    left = window.panels[0]
    assert "UNTRAINED" in left.selector.currentText()
    assert "untrained" in left.detail.text()
    assert "UNTRAINED" not in window.panels[1].selector.currentText()


def test_menus_and_shortcuts(window):
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&View", "&Rotate", "&Help"]
    assert window.actions_by_id["undo"].shortcut().toString() == "Ctrl+Z"
    for action in window.actions():  # no key twice on one action: it would be ambiguous
        keys = [k.toString() for k in action.shortcuts()]
        assert len(keys) == len(set(keys)), action.text()
    assert window.actions_by_id["openImage"].shortcut().toString() == "Ctrl+O"
    assert window.actions_by_id["rotatePlus"].shortcut().toString() == "]"
    assert window.actions_by_id["stabilisedView"].isCheckable()


def test_about_cites_the_paper_and_the_mnist_licence():
    text = about_text()
    for needle in ("Cohen", "Welling", "2016", "CC BY-SA 3.0", "LeCun"):
        assert needle in text
    assert "Stabilised view" in HELP_TEXT


def test_geometry_and_options_are_remembered(make_window, settings, qtbot):
    first = make_window()
    first.resize(1010, 690)  # the smallest size the layout is made for is 1024×700
    key(qtbot, first, "S")  # the stabilised view is remembered too
    qtbot.keyClick(first.brush.size, QtCore.Qt.Key.Key_End)  # ... and the brush
    qtbot.waitUntil(lambda: first.size() == QtCore.QSize(1010, 690))
    assert first.state.brush == 0.2
    first.close()
    second = make_window(settings_=settings, resize=False)
    assert second.size() == QtCore.QSize(1010, 690)
    assert second.state.stabilised and second.actions_by_id["stabilisedView"].isChecked()
    # the widgets showing a restored option follow the state's events
    assert second.rotation.stabilised.isChecked() and second.brush.size.value() == 20


def test_closing_leaves_no_thread_running(window, qtbot):
    worker = window.worker
    assert worker.isRunning()
    click(qtbot, window.rotation.plus)  # a request in flight while closing
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Q, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    assert not worker.isRunning() and worker.isFinished()
    window.state.angle = 90  # late events after close are ignored, not crashes
    qtbot.wait(50)


def test_status_bar_tells_exact_and_interpolated_angles(window, qtbot):
    key(qtbot, window, "]")
    assert "exact" in window.angle_status.text()
    window.rotation.spin.setFocus()
    window.rotation.spin.selectAll()
    qtbot.keyClicks(window.rotation.spin, "91")
    assert "interpolated" in window.angle_status.text()
    assert "interpolated" in window.rotation.exact.text()
    wait_frame(qtbot, window)
    assert np.isfinite(window.last_frame.input).all()

"""Drawing, rotating, the stabilised view, hovering, spinning, browsing."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402

import numpy as np  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from .conftest import (  # noqa: E402
    NO_BUTTON,
    choose,
    click,
    displayed,
    drag,
    key,
    mouse,
    slider_drag,
    tiny_mnist_rot,
    trigger,
    wait_frame,
    wait_sweep,
)

P4 = 1  # the right-hand panel shows P4CNN by default
Z2 = 0


def test_a_mouse_drag_draws_and_changes_the_model_input(window, qtbot):
    trigger(window, "Edit", "Clear canvas")
    blank = wait_frame(qtbot, window)
    assert not blank.input.any() and window.state.drawing.is_empty
    canvas = window.canvas
    w, h = canvas.width(), canvas.height()
    points = [
        QtCore.QPoint(int(w * x), int(h * y))
        for x, y in [(0.3, 0.25), (0.7, 0.25), (0.55, 0.5), (0.45, 0.8)]
    ]
    drag(canvas, points)
    assert len(window.state.drawing.strokes) == 1
    assert len(window.state.drawing.strokes[0].points) == 4
    drawn = wait_frame(qtbot, window)
    assert drawn.input.max() > 0.5 and np.array_equal(window.preview.pixels, drawn.input)
    wait_sweep(qtbot, window)  # the sweep is recomputed once the stroke is released
    ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, ctrl)
    assert window.state.drawing.is_empty
    assert not wait_frame(qtbot, window).input.any()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, ctrl | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert len(window.state.drawing.strokes) == 1  # redone


def test_plus_90_keeps_p4cnn_prediction_and_rolls_layer1_columns(window, qtbot):
    before = wait_frame(qtbot, window)
    l1_before = displayed(window, P4, "l1")
    text_before = window.panels[P4].prediction.text()
    qtbot.mouseClick(window.rotation.plus, QtCore.Qt.MouseButton.LeftButton)
    assert window.state.angle == 90.0
    after = wait_frame(qtbot, window)
    assert after.angle == 90.0
    np.testing.assert_array_equal(after.input, np.rot90(before.input))  # exact, no blur
    np.testing.assert_allclose(
        after.panels[P4].probabilities, before.panels[P4].probabilities, atol=1e-5
    )
    # the shown prediction is the one computed before the turn: its digit and confidence
    digit = int(np.argmax(before.panels[P4].probabilities))
    assert str(digit) in text_before and window.panels[P4].prediction.text() == text_before
    l1_after = displayed(window, P4, "l1")
    layout = window.panels[P4].maps.layers["l1"].layout
    for c in range(layout.channels):
        for g in range(4):  # displayed column g at 90° = column g−1 at 0°, turned by 90°
            now = layout.cell_of(l1_after, c, g).astype(int)
            then = np.rot90(layout.cell_of(l1_before, c, (g - 1) % 4)).astype(int)
            assert np.abs(now - then).max() <= 1, (c, g)
    assert not np.array_equal(l1_after, l1_before)


def test_stabilised_view_stands_still_at_0_and_90(window, qtbot):
    trigger(window, "View", "Stabilised view")
    assert window.state.stabilised and window.rotation.stabilised.isChecked()
    wait_frame(qtbot, window)
    layers = list(window.panels[P4].maps.layers)
    at_0 = {name: displayed(window, P4, name) for name in layers}
    z2_at_0 = displayed(window, Z2, "l3")
    trigger(window, "Rotate", "Rotate +90°")
    assert wait_frame(qtbot, window).turns == 1
    for name in layers:
        diff = np.abs(displayed(window, P4, name).astype(int) - at_0[name])
        assert diff.max() <= 1, name  # equal up to a colour-boundary rounding
    assert np.abs(displayed(window, Z2, "l3").astype(int) - z2_at_0).max() > 1


def test_rotation_widgets_stay_in_step(window, qtbot):
    rotation = window.rotation
    slider_drag(rotation.slider, 37)
    assert abs(window.state.angle - 37) <= 1
    assert rotation.spin.value() == round(window.state.angle)
    assert rotation._from_dial(rotation.dial.value()) == round(window.state.angle)
    # drag the dial's knob a quarter of the way round
    centre = QtCore.QPointF(rotation.dial.rect().center())
    r = rotation.dial.width() * 0.35
    drag(rotation.dial, [centre + QtCore.QPointF(0, -r), centre + QtCore.QPointF(-r, 0)])
    angle = round(window.state.angle)
    assert angle not in (0, 37)
    assert rotation._from_dial(rotation.dial.value()) == angle
    assert rotation.slider.value() == angle and rotation.spin.value() == angle
    click(qtbot, rotation.minus)  # ⟲ −90°: back to the previous quarter turn
    assert window.state.angle == 90 * ((angle - 1) // 90)
    key(qtbot, window, "Ctrl+Left")
    assert wait_frame(qtbot, window).angle == (90 * ((angle - 1) // 90) - 90) % 360
    trigger(window, "Rotate", "Rotate −90°")
    key(qtbot, window, "Ctrl+Right")
    trigger(window, "Rotate", "Upright")
    assert window.state.angle == 0


def test_switching_models_rebuilds_the_panel(window, qtbot):
    panel = window.panels[Z2]
    choose(qtbot, panel.selector, "untrained:p4mcnn")
    assert window.state.panel_key(Z2) == "untrained:p4mcnn"
    frame = wait_frame(qtbot, window)
    assert frame.panels[Z2].key == "untrained:p4mcnn"
    l1 = panel.maps.layers["l1"].layout
    assert l1.cols == 8 and "m90°" in l1.column_labels
    assert displayed(window, Z2, "l1").shape == l1.shape
    assert window.windowTitle() == "gcnn-viewer — P4MCNN vs P4CNN"
    assert "m0°" in panel.hint.text()
    choose(qtbot, panel.selector, "untrained:z2cnn")
    assert wait_frame(qtbot, window).panels[Z2].key == "untrained:z2cnn"
    assert panel.maps.layers["l1"].layout.cols == 4
    wait_sweep(qtbot, window)
    choose(qtbot, window.sweep.class_box, 3)  # the sweep follows class 3
    assert window.state.tracked_class == 3
    assert wait_sweep(qtbot, window) is not None and window.sweep.classes == [3, 3]


def test_hovering_a_map_enlarges_it_with_its_coordinates(window, qtbot):
    view = window.panels[P4].maps
    plot = view.layers["l2"]
    top, left = plot.layout.cell_origin(3, 1)
    scene = plot.image.item.mapToScene(QtCore.QPointF(left + 10.5, top + 5.5))
    pos = view.mapFromScene(scene)
    mouse(view.viewport(), QtCore.QEvent.Type.MouseMove, pos, NO_BUTTON, NO_BUTTON)
    text = window.inspector.text.text()
    assert "P4CNN · l2" in text and "channel 3" in text and "orientation 90°" in text
    # the screen shows a 24×24 map in fewer than 24 pixels: land within a map pixel
    row, col = (int(v) for v in re.search(r"pixel \(row (\d+), col (\d+)\)", text).groups())
    assert abs(row - 5) <= 1 and abs(col - 10) <= 1
    value = window.last_frame.panels[P4].layers["l2"].data[3, 1, row, col]
    assert f"= <b>{value:.3g}</b>" in text
    assert plot.outline.isVisible()


def test_spin_turns_the_input_until_stopped(window, qtbot):
    key(qtbot, window, "P")
    assert window.rotation.play.isChecked() and window.rotation.timer.isActive()
    qtbot.waitUntil(lambda: window.state.angle >= 10, timeout=5000)
    click(qtbot, window.rotation.play)
    assert not window.rotation.timer.isActive() and not window.actions_by_id["spin"].isChecked()
    stopped = window.state.angle
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(100, loop.quit)
    loop.exec()
    assert window.state.angle == stopped
    click(qtbot, window.rotation.play)  # the button starts it too, and the menu stops it
    assert window.actions_by_id["spin"].isChecked()
    trigger(window, "Rotate", "Spin")
    assert not window.rotation.timer.isActive()


def test_browsing_test_digits(make_window, qtbot, tmp_path):
    tiny_mnist_rot(tmp_path / "empty-cache")  # the test's data cache holds MNIST-rot
    window = make_window()
    key(qtbot, window, "PgUp")  # wraps to the last digit
    assert window.browser.index.value() == 31
    assert "MNIST-rot test #31" in window.state.drawing.source
    assert "rotated" in window.state.drawing.source
    image = window.browser.browser.image(31)
    np.testing.assert_array_equal(wait_frame(qtbot, window).input, image)
    click(qtbot, window.browser.next)
    assert window.browser.index.value() == 0
    trigger(window, "Rotate", "Next test digit")
    assert window.browser.index.value() == 1
    trigger(window, "Rotate", "Previous test digit")
    window.browser.index.setFocus()
    window.browser.index.selectAll()
    qtbot.keyClicks(window.browser.index, "5")
    key(qtbot, window.browser.index, "Return")
    assert "MNIST-rot test #5" in window.state.drawing.source


def test_browser_explains_how_to_get_the_data_when_missing(window):
    assert not window.browser.prev.isEnabled()
    assert "gcnn-viewer data fetch" in window.browser.info.text()


def test_single_key_shortcuts_work_while_the_canvas_has_focus(window, qtbot):
    click(qtbot, window.canvas)  # focuses the canvas (and leaves no ink)
    key(qtbot, window.canvas, "]")
    assert window.state.angle == 90
    key(qtbot, window.canvas, "S")
    assert window.state.stabilised
    key(qtbot, window.canvas, "[")
    key(qtbot, window.canvas, "[")
    assert window.state.angle == 270
    key(qtbot, window.canvas, "Home")
    assert window.state.angle == 0


def test_a_blank_canvas_claims_no_prediction(window, qtbot):
    key(qtbot, window, "Delete")
    wait_frame(qtbot, window)
    assert all(p.prediction.text() == "no digit drawn" for p in window.panels)
    trigger(window, "Edit", "Undo")
    wait_frame(qtbot, window)
    assert window.panels[1].prediction.text().startswith("predicts 7")

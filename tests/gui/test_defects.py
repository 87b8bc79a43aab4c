"""The defects a new user met (issue 9 §2), each reproduced through real input events."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from gcnn_viewer.viewer.dock_sizes import INPUT_DOCK_WIDTH  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402

from .conftest import (  # noqa: E402
    SEVEN,
    canvas_points,
    click,
    drag,
    key,
    menu_action,
    tiny_mnist_rot,
    trigger,
    wait_frame,
)

P4, Z2 = 1, 0


def settle(qtbot, window, size=None):
    """Resize (optionally) and let the layout and the label fitting run."""
    if size is not None:
        window.resize(*size)
        qtbot.waitUntil(lambda: window.size() == QtCore.QSize(*size), timeout=5000)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(150, loop.quit)  # resize events, then the deferred label fitting
    loop.exec()


def test_a_click_that_focuses_the_canvas_leaves_no_ink(window, qtbot):
    click(qtbot, window.rotation.spin)  # the keyboard focus is elsewhere
    assert not window.canvas.hasFocus()
    click(qtbot, window.brush.clear)
    strokes = len(window.state.drawing.strokes)
    click(qtbot, window.canvas)  # to give it the focus (e.g. for the S and [ ] keys)
    assert window.canvas.hasFocus()
    assert len(window.state.drawing.strokes) == strokes and window.state.drawing.is_empty
    click(qtbot, window.canvas)  # focused: a click is a dot
    assert len(window.state.drawing.strokes) == strokes + 1
    # a drag that starts on an unfocused canvas draws from where it started
    click(qtbot, window.rotation.spin)
    drag(window.canvas, canvas_points(window.canvas, SEVEN))
    assert window.state.drawing.strokes[-1].points[0] == window.canvas.to_canvas(
        canvas_points(window.canvas, SEVEN)[0]
    )
    assert len(window.state.drawing.strokes[-1].points) == len(SEVEN)


def _clipped_buttons(window) -> list[str]:
    """Buttons whose full width is not on screen (cut by the window or their dock)."""
    clipped = []
    for button in window.findChildren(QtWidgets.QAbstractButton):
        if not button.isVisible() or button.width() <= 0:
            continue
        visible = button.visibleRegion().boundingRect()
        # vertical scrolling inside a dock is fine; horizontal clipping is not
        if visible.isEmpty():
            continue
        if visible.width() < button.width():
            clipped.append(button.objectName() or button.text())
    return clipped


def _maps_fit(window) -> bool:
    return all(p.maps.ci.geometry().width() <= p.maps.width() + 0.5 for p in window.panels)


def test_the_window_is_unclipped_at_1024x700_with_and_without_the_train_dock(window, qtbot):
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 700
    settle(qtbot, window, (1024, 700))
    assert _clipped_buttons(window) == []
    assert _maps_fit(window)
    heights = [p.maps.height() for p in window.panels]
    widths = [p.maps.width() for p in window.panels]
    assert min(heights) >= 250 and min(widths) >= 280
    key(qtbot, window, "Ctrl+T")
    settle(qtbot, window)
    assert window.train_dock.isVisible() and not window.train_dock.visibleRegion().isEmpty()
    assert _clipped_buttons(window) == []
    assert _maps_fit(window)
    # the Train panel shares the Input column: the feature maps keep their room
    assert [p.maps.height() for p in window.panels] == heights
    assert [p.maps.width() for p in window.panels] == widths
    for name in ("trainStart", "trainContinue", "trainPause", "trainCancel"):
        button = window.train_panel.findChild(QtWidgets.QPushButton, name)
        assert button.visibleRegion().boundingRect().width() == button.width(), name


def test_enlarging_the_window_gives_the_docks_their_space_back(window, qtbot):
    settle(qtbot, window, (1600, 1000))
    wide = window.input_dock.width()
    settle(qtbot, window, (1024, 700))
    narrow = window.input_dock.width()
    assert narrow < wide
    settle(qtbot, window, (1600, 1000))
    assert abs(window.input_dock.width() - wide) <= 2
    assert window.sweep_dock.height() >= 150


def test_p4cnn_column_headers_show_every_quarter_turn_in_a_small_window(window, qtbot):
    settle(qtbot, window, (1024, 700))
    for layer in ("l1", "l4", "top"):
        labels = window.panels[P4].maps.layers[layer].column_label_texts
        assert [t.replace("°", "") for t in labels] == ["0", "90", "180", "270"], layer
    # the colour bar's numbers never overlap: shown only when they fit beside the bar
    for panel in window.panels:
        for lp in panel.maps.layers.values():
            assert all(t.isVisible() == lp.bar_labels_shown for t in lp.bar_labels)
            assert "colour scale" in lp.plot.toolTip()


def test_top_layers_are_labelled_by_class(window, qtbot):
    settle(qtbot, window)
    for panel in window.panels:
        top = panel.maps.layers["top"]
        assert top.plot.getAxis("left").isVisible()
        ticks = [label for _, label in top.plot.getAxis("left")._tickLevels[0]]
        assert ticks == [str(c) for c in range(10)]
    z2 = window.panels[Z2].maps.layers["top"]
    assert (z2.layout.cell_index >= 0).all() and z2.layout.cols == 1  # no grey cells
    assert "orientation" not in z2.plot.toolTip() and "logits" in z2.plot.toolTip()
    assert "orientation" in window.panels[P4].maps.layers["top"].plot.toolTip()


def test_p4cnn_top_outlines_the_orientation_that_wins_each_class(window, qtbot):
    frame = wait_frame(qtbot, window)
    view = window.panels[P4].maps
    top = view.layers["top"]
    data = frame.panels[P4].layers["top"].data  # [10, 4, 1, 1]
    best = data[:, :, 0, 0].argmax(1)
    np.testing.assert_array_equal(view.winners, best)
    for c, rect in enumerate(top.winners):
        row, col = top.layout.cell_origin(c, int(best[c]))
        assert rect.isVisible() and (rect.rect().top(), rect.rect().left()) == (row, col)
    # the max over orientations is the logit the model reports
    np.testing.assert_allclose(data[:, :, 0, 0].max(1), frame.panels[P4].logits, atol=1e-5)


def test_the_browser_notices_data_fetched_in_the_train_panel(
    make_window, weights_dir, qtbot, monkeypatch, tmp_path
):
    import gcnn_viewer.data as data

    window = make_window(ModelCatalog(weights_dir))
    assert not window.browser.next.isEnabled()
    version = window.state.drawing.version
    key(qtbot, window, "PgDown")  # no data: says why instead of doing nothing
    assert "gcnn-viewer data fetch" in window.statusBar().currentMessage()
    assert window.state.drawing.version == version
    cache = tmp_path / "empty-cache"  # the conftest's data cache for this test

    def fetch(progress=None, **kwargs):
        progress("rotating digits 0/160")
        tiny_mnist_rot(cache)

    monkeypatch.setattr(data, "load_mnist_rot", fetch)
    key(qtbot, window, "Ctrl+T")
    click(qtbot, window.train_panel.fetch_button)
    qtbot.waitUntil(lambda: "ready" in window.train_panel.status.text(), timeout=10_000)
    assert window.browser.next.isEnabled()
    key(qtbot, window, "PgDown")  # the first step loads the digit the index shows: #0
    assert "MNIST-rot test #0" in window.state.drawing.source
    key(qtbot, window, "PgDown")
    assert "MNIST-rot test #1" in window.state.drawing.source
    click(qtbot, window.browser.prev)
    assert "MNIST-rot test #0" in window.state.drawing.source


def test_an_empty_canvas_shows_no_probability_bars(window, qtbot):
    click(qtbot, window.brush.clear)
    wait_frame(qtbot, window)
    for panel in window.panels:
        assert all(rect.rect().height() == 0 for rect in panel.bars.rects)
        assert panel.bars.empty_text.isVisible()
        assert panel.prediction.text() == "no digit drawn"
        assert "No ink" in panel.bars.toolTip()
    key(qtbot, window, "Ctrl+Z")
    wait_frame(qtbot, window)
    assert max(r.rect().height() for r in window.panels[P4].bars.rects) > 0.5
    assert not window.panels[P4].bars.empty_text.isVisible()


def test_the_probability_tooltip_has_full_precision_and_logits(window, qtbot):
    frame = wait_frame(qtbot, window)
    tip = window.panels[P4].bars.toolTip()
    for c in range(10):
        p = float(frame.panels[P4].probabilities[c])
        logit = float(frame.panels[P4].logits[c])
        assert f"{c} · {p:.9g} · {logit:+.9g}" in tip
    assert window.panels[P4].prediction.toolTip() == tip


def test_the_stabilised_view_says_which_quarter_turn_it_undoes(window, qtbot):
    click(qtbot, window.rotation.stabilised)
    assert window.state.stabilised
    assert window.rotation.stabilised_note.text() == "Stabilised: undoing 0° exactly"
    window.rotation.spin.setFocus()
    window.rotation.spin.selectAll()
    qtbot.keyClicks(window.rotation.spin, "100")
    assert window.state.angle == 100
    note = window.rotation.stabilised_note.text()
    assert "undoing 90°" in note and "+10° remain" in note
    assert wait_frame(qtbot, window).turns == 1
    click(qtbot, window.rotation.stabilised)
    assert window.rotation.stabilised_note.text() == ""


def test_undo_says_it_undoes_the_load_of_an_image(window, qtbot, tmp_path, file_dialog):
    paper = np.zeros((40, 40), np.uint8)
    paper[8:32, 18:22] = 255
    path = tmp_path / "one.png"
    Image.fromarray(paper).save(path)
    file_dialog.append(str(path))
    key(qtbot, window, "Ctrl+O")
    undo = menu_action(window, "Edit", "Undo")
    assert undo.text().replace("&", "") == "Undo load of one.png"
    assert "one.png" in window.brush.undo.toolTip() and window.brush.undo.text() == "Undo"
    drag(window.canvas, canvas_points(window.canvas, SEVEN))
    assert menu_action(window, "Edit", "Undo").text().replace("&", "") == "Undo stroke"
    trigger(window, "Edit", "Undo")
    trigger(window, "Edit", "Undo")
    assert window.state.drawing.source.startswith("sample 7")
    assert menu_action(window, "Edit", "Redo").text().replace("&", "") == "Redo load of one.png"


def test_a_failed_frame_marks_the_panels_stale_until_one_succeeds(window, qtbot, monkeypatch):
    import gcnn_viewer.viewer.inference as inference

    wait_frame(qtbot, window)
    real = inference.rotate_input

    def broken(digit, angle, **options):
        if angle == 90:
            raise RuntimeError("non-finite pixels in the input\nmore")
        return real(digit, angle, **options)

    monkeypatch.setattr(inference, "rotate_input", broken)
    click(qtbot, window.rotation.plus)
    qtbot.waitUntil(lambda: all(p.stale for p in window.panels), timeout=10_000)
    for panel in window.panels:
        assert panel.stale_label.isVisible() and "Stale" in panel.stale_label.text()
        assert "non-finite pixels" in panel.stale_label.text()
        assert panel.prediction.text() == "no result"
        assert all(lp.image.item.opacity() < 1 for lp in panel.maps.layers.values())
    click(qtbot, window.rotation.plus)  # 180°: computes again
    frame = wait_frame(qtbot, window)
    assert frame.angle == 180
    assert not any(p.stale for p in window.panels)
    assert all(lp.image.item.opacity() == 1 for lp in window.panels[P4].maps.layers.values())


def test_a_first_launch_gives_the_maps_the_room(make_window, qtbot):
    """No saved layout: once shown, the docks get their preferred sizes (Qt's own first
    layout gave the sweep half the window's height and crushed the maps)."""
    window = make_window(resize=False)
    qtbot.waitUntil(lambda: window.docks.laid_out, timeout=5000)
    settle(qtbot, window)
    assert window.sweep_dock.height() <= 200
    assert abs(window.input_dock.width() - INPUT_DOCK_WIDTH) <= 4
    assert window.panels[P4].maps.height() > 2 * window.sweep_dock.height()

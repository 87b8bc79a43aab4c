"""A window that reads on a 1024×768 projector (issue 18 §2) and the defects of §3 in the
model panels, the rotation controls, the MNIST-rot browser and the keyboard: each driven
through real events (double clicks, keys, clicks, typing) and measured on the real widget
geometry."""

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.gui.analysis_docks import is_visible_tab  # noqa: E402
from gcnn_viewer.viewer.dock_sizes import FIT_SETTLE_S, SWEEP_DOCK_MIN  # noqa: E402

from .conftest import (  # noqa: E402
    LEFT,
    NO_BUTTON,
    choose,
    click,
    hover,
    key,
    menu_action,
    mouse,
    tiny_mnist_rot,
    trigger,
    wait_frame,
    wait_sweep,
)
from .test_defects import settle  # noqa: E402

Z2, P4 = 0, 1
PROJECTOR = (1024, 768)
LARGE = (1600, 1000)


def map_position(view, layer: str, channel: int = 0, orientation: int = 0):
    """The viewport position of the middle of one map, as drawn now."""
    return hover(view, layer, channel, orientation)


def double_click(qtbot, widget, pos) -> None:
    """Press, release, double-click press, release: what a mouse sends for a double click."""
    kinds = QtCore.QEvent.Type
    for kind in (kinds.MouseButtonPress, kinds.MouseButtonRelease, kinds.MouseButtonDblClick):
        held = NO_BUTTON if kind == kinds.MouseButtonRelease else LEFT
        mouse(widget, kind, pos, LEFT, held)
    mouse(widget, kinds.MouseButtonRelease, pos, LEFT, NO_BUTTON)


def arch_key(window, arch: str) -> str:
    return next(e.key for e in window.state.catalog if e.arch == arch)


def inside_view(view, plot) -> bool:
    """The whole mosaic lies inside the view's viewport (nothing clipped)."""
    item = plot.image.item
    shown = view.mapFromScene(item.mapToScene(item.boundingRect())).boundingRect()
    return view.viewport().rect().adjusted(-1, -1, 1, 1).contains(shown)


def assert_readable(window, layer: str) -> None:
    for panel in window.panels:
        view = panel.maps
        plot = view.focus_plot
        assert view.focus == layer and plot is not None, panel.index
        scale = plot.screen_px_per_map_px()
        assert scale >= 2.0, f"{panel.entry.title} {layer}: {scale:.2f} px per map pixel"
        assert plot.header_fits(), f"{panel.entry.title} {layer}: {plot.column_label_texts}"
        assert inside_view(view, plot), f"{panel.entry.title} {layer} is clipped"
        assert plot.layout.channels == view.layers[layer].layout.channels  # every map


def test_focus_mode_at_1024x768_draws_every_map_at_two_pixels_or_more(window, qtbot):
    settle(qtbot, window, PROJECTOR)
    view = window.panels[P4].maps
    double_click(qtbot, view.viewport(), map_position(view, "l1", 2, 1))
    qtbot.waitUntil(lambda: view.focus == "l1")
    assert window.actions_by_id["focusLayer"].isChecked() and window.maps_area.bar.isVisible()
    settle(qtbot, window)
    assert_readable(window, "l1")
    assert not window.analysis.filters_dock.isVisible()  # the double click is no click
    # the keys step through every layer, each as readable
    names = list(view.layers)
    for name in names[1:]:
        key(qtbot, window, ".")
        qtbot.waitUntil(lambda n=name: view.focus == n)
        settle(qtbot, window)
        assert_readable(window, name)
    key(qtbot, window, ",")
    qtbot.waitUntil(lambda: view.focus == names[-2])
    # the overview is one key away, and comes back with every layer and the sweep
    key(qtbot, window, "F")
    qtbot.waitUntil(lambda: view.focus is None)
    settle(qtbot, window)
    assert all(lp.plot.scene() is not None for lp in view.layers.values())
    assert window.sweep_dock.isVisible() and not window.maps_area.bar.isVisible()
    assert not window.actions_by_id["focusLayer"].isChecked()
    key(qtbot, window, "F")  # and back to the layer last focused
    qtbot.waitUntil(lambda: view.focus == names[-2])


def test_focus_mode_shows_a_range_of_channels_and_hovers_them(window, qtbot):
    settle(qtbot, window, PROJECTOR)
    trigger(window, "View", "Focus on one layer")
    view = window.panels[P4].maps
    qtbot.waitUntil(lambda: view.focus == "l1")
    settle(qtbot, window)
    full = view.focus_plot.screen_px_per_map_px()
    bar = window.maps_area.bar
    for box, value in ((bar.first, "3"), (bar.last, "5")):
        click(qtbot, box)
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), value)
        qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.focus_plot.layout.channel_ids == (3, 4, 5))
    settle(qtbot, window)
    assert window.panels[Z2].maps.focus_plot.layout.channel_ids == (3, 4, 5)
    plot = view.focus_plot
    assert [label for _, label in plot.plot.getAxis("left")._tickLevels[0]] == ["3", "4", "5"]
    assert plot.screen_px_per_map_px() > full  # fewer channels: larger maps
    wait_frame(qtbot, window)
    # the mosaic shows channels 3–5 of the layer's data
    data = window.last_frame.panels[P4].layers["l1"].data
    shown = plot.layout.cell_of(plot.image.mosaic, 4, 2)
    assert (shown == plot.scale.to_index(data[4, 2])).all()
    # hovering a map names its channel in the layer, not its row on screen
    top, left = plot.layout.cell_origin(4, 2)
    centre = QtCore.QPointF(left + plot.layout.cell / 2, top + plot.layout.cell / 2)
    pos = view.mapFromScene(plot.image.item.mapToScene(centre))
    mouse(view.viewport(), QtCore.QEvent.Type.MouseMove, pos, NO_BUTTON, NO_BUTTON)
    assert plot.outline.isVisible()
    assert "channel 4" in window.inspector.text.text()
    # another layer: all its channels again
    click(qtbot, bar.next)
    qtbot.waitUntil(lambda: view.focus == "l2")
    assert view.focus_plot.layout.channel_ids is None
    click(qtbot, bar.previous)
    qtbot.waitUntil(lambda: view.focus == "l1")
    click(qtbot, bar.overview)
    qtbot.waitUntil(lambda: view.focus is None and not bar.isVisible())


def test_an_analysis_tab_takes_the_maps_place_in_a_short_window(window, qtbot):
    settle(qtbot, window, PROJECTOR)
    heights = [p.maps.height() for p in window.panels]
    trigger(window, "View", "Accuracy vs angle")
    dock = window.analysis.accuracy_dock
    qtbot.waitUntil(lambda: window.maps_area.swapped)
    settle(qtbot, window)
    assert dock.height() >= 0.75 * window.height()
    assert window.maps_area.swapped_note.isVisible()
    key(qtbot, window, "M")  # the maps come back, as large as before
    qtbot.waitUntil(lambda: not window.maps_area.swapped)
    settle(qtbot, window)
    assert all(abs(p.maps.height() - h) <= 2 for p, h in zip(window.panels, heights, strict=True))
    # the View entry of a tab open behind the sweep brings it forward (it does not close it)
    trigger(window, "View", "Accuracy vs angle")
    qtbot.waitUntil(lambda: window.maps_area.swapped and is_visible_tab(dock))
    trigger(window, "View", "Accuracy vs angle")  # in front: the entry closes it
    qtbot.waitUntil(lambda: dock.isHidden() and not window.maps_area.swapped)
    # the line that stands in for the maps brings them back too
    trigger(window, "View", "Filters")
    qtbot.waitUntil(lambda: window.maps_area.swapped)
    click(qtbot, window.maps_area.swapped_note)
    qtbot.waitUntil(lambda: not window.maps_area.swapped)
    assert window.panels[P4].maps.isVisible()
    # in a large window the tab shares the height and the maps keep a good part of it
    settle(qtbot, window, LARGE)
    trigger(window, "View", "Equivariance")
    settle(qtbot, window)
    assert not window.maps_area.swapped
    assert min(p.maps.height() for p in window.panels) >= 330


def _drag_separator_above(qtbot, window, dock, dy: int) -> None:
    """Drag the separator above ``dock`` by ``dy`` pixels with the mouse."""
    top = dock.mapTo(window, QtCore.QPoint(dock.width() // 2, 0))
    start = QtCore.QPoint(top.x(), top.y() - 3)
    qtbot.mousePress(window, LEFT, pos=start)
    for step in range(1, 6):
        point = QtCore.QPointF(start.x(), start.y() + dy * step / 5)
        event = QtGui.QMouseEvent(
            QtCore.QEvent.Type.MouseMove,
            point,
            QtCore.QPointF(window.mapToGlobal(point.toPoint())),
            QtCore.Qt.MouseButton.NoButton,
            LEFT,
            QtCore.Qt.KeyboardModifier.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(window, event)
        QtWidgets.QApplication.processEvents()  # the layout follows each move
    qtbot.mouseRelease(window, LEFT, pos=QtCore.QPoint(start.x(), start.y() + dy))


def test_a_restored_layout_gives_the_sweep_room_for_its_legend(make_window, settings, qtbot):
    first = make_window(resize=False)
    settle(qtbot, first, PROJECTOR)
    sizes = first.docks.sizes  # a drag counts as the user's once the fitted layout settled
    qtbot.waitUntil(lambda: time.monotonic() - sizes.fitted_at > FIT_SETTLE_S, timeout=3000)
    _drag_separator_above(qtbot, first, first.sweep_dock, first.sweep_dock.height() - 60)
    qtbot.waitUntil(lambda: first.sweep_dock.height() < SWEEP_DOCK_MIN)
    first.close()
    second = make_window(settings_=settings, resize=False)
    settle(qtbot, second)
    assert second.size() == QtCore.QSize(*PROJECTOR)
    qtbot.waitUntil(lambda: second.sweep_dock.height() >= SWEEP_DOCK_MIN)
    legend = second.sweep.legend
    plot = second.sweep.plot
    box = plot.mapFromScene(legend.mapToScene(legend.boundingRect())).boundingRect()
    assert plot.viewport().rect().contains(box)


def test_at_1600x1000_the_maps_get_their_room(window, qtbot):
    settle(qtbot, window, LARGE)
    p4 = window.panels[P4].maps.layers["l1"]
    assert p4.screen_px_per_map_px() >= 1.0  # a 26×26 map drawn on 26 or more pixels
    view = window.panels[Z2].maps
    assert inside_view(view, view.layers["top"])  # row 9 whole
    for panel in window.panels:
        for name, lp in panel.maps.layers.items():
            assert inside_view(panel.maps, lp), f"{panel.entry.title} {name}"


def test_p4mcnn_keeps_every_orientation_header_at_1600x1000(window, qtbot):
    settle(qtbot, window, LARGE)
    choose(qtbot, window.panels[Z2].selector, arch_key(window, "p4mcnn"))
    wait_frame(qtbot, window)
    settle(qtbot, window)
    for name, lp in window.panels[Z2].maps.layers.items():
        assert lp.column_label_texts == [t.replace("°", "") for t in lp.layout.column_labels] or (
            lp.column_label_texts == list(lp.layout.column_labels)
        ), (name, lp.column_label_texts)
        assert lp.header_fits(), (name, lp.column_label_texts)


def test_the_input_column_fits_at_1024x768(window, qtbot):
    settle(qtbot, window, PROJECTOR)
    scroll = window.input_dock.widget()
    assert scroll.verticalScrollBar().value() == 0
    rotation, browser = window.rotation, window.browser
    for widget in (
        window.canvas,
        rotation.dial,
        rotation.spin,
        rotation.play,
        rotation.stabilised,
        browser.prev,
        browser.index,
        browser.next,
    ):
        shown = widget.visibleRegion().boundingRect()
        assert shown == widget.rect(), f"{widget.objectName()} is below the fold"
    assert window.canvas.height() >= window.canvas.minimumHeight()
    # no tab bar of a hidden dock ("Input | Train") lies over the Input column
    train = window.train_dock.windowTitle()
    for bar in window.findChildren(QtWidgets.QTabBar):
        if bar.isVisible() and bar.geometry().intersects(window.input_dock.geometry()):
            assert train not in [bar.tabText(i) for i in range(bar.count())]


def test_the_model_selectors_read_whole_at_1024x768(window, qtbot):
    settle(qtbot, window, PROJECTOR)
    for panel in window.panels:
        shown = panel.selector.shown_text()
        assert "…" not in shown and shown.startswith(panel.entry.title), shown
    assert window.panels[Z2].selector.shown_text() == "Z2CNN, untrained"  # a stand-in
    # the open list still tells the whole story
    assert "—" in window.panels[P4].selector.currentText()


def test_the_rotation_pooling_caption_claims_no_orientation_columns(window, qtbot):
    choose(qtbot, window.panels[Z2].selector, arch_key(window, "p4cnn_rotpool"))
    wait_frame(qtbot, window)
    hint = window.panels[Z2].hint.text()
    assert "Columns: the same filter turned" not in hint
    assert "largest" in hint and "planar" in hint and "no orientation columns" in hint
    assert "Columns: the same filter turned" in window.panels[P4].hint.text()


def test_after_clear_the_sweep_draws_no_curves(window, qtbot):
    wait_sweep(qtbot, window)
    assert all(len(c.getData()[0]) > 0 for c in window.sweep.curves)
    click(qtbot, window.brush.clear)
    wait_sweep(qtbot, window)
    wait_frame(qtbot, window)
    for curve, dot in zip(window.sweep.curves, window.sweep.markers, strict=True):
        x, _ = curve.getData()
        assert x is None or len(x) == 0
        assert not dot.isVisible()
    assert window.sweep.empty_text.isVisible() and not window.sweep.legend.isVisible()
    key(qtbot, window, "Ctrl+Z")  # the digit back: its curves back
    wait_sweep(qtbot, window)
    assert all(len(c.getData()[0]) > 0 for c in window.sweep.curves)
    assert not window.sweep.empty_text.isVisible() and window.sweep.legend.isVisible()


def type_angle(qtbot, window, text: str) -> None:
    spin = window.rotation.spin
    click(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), QtCore.Qt.Key.Key_Return)


def test_the_angle_box_takes_negative_and_large_angles(window, qtbot):
    type_angle(qtbot, window, "-30")
    assert window.state.angle == 330.0 and window.rotation.spin.value() == 330
    type_angle(qtbot, window, "400")
    assert window.state.angle == 40.0 and window.rotation.spin.value() == 40
    type_angle(qtbot, window, "720")
    assert window.state.angle == 0.0 and window.rotation.spin.value() == 0
    # the arrow keys wrap around
    qtbot.keyClick(window.rotation.spin, QtCore.Qt.Key.Key_Down)
    assert window.state.angle == 359.0 and window.rotation.spin.value() == 359
    qtbot.keyClick(window.rotation.spin, QtCore.Qt.Key.Key_Up)
    assert window.state.angle == 0.0


def test_the_browser_starts_at_digit_0_and_has_a_file_menu_entry(
    make_window, tmp_path, monkeypatch, qtbot
):
    cache = tmp_path / "cache"
    tiny_mnist_rot(cache)
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(cache))
    window = make_window()
    settle(qtbot, window, PROJECTOR)
    trigger(window, "File", "MNIST-rot test digits")
    browser = window.browser
    qtbot.waitUntil(lambda: browser.index.hasFocus())
    assert not browser.visibleRegion().isEmpty()
    click(qtbot, browser.next)  # ▶ from index 0: digit #0, not #1
    assert browser.index.value() == 0 and "#0:" in window.source_label.text()
    click(qtbot, browser.next)
    assert browser.index.value() == 1 and "#1:" in window.source_label.text()
    # the caption under the model input never overlaps the thumbnail
    settle(qtbot, window)
    label, preview = window.source_label, window.preview
    label_box = QtCore.QRect(label.mapTo(window, QtCore.QPoint(0, 0)), label.size())
    preview_box = QtCore.QRect(preview.mapTo(window, QtCore.QPoint(0, 0)), preview.size())
    assert not label_box.intersects(preview_box)
    assert label.height() >= label.heightForWidth(label.width())


def test_the_file_menu_entry_says_why_there_are_no_test_digits(window, qtbot):
    trigger(window, "File", "MNIST-rot test digits")
    assert "No MNIST-rot test digits" in window.statusBar().currentMessage()


def test_every_tab_stop_shows_the_keyboard_focus(window, qtbot):
    window.activateWindow()
    window.canvas.setFocus(QtCore.Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.canvas.hasFocus)
    seen, invisible = [], []
    park = window.statusBar()
    park.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)  # a place to take the focus to
    for _ in range(100):
        widget = QtWidgets.QApplication.focusWidget()
        if widget is None or widget in seen:
            break
        seen.append(widget)
        focused = widget.grab().toImage()
        park.setFocus()
        qtbot.waitUntil(lambda w=widget: not w.hasFocus())
        unfocused = widget.grab().toImage()
        widget.setFocus(QtCore.Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(widget.hasFocus)
        if focused == unfocused:
            invisible.append(f"{type(widget).__name__} {widget.objectName()}")
        qtbot.keyClick(widget, QtCore.Qt.Key.Key_Tab)
    assert len(seen) > 20
    assert invisible == []


def test_help_lists_every_keyboard_shortcut(window, qtbot):
    trigger(window, "Help", "Keyboard shortcuts")
    dialog = window.findChild(QtWidgets.QDialog, "shortcutsDialog")
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.findChild(QtWidgets.QTableWidget, "shortcutsTable")
    listed = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    keyed = [a for a in window.actions() if a.shortcuts()]
    assert len(keyed) >= 20
    for action in keyed:
        text = str(action.property("specText")).replace("&", "").rstrip("…")
        keys = ", ".join(
            k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
        )
        assert (text, keys) in listed, text
    assert ("Focus on one layer", "F") in listed
    undo = [keys for text, keys in listed if text == "Undo stroke"]  # not "Undo load of …"
    assert undo and "Ctrl+Z" in undo[0]
    table_width = sum(table.columnWidth(c) for c in range(3))
    assert table.viewport().width() >= table_width - 1  # every key in view
    assert menu_action(window, "Help", "Keyboard shortcuts").shortcuts()

"""The Group view tab (GrouPy's plot_p4 figure, live), driven as a user drives it: a right
click on a layer and its menu entry, View ▸ Group view, the +90° key and button, the tab's
own combo boxes and its Export… button."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from gcnn_viewer.group.groups import P4

from .conftest import click, key, trigger, wait_frame
from .test_export_gui import (
    click_menu_entry,
    export_and_wait,
    open_dialog,
    right_click_menu,
    type_into,
)


def pixels(view, g: int) -> np.ndarray:
    """The picture drawn in element g's place on the circle, as RGB numbers."""
    image = view.image_at(g).convertToFormat(view.image_at(g).Format.Format_RGB32)
    w, h = image.width(), image.height()
    return np.frombuffer(image.constBits(), np.uint32, w * h).reshape(h, w).copy()


def pictures(window) -> dict[int, np.ndarray]:
    view = window.analysis.group_view.view
    return {g: pixels(view, g) for g in view.items}


def shown_at(window, angle: float) -> bool:
    group = window.analysis.group_view
    return group.frame is not None and group.frame.angle == angle and group.planes is not None


def open_from_layer_menu(qtbot, window, layer: str, channel: int, orientation: int = 0):
    view = window.panels[1].maps
    lp = view.layers[layer]
    top, left = lp.layout.cell_origin(channel, orientation)
    cell = lp.layout.cell
    scene = lp.image.item.mapToScene(left + cell / 2, top + cell / 2)
    menu = right_click_menu(qtbot, view, view.mapFromScene(scene))
    click_menu_entry(qtbot, menu, "Group view of this channel")


def test_right_click_opens_the_channel_and_a_quarter_turn_rolls_the_planes(window, qtbot):
    dock = window.analysis.group_dock
    assert not dock.isVisible()
    open_from_layer_menu(qtbot, window, "l3", channel=2, orientation=1)
    qtbot.waitUntil(lambda: dock.isVisible() and shown_at(window, 0.0))
    group = window.analysis.group_view
    assert group.chosen == (1, "l3", 2)  # the right panel's P4CNN, the channel clicked
    assert group.model.currentText().startswith("P4CNN")
    before = pictures(window)
    assert len(before) == 4 and "upright input" in group.status.text()

    window.activateWindow()  # (the offscreen platform leaves it inactive after the menu)
    qtbot.waitUntil(window.isActiveWindow)
    key(qtbot, window, "]")  # Rotate +90°
    assert wait_frame(qtbot, window).angle == 90.0
    qtbot.waitUntil(lambda: shown_at(window, 90.0))
    after = pictures(window)
    # every plane turned by 90° and moved one step round the circle: g -> r·g
    for g in P4.elements:
        moved = after[P4.compose(1, g)]
        assert moved.shape == before[g].shape
        same = np.mean(moved == np.rot90(before[g]))
        assert same > 0.99, (g, same)  # (a colour may flip on float rounding)
        assert not np.array_equal(after[g], np.rot90(before[g]))  # it did move
    assert "moved 1 step" in group.status.text()

    click(qtbot, window.rotation.plus)  # the +90° button: one more step
    assert wait_frame(qtbot, window).angle == 180.0
    qtbot.waitUntil(lambda: shown_at(window, 180.0))
    twice = pictures(window)
    for g in P4.elements:
        assert np.mean(twice[P4.compose(2, g)] == np.rot90(before[g], 2)) > 0.99


def test_view_menu_opens_it_and_its_export_writes_the_figure(window, qtbot, tmp_path):
    trigger(window, "View", "Group view")
    dock = window.analysis.group_dock
    qtbot.waitUntil(lambda: dock.isVisible() and shown_at(window, 0.0))
    group = window.analysis.group_view
    # the left panel's Z2CNN is planar: not offered; P4CNN is chosen
    assert not group.model.model().item(0).isEnabled()
    assert group.chosen[0] == 1
    group.layer.setFocus()
    index = group.layer.findText("l2")
    assert index >= 0
    # the layer and channel through the keyboard, as a user picks them
    while group.layer.currentIndex() != index:
        key(qtbot, group.layer, "Down" if group.layer.currentIndex() < index else "Up")
    group.channel.setFocus()
    type_into(qtbot, group.channel, "3")
    qtbot.waitUntil(lambda: group.chosen == (1, "l2", 3))
    click(qtbot, group.export_button)
    dialog = open_dialog(qtbot, window)
    assert dialog.kind.currentData() == "group-view"
    assert dialog.channels.text() == "3"
    assert [n for n, b in dialog.layer_checks.items() if b.isChecked()] == ["l2"]
    out = tmp_path / "group.png"
    type_into(qtbot, dialog.path, str(out))
    type_into(qtbot, dialog.dpi, "40")
    export_and_wait(qtbot, dialog)
    with Image.open(out) as im:
        record = json.loads(im.text["gcnn-viewer"])
    assert record["kind"] == "group view" and record["layer"] == "l2"
    assert record["channel"] == 3 and record["angles"] == [0.0, 90.0]

"""File ▸ Export… and the two context menus, driven as a user drives them: Ctrl+E and the
File menu, clicks on the dialog's own buttons and check boxes, typing, a right click on a
layer's mosaic and on the sweep plot and a click on the menu that shows. Exports are small
(one layer, a few frames, low DPI) so that the suite stays fast."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets

from gcnn_viewer.export import ExportError, render

from .conftest import LEFT, choose, click, key, trigger, wait_frame

RIGHT = QtCore.Qt.MouseButton.RightButton
EXPORT_TIMEOUT_MS = 30_000


def type_into(qtbot, widget: QtWidgets.QWidget, text: str) -> None:
    """Select what the field holds and type ``text`` over it (keys, as a user types)."""
    widget.setFocus()
    qtbot.keyClick(widget, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def only_layers(qtbot, dialog, keep: set[str]) -> None:
    """Untick every layer but ``keep`` with clicks on the check boxes."""
    for name, box in dialog.layer_checks.items():
        if box.isChecked() != (name in keep):
            click(qtbot, box)
    assert {n for n, b in dialog.layer_checks.items() if b.isChecked()} == keep


def open_dialog(qtbot, window):
    dialog = window.exporter.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    return dialog


def export_and_wait(qtbot, dialog) -> None:
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=EXPORT_TIMEOUT_MS)


def right_click_menu(qtbot, view: QtWidgets.QAbstractScrollArea, pos: QtCore.QPoint):
    """A right click at ``pos`` in ``view``'s viewport; returns the context menu it shows."""
    qtbot.mouseClick(view.viewport(), RIGHT, pos=pos)
    owner = view if hasattr(view, "context_menu") else view.parent()
    qtbot.waitUntil(lambda: owner.context_menu is not None and owner.context_menu.isVisible())
    return owner.context_menu


def click_menu_entry(qtbot, menu: QtWidgets.QMenu, text: str) -> None:
    (action,) = [a for a in menu.actions() if a.text().startswith(text)]
    qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())
    # Let a double-click interval pass: the next click this soon after would be taken for
    # the second half of a double click (no user clicks that fast).
    start = time.monotonic()
    interval = QtWidgets.QApplication.doubleClickInterval() / 1000 + 0.05
    qtbot.waitUntil(lambda: time.monotonic() - start > interval)


def preview_settled(dialog) -> bool:
    """No preview waiting, running or on its way back to the dialog."""
    return (
        not dialog.preview_timer.isActive()
        and not dialog.exporter.runner.busy("preview")
        and dialog.preview_note.text() != "updating…"
    )


@pytest.fixture
def held_export(monkeypatch):
    """A slow export: figures exported from the dialog wait (off the GUI thread) until the
    test sets ``release``; then they fail with ``error`` when one is set, else export."""
    held = SimpleNamespace(started=threading.Event(), release=threading.Event(), error=None)
    real = render.export_figure

    def slow(spec, path, **kwargs):
        held.started.set()
        held.release.wait(EXPORT_TIMEOUT_MS / 1000)
        if held.error is not None:
            raise held.error
        return real(spec, path, **kwargs)

    monkeypatch.setattr(render, "export_figure", slow)
    yield held
    held.release.set()  # before the window's teardown waits for the export thread


def start_held_export(qtbot, window, held, path: Path):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    only_layers(qtbot, dialog, {"top"})
    type_into(qtbot, dialog.dpi, "20")
    type_into(qtbot, dialog.path, str(path))
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(held.started.is_set, timeout=EXPORT_TIMEOUT_MS)
    return dialog


def test_ctrl_e_opens_the_view_and_exports_one_layer_as_png(window, qtbot, file_dialog, tmp_path):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    assert dialog.kind.currentData() == "figure" and dialog.models.currentData() == "both"
    assert all(box.isChecked() for box in dialog.layer_checks.values())  # default: all
    assert dialog.angles.text() == "0"  # the current angle
    # the live preview, made off the GUI thread
    qtbot.waitUntil(lambda: not dialog.preview.pixmap().isNull(), timeout=EXPORT_TIMEOUT_MS)
    only_layers(qtbot, dialog, {"l1"})
    click(qtbot, dialog.quarter_turns)
    type_into(qtbot, dialog.channels, "0-2")
    type_into(qtbot, dialog.dpi, "40")
    out = tmp_path / "maps.png"
    file_dialog.append(str(out))
    click(qtbot, dialog.browse)
    assert file_dialog.opened == ["save: Export to"] and dialog.path.text() == str(out)
    export_and_wait(qtbot, dialog)
    with Image.open(out) as im:
        im.load()
        record = json.loads(im.text["gcnn-viewer"])
    assert record["angles"] == [0.0, 90.0, 180.0, 270.0]
    assert record["layers"] == ["l1"] and record["channels"] == [0, 1, 2]
    assert record["exported_from"] == "gcnn-viewer app"
    assert str(out) in window.statusBar().currentMessage()


def test_file_menu_exports_the_sweep_as_svg_with_text(window, qtbot, tmp_path):
    trigger(window, "File", "Export…")
    dialog = open_dialog(qtbot, window)
    choose(qtbot, dialog.kind, "sweep")
    assert [dialog.format.itemData(i) for i in range(dialog.format.count())] == [
        "png", "svg", "pdf", "csv",
    ]  # fmt: skip
    assert not dialog.layer_box.isEnabled()  # a sweep has no layers to choose
    choose(qtbot, dialog.format, "svg")
    out = tmp_path / "sweep.svg"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    root = ET.parse(out).getroot()
    texts = [t for t in root.iter() if t.tag.endswith("text")]
    assert texts, "SVG text kept as text"


def test_right_click_on_a_layer_exports_it_as_a_gif(window, qtbot, tmp_path):
    view = window.panels[1].maps
    plot = view.layers["l3"].plot
    pos = view.mapFromScene(plot.sceneBoundingRect().center())
    menu = right_click_menu(qtbot, view, pos)
    click_menu_entry(qtbot, menu, "Export this layer")
    dialog = open_dialog(qtbot, window)
    # preset: that model, that layer
    assert dialog.models.currentData() == "right"
    assert [n for n, b in dialog.layer_checks.items() if b.isChecked()] == ["l3"]
    right = window.exporter.view_spec().models[1].name
    assert Path(dialog.path.text()).name.startswith(right + "-l3")
    choose(qtbot, dialog.kind, "animation")
    assert dialog.format.currentData() == "gif" and dialog.frames.isVisible()
    type_into(qtbot, dialog.frames, "4")
    type_into(qtbot, dialog.dpi, "30")
    out = tmp_path / "turn.gif"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    with Image.open(out) as im:
        assert im.n_frames == 4
        record = json.loads(im.info["comment"].decode("ascii"))
    assert record["software"].startswith("gcnn-viewer") and record["kind"] == "animation"
    assert record["layers"] == ["l3"]  # that layer only
    right_model = window.exporter.view_spec().models[1]
    [model] = record["models"]  # the right panel's model only
    assert model["name"] == right and model["sha256"] == right_model.sha256
    assert model["title"] == window.panels[1].entry.title


def test_right_click_on_the_sweep_plot_exports_it_as_csv(window, qtbot, tmp_path):
    plot = window.sweep.plot
    menu = right_click_menu(qtbot, plot, plot.viewport().rect().center())
    click_menu_entry(qtbot, menu, "Export plot")
    dialog = open_dialog(qtbot, window)
    assert dialog.kind.currentData() == "sweep"
    choose(qtbot, dialog.format, "csv")
    out = tmp_path / "sweep.csv"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    rows = out.read_text().splitlines()
    assert rows[0].startswith("angle,") and len(rows) == 1 + 72


def test_cancel_stops_an_animation_and_leaves_no_file(window, qtbot, tmp_path):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    choose(qtbot, dialog.kind, "animation")
    choose(qtbot, dialog.models, "left")
    only_layers(qtbot, dialog, {"l1"})
    type_into(qtbot, dialog.dpi, "30")
    folder = tmp_path / "out"
    folder.mkdir()
    type_into(qtbot, dialog.path, str(folder / "turn.gif"))
    click(qtbot, dialog.export_button)
    assert dialog.cancel_button.text() == "Cancel" and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 1, timeout=EXPORT_TIMEOUT_MS)
    assert dialog.progress.maximum() == 72
    click(qtbot, dialog.cancel_button)
    qtbot.waitUntil(lambda: "cancelled" in dialog.message.text(), timeout=EXPORT_TIMEOUT_MS)
    assert list(folder.iterdir()) == []  # no file, no temporary file
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    click(qtbot, dialog.cancel_button)  # now "Close"
    assert not dialog.isVisible()


def test_a_channel_the_layer_lacks_is_one_line_in_the_dialog(window, qtbot, tmp_path, errors):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    type_into(qtbot, dialog.channels, "99")
    assert dialog.message.text().endswith("not 99") and "\n" not in dialog.message.text()
    type_into(qtbot, dialog.path, str(tmp_path / "x.png"))
    click(qtbot, dialog.export_button)
    assert dialog.isVisible() and dialog.message.text().endswith("not 99")
    assert not (tmp_path / "x.png").exists() and errors == []
    type_into(qtbot, dialog.channels, "0")  # fixed: the line goes
    assert dialog.message.text() == ""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (a folder nobody writes)")
def test_an_unwritable_path_gives_one_line(window, qtbot, errors):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    only_layers(qtbot, dialog, {"top"})
    type_into(qtbot, dialog.dpi, "20")
    type_into(qtbot, dialog.path, "/proc/maps.png")
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=EXPORT_TIMEOUT_MS)
    text = dialog.message.text()
    assert text.startswith("cannot write /proc/maps.png") and "\n" not in text
    assert errors == []  # the red line in the dialog the user is looking at; no message box
    assert window.statusBar().currentMessage() == f"Export failed: {text}"
    assert dialog.isVisible() and not Path("/proc/maps.png").exists()


def test_a_failure_after_the_dialog_closed_is_a_message_box(
    window, qtbot, held_export, tmp_path, errors
):
    dialog = start_held_export(qtbot, window, held_export, tmp_path / "maps.png")
    held_export.error = ExportError("cannot write /x/maps.png: read-only file system")
    key(qtbot, dialog, "Escape")  # the user closes the dialog; the export fails meanwhile
    assert not dialog.isVisible()
    held_export.release.set()
    qtbot.waitUntil(lambda: errors != [], timeout=EXPORT_TIMEOUT_MS)
    assert errors == [("Export failed", "cannot write /x/maps.png: read-only file system")]
    assert "read-only file system" in window.statusBar().currentMessage()


def test_ctrl_e_shows_the_closed_dialog_while_its_export_stops(
    window, qtbot, held_export, tmp_path, errors
):
    out = tmp_path / "maps.png"
    dialog = start_held_export(qtbot, window, held_export, out)
    key(qtbot, dialog, "Escape")  # closes the dialog and asks the export to stop
    assert not dialog.isVisible() and window.exporter.runner.busy("export")
    window.activateWindow()  # a window manager's work (offscreen has none): focus goes back
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is window, timeout=5000)
    key(qtbot, window, "Ctrl+E")  # the export is still stopping: its dialog comes back
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.cancel_button.text() == "Cancel" and not dialog.export_button.isEnabled()
    held_export.release.set()
    qtbot.waitUntil(lambda: "cancelled" in dialog.message.text(), timeout=EXPORT_TIMEOUT_MS)
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    assert not out.exists() and errors == []


def test_the_same_model_in_both_panels_keeps_both_sets_of_data(window, qtbot, tmp_path):
    choose(qtbot, window.panels[0].selector, "shipped:p4cnn")  # the right panel's model
    wait_frame(qtbot, window)
    assert window.panels[0].entry is window.panels[1].entry
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    choose(qtbot, dialog.kind, "data")
    only_layers(qtbot, dialog, {"l1"})
    out = tmp_path / "both.npz"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    with np.load(out) as data:
        keys = set(data)
        meta = json.loads(str(data["meta"]))
        np.testing.assert_array_equal(data["p4cnn/l1@0"], data["p4cnn-2/l1@0"])
    assert {"p4cnn/l1@0", "p4cnn/probs@0", "p4cnn-2/l1@0", "p4cnn-2/probs@0"} <= keys
    assert [m["name"] for m in meta["models"]] == ["p4cnn", "p4cnn-2"]


def test_greyed_out_fields_neither_refuse_nor_break_the_preview(window, qtbot, tmp_path, errors):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    type_into(qtbot, dialog.angles, "x")
    assert "angles" in dialog.message.text()
    choose(qtbot, dialog.kind, "animation")  # turns 0→360°: Angles greyed out, not read
    assert not dialog.angles.isEnabled() and dialog.message.text() == ""
    type_into(qtbot, dialog.channels, "99")
    assert dialog.message.text().endswith("not 99")  # an animation shows channels
    choose(qtbot, dialog.kind, "sweep")  # probabilities only: Channels greyed out, not read
    assert not dialog.channels.isEnabled() and dialog.message.text() == ""
    qtbot.waitUntil(lambda: preview_settled(dialog), timeout=EXPORT_TIMEOUT_MS)
    assert dialog.preview_note.text() == "" and dialog.message.text() == ""
    choose(qtbot, dialog.format, "csv")
    out = tmp_path / "sweep.csv"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    assert out.read_text().splitlines()[0].startswith("angle,") and errors == []

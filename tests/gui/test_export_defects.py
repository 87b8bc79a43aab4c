"""Issue 18 §3, Export, in the app: the sweep's Export plot… is the plot as shown (both
models, each in its panel's colour) whatever the last export was; file names list the
angles; the rotate-and-cycle figure's layer boxes choose one layer; NPZ has no Size row.
Driven by right clicks on the real context menus, clicks and keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image
from PySide6 import QtWidgets

from gcnn_viewer.viewer.palette import PANEL_COLOURS

from .conftest import choose, click, key
from .test_export_gui import (
    click_menu_entry,
    export_and_wait,
    open_dialog,
    right_click_menu,
    type_into,
)


def colour_pixels(path, hex_colour: str, tolerance: int = 20) -> int:
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).max(axis=-1) <= tolerance).sum())


def test_the_sweep_export_after_a_layer_export_has_both_models_in_their_colours(
    window, qtbot, tmp_path
):
    # first a layer of the right panel, exported from its context menu
    view = window.panels[1].maps
    pos = view.mapFromScene(view.layers["l1"].plot.sceneBoundingRect().center())
    click_menu_entry(qtbot, right_click_menu(qtbot, view, pos), "Export this layer")
    dialog = open_dialog(qtbot, window)
    assert dialog.models.currentData() == "right"
    type_into(qtbot, dialog.dpi, "20")
    type_into(qtbot, dialog.path, str(tmp_path / "layer.png"))
    export_and_wait(qtbot, dialog)
    # then the sweep plot's Export plot…: the plot as the app shows it, both curves
    plot = window.sweep.plot
    menu = right_click_menu(qtbot, plot, plot.viewport().rect().center())
    click_menu_entry(qtbot, menu, "Export plot")
    dialog = open_dialog(qtbot, window)
    assert dialog.kind.currentData() == "sweep" and dialog.models.currentData() == "both"
    type_into(qtbot, dialog.dpi, "150")
    out = tmp_path / "sweep.png"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    left, right = PANEL_COLOURS  # the right panel's P4CNN blue, the left panel's orange
    assert colour_pixels(out, right) > 100 and colour_pixels(out, left) > 100


def test_the_sweep_export_plots_the_class_the_app_plots(window, qtbot, tmp_path):
    choose(qtbot, window.sweep.class_box, 3)  # "Probability of class 3"
    plot = window.sweep.plot
    click_menu_entry(
        qtbot, right_click_menu(qtbot, plot, plot.viewport().rect().center()), "Export plot"
    )
    dialog = open_dialog(qtbot, window)
    choose(qtbot, dialog.format, "svg")
    out = tmp_path / "sweep.svg"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    root = ET.parse(out).getroot()
    text = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for panel in window.panels:  # both curves, each the probability of class 3
        assert f"{panel.entry.title}: P(class 3)" in text or (
            f"{panel.entry.title} (UNTRAINED): P(class 3)" in text
        )


def test_the_file_name_lists_the_quarter_turns(window, qtbot):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    assert dialog.path.text().endswith("-0deg.png")
    click(qtbot, dialog.quarter_turns)
    assert dialog.path.text().endswith("-0-90-180-270deg.png")
    type_into(qtbot, dialog.angles, "30")  # typed angles name the file too
    assert dialog.path.text().endswith("-30-120-210-300deg.png")
    click(qtbot, dialog.quarter_turns)
    assert dialog.path.text().endswith("-30deg.png")


def checked(dialog) -> list[str]:
    return [n for n, b in dialog.layer_checks.items() if b.isChecked()]


def test_the_rotate_and_cycle_figure_chooses_one_layer(window, qtbot):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    assert len(checked(dialog)) == len(dialog.layer_checks) > 1  # a figure: every layer
    choose(qtbot, dialog.kind, "rotate-and-cycle")
    assert checked(dialog) == ["l1"]  # the figure's layer, and only it
    click(qtbot, dialog.layer_checks["l3"])
    assert checked(dialog) == ["l3"] and dialog.choices().layers == ("l3",)
    click(qtbot, dialog.layer_checks["l3"])  # a radio button: stays chosen
    assert checked(dialog) == ["l3"]
    assert "l3" in dialog.path.text()
    choose(qtbot, dialog.kind, "figure")  # check boxes again: several layers
    click(qtbot, dialog.layer_checks["l1"])
    assert checked(dialog) == ["l1", "l3"]


def test_npz_shows_no_empty_size_row(window, qtbot):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    (label,) = [w for w in dialog.findChildren(QtWidgets.QLabel) if w.text() == "Size:"]

    def shown() -> set[str]:
        return {n for n in ("dpi", "frames", "fps") if getattr(dialog, n).isVisible()}

    assert label.isVisible() and shown() == {"dpi"}
    choose(qtbot, dialog.kind, "data")
    assert not label.isVisible() and shown() == set()
    choose(qtbot, dialog.kind, "animation")
    assert label.isVisible() and shown() == {"dpi", "frames", "fps"}
    for kind in ("rotate-and-cycle", "sweep", "figure"):  # a figure has no frames
        choose(qtbot, dialog.kind, kind)
        assert label.isVisible() and shown() == {"dpi"}, kind

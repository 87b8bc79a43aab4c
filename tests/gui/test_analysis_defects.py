"""Issue 18 §3, Analysis views, in the window at 1024×768, reached through the View menu,
clicks and keys: the equivariance plots have axis titles, one tick format and x labels that
stand apart; the accuracy plot's key is outside the curves; the Filters view has a colour
scale for the weights that follows the filter on show."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from gcnn_viewer.analysis.filters import filter_bank
from gcnn_viewer.gui.analysis_docks import is_visible_tab
from tests.analysis.test_accuracy import synthetic_rot
from tests.gui.conftest import click, trigger, wait_frame

TIMEOUT_MS = 30_000
MIN_LABEL_GAP_PX = 12  # between two tick labels, so that they read as two


def drawn_labels(axis) -> list[tuple[QtCore.QRectF, str]]:
    """The tick labels the axis draws right now, with their rectangles (axis coordinates)."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert specs is not None
    return [(QtCore.QRectF(rect), text) for rect, _flags, text in specs[2] if text]


def equivariance_window(make_window, qtbot, size=(1024, 768)):
    window = make_window()
    window.resize(*size)
    wait_frame(qtbot, window)
    docks = window.analysis
    with qtbot.waitSignal(docks.equivariance.computed, timeout=TIMEOUT_MS):
        trigger(window, "View", "Equivariance")
    qtbot.waitUntil(lambda: is_visible_tab(docks.equivariance_dock))
    return window


@pytest.mark.parametrize("size", [(1024, 768), (1600, 1000)])
def test_equivariance_plots_have_axis_titles_one_tick_format_and_readable_x_labels(
    make_window, qtbot, size
):
    window = equivariance_window(make_window, qtbot, size)
    plots = window.analysis.equivariance.plots
    assert len(plots) == 2
    for plot in plots:
        bottom, left = plot.getAxis("bottom"), plot.getAxis("left")
        assert bottom.labelText and left.labelText  # what each axis measures
        xs = drawn_labels(bottom)
        assert len(xs) >= 3 and all(re.fullmatch(r"\d+°", t) for _r, t in xs)
        rects = sorted((r for r, _t in xs), key=lambda r: r.left())
        for a, b in zip(rects, rects[1:], strict=False):
            assert b.left() - a.right() >= MIN_LABEL_GAP_PX, [t for _r, t in xs]
        ys = [t for _r, t in drawn_labels(left)]
        assert len(ys) >= 3
        assert all(re.fullmatch(r"10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+", t) for t in ys), ys  # one format


def test_the_accuracy_key_covers_no_curve(window, qtbot):
    window.resize(1024, 768)
    view = window.analysis.accuracy
    view.data_loader = lambda: synthetic_rot(400)
    trigger(window, "View", "Accuracy vs angle")
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS):
        click(qtbot, view.compute_button)
    box = view.plot.getPlotItem().getViewBox()
    curves = view.plot.listDataItems()
    assert len(curves) == 2
    # no legend inside the plot (it hid Z2CNN's curve near 350°): the key is above it
    legend = view.plot.getPlotItem().legend
    assert legend is None or not legend.sceneBoundingRect().intersects(box.sceneBoundingRect())
    text = view.legend.text()
    assert view.legend.isVisible()
    for panel in window.panels:
        assert panel.entry.title in text
    for curve in curves:  # every point of every curve in view
        x, y = curve.getData()
        for px, py in zip(x, y, strict=False):
            assert box.sceneBoundingRect().contains(box.mapViewToScene(QtCore.QPointF(px, py)))


def test_the_empty_accuracy_plot_says_what_fills_it(window, qtbot):
    view = window.analysis.accuracy
    view.data_loader = lambda: synthetic_rot(400)
    trigger(window, "View", "Accuracy vs angle")
    assert view.isVisible() and not view.plot.listDataItems()
    assert "Compute" in view.status.text() and "MNIST-rot" in view.status.text()
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS):
        click(qtbot, view.compute_button)
    assert len(view.plot.listDataItems()) == 2 and "Compute:" not in view.status.text()


def test_the_filters_view_has_a_colour_scale_for_the_weights(window, qtbot):
    window.resize(1024, 768)
    trigger(window, "View", "Filters")
    filters = window.analysis.filters
    qtbot.waitUntil(lambda: is_visible_tab(window.analysis.filters_dock))

    def limit() -> float:
        key, layer, channel = filters.current()
        model = filters.models[filters.model_box.currentIndex()].model
        bank = filter_bank(model, layer, channel)
        return float(max(np.abs(bank.stored).max(), np.abs(bank.expanded).max()))

    bar = filters.colour_bar
    assert bar.isVisible()
    assert bar.levels() == (-limit(), limit())  # symmetric about 0: white is 0
    assert bar.sceneBoundingRect().intersects(filters.plot.sceneRect())
    texts = [t for _r, t in drawn_labels(bar.axis)]
    assert any(t.startswith(("-", "−")) for t in texts) and "0" in texts
    before = bar.levels()
    filters.channel_box.setFocus()
    for _ in range(3):  # another channel, by hand: the scale follows its weights
        qtbot.keyClick(filters.channel_box, QtCore.Qt.Key.Key_Down)
        if bar.levels() != before:
            break
    assert bar.levels() == (-limit(), limit()) and bar.levels() != before

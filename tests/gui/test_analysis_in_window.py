"""The analysis views inside the main window, reached as a user reaches them: the tabs beside
the probability-vs-angle plot, a stroke on the canvas, a click on the accuracy plot and a
click on a feature map."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.gui.analysis_docks import is_visible_tab
from gcnn_viewer.gui.analysis_views import EQUIVARIANCE_ANGLES
from gcnn_viewer.viewer.models import ModelCatalog
from tests.analysis.conftest import seeded
from tests.analysis.test_accuracy import synthetic_rot
from tests.gui.conftest import (
    SEVEN,
    canvas_points,
    choose,
    click,
    drag,
    hover,
    trigger,
    wait_frame,
)

LEFT = QtCore.Qt.MouseButton.LeftButton
TIMEOUT_MS = 30_000
Z2, P4 = 0, 1  # the panels: Z2CNN left, P4CNN right by default


def click_tab(qtbot, window, title: str) -> None:
    """Click the dock tab titled ``title`` (Qt's own tab bar below the docks)."""
    for bar in window.findChildren(QtWidgets.QTabBar):
        for i in range(bar.count()):
            if bar.tabText(i) == title and bar.isVisible():
                qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(i).center())
                return
    raise AssertionError(f"no tab {title!r}")


def test_the_equivariance_tab_measures_the_drawing_on_screen(window, qtbot):
    wait_frame(qtbot, window)
    docks = window.analysis
    assert docks.equivariance_dock.isHidden()  # until asked for: no tabs below the maps
    assert docks.equivariance.result is None  # nothing computed while hidden
    with qtbot.waitSignal(docks.equivariance.computed, timeout=TIMEOUT_MS) as first:
        trigger(window, "View", "Equivariance")
    assert is_visible_tab(docks.equivariance_dock)
    assert docks.equivariance_dock.height() >= 0.3 * window.height()  # room for the plots
    result = first.args[0]
    z2, p4 = window.state.panel_key(Z2), window.state.panel_key(P4)
    quarter = np.isin(EQUIVARIANCE_ANGLES, [90, 180, 270])
    assert max(err[quarter].max() for err in result[p4].values()) <= EXACT_TOLERANCE
    assert min(err[quarter].min() for err in result[z2].values()) > 1e-2
    # a new stroke: once it ends, the curves are measured again for the new drawing
    with qtbot.waitSignal(docks.equivariance.computed, timeout=TIMEOUT_MS) as second:
        drag(window.canvas, canvas_points(window.canvas, SEVEN[:2]))
    assert not np.array_equal(second.args[0][z2]["l1"], result[z2]["l1"])
    # back to the sweep: the bottom area gives the maps their room back
    click_tab(qtbot, window, "Probability vs angle")
    qtbot.waitUntil(lambda: window.sweep_dock.height() < 0.3 * window.height())
    assert not is_visible_tab(docks.equivariance_dock)
    # hidden behind its tab it is not measured; brought forward it catches up
    with qtbot.assertNotEmitted(docks.equivariance.computed, wait=500):
        drag(window.canvas, canvas_points(window.canvas, SEVEN[2:]))
        wait_frame(qtbot, window)
    assert docks.worker.idle() and docks._equivariance_stale  # noted, not computed
    assert docks.equivariance.result is second.args[0]
    with qtbot.waitSignal(docks.equivariance.computed, timeout=TIMEOUT_MS):
        click_tab(qtbot, window, "Equivariance")


def test_a_click_on_the_accuracy_plot_turns_the_input(window, qtbot):
    view = window.analysis.accuracy
    view.data_loader = lambda: synthetic_rot(400)  # (the MNIST-rot cache is not here)
    trigger(window, "View", "Accuracy vs angle")
    assert is_visible_tab(window.analysis.accuracy_dock)
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS) as done:
        click(qtbot, view.compute_button)
    assert set(done.args[0]) == set(window.state.panel_keys)
    box = view.plot.getPlotItem().getViewBox()
    pos = view.plot.mapFromScene(box.mapViewToScene(QtCore.QPointF(90.0, 1.0)))
    qtbot.mouseClick(view.plot.viewport(), LEFT, pos=pos)
    assert window.state.angle == pytest.approx(90.0, abs=2.0)
    assert window.state.angle == round(window.state.angle)  # whole degrees, as the dial
    assert window.rotation.spin.value() == round(window.state.angle)
    # the dial drives the plot's marker too
    window.state.angle = 180.0
    assert view.marker.value() == 180.0


def test_a_click_on_a_feature_map_opens_its_filter(window, qtbot):
    wait_frame(qtbot, window)
    view = window.panels[P4].maps
    pos = hover(view, "l2", channel=3, orientation=1)
    qtbot.mouseClick(view.viewport(), LEFT, pos=pos)
    filters = window.analysis.filters
    # (a click acts once the double-click time has passed: a double click focuses the layer)
    qtbot.waitUntil(lambda: filters.current() == (window.state.panel_key(P4), "l2", 3))
    assert is_visible_tab(window.analysis.filters_dock)
    assert "4 copies" in filters.header.text() and "(4.0×)" in filters.params.text()
    # the copy that made the clicked map (orientation 1: 90°) is outlined, over its column
    assert filters.orientation == 1 and filters.outline.isVisible()
    assert "outlined" in filters.header.text()
    box = filters.outline.rect()
    inside = [
        label.toPlainText()
        for label in filters.column_labels
        if box.left() < label.pos().x() < box.right()
    ]
    assert inside == ["at 90°"]
    choose_channel = filters.channel_box
    choose_channel.setFocus()
    qtbot.keyClick(choose_channel, QtCore.Qt.Key.Key_Down)  # another channel, by hand
    assert not filters.outline.isVisible() and filters.orientation is None
    # with another tab in front, a click brings the filter forward again
    click_tab(qtbot, window, "Probability vs angle")
    qtbot.waitUntil(lambda: not is_visible_tab(window.analysis.filters_dock))
    qtbot.mouseClick(view.viewport(), LEFT, pos=hover(view, "l2", channel=4, orientation=0))
    qtbot.waitUntil(lambda: filters.current() == (window.state.panel_key(P4), "l2", 4))
    qtbot.waitUntil(lambda: is_visible_tab(window.analysis.filters_dock))
    # pooling has no filter of its own: the view stays, the status bar says why
    pos = hover(view, "pool", channel=0, orientation=0)
    qtbot.mouseClick(view.viewport(), LEFT, pos=pos)
    qtbot.waitUntil(lambda: "pool has no filters" in window.statusBar().currentMessage())
    assert filters.current() == (window.state.panel_key(P4), "l2", 4)
    # the plain CNN's maps open the plain CNN's filter (one copy)
    z2 = window.panels[Z2].maps
    pos = hover(z2, "l1", channel=5, orientation=0)
    qtbot.mouseClick(z2.viewport(), LEFT, pos=pos)
    qtbot.waitUntil(lambda: filters.current() == (window.state.panel_key(Z2), "l1", 5))
    assert "1 copy" in filters.header.text()


def test_cancel_stops_the_accuracy_run(window, qtbot):
    view = window.analysis.accuracy
    gate = threading.Event()

    def slow_loader():
        gate.wait(10)  # the run is under way until the test has clicked Cancel
        return synthetic_rot(400)

    view.data_loader = slow_loader
    trigger(window, "View", "Accuracy vs angle")
    click(qtbot, view.compute_button)
    assert view.cancel_button.isEnabled() and view.progress.isVisible()
    click(qtbot, view.cancel_button)
    gate.set()
    assert view.status.text() == "cancelled" and view.compute_button.isEnabled()
    qtbot.waitUntil(window.analysis.worker.idle, timeout=TIMEOUT_MS)
    assert view.results == {}  # the cancelled run's result is never shown


def test_the_view_menu_opens_and_closes_each_analysis_tab(window, qtbot):
    docks = window.analysis
    views = (docks.equivariance_dock, docks.accuracy_dock, docks.filters_dock)
    assert all(dock.isHidden() for dock in views)
    trigger(window, "View", "Equivariance")
    trigger(window, "View", "Accuracy vs angle")
    trigger(window, "View", "Filters")
    for dock in views:  # each a tab beside the sweep
        assert window.tabifiedDockWidgets(window.sweep_dock).count(dock) == 1
    qtbot.waitUntil(lambda: is_visible_tab(docks.filters_dock))  # the last one asked for
    # an entry whose tab is behind another brings it forward; in front, it closes it
    for dock, entry in zip(views, ("Equivariance", "Accuracy vs angle", "Filters"), strict=True):
        if not is_visible_tab(dock):
            trigger(window, "View", entry)
            qtbot.waitUntil(lambda d=dock: is_visible_tab(d))
        trigger(window, "View", entry)
        assert dock.isHidden()
    assert all(dock.isHidden() for dock in views)
    qtbot.waitUntil(lambda: is_visible_tab(window.sweep_dock))


def test_the_views_keep_what_they_show_while_it_is_still_true(make_window, weights_dir, qtbot):
    """A change of the other panel keeps the filter on show; new weights under the same
    model drop that model's accuracy curve (it described the old weights)."""
    window = make_window(ModelCatalog(weights_dir))  # its own: the weights change below
    view = window.panels[P4].maps
    qtbot.mouseClick(view.viewport(), LEFT, pos=hover(view, "l3", channel=5, orientation=2))
    filters, p4 = window.analysis.filters, window.state.panel_key(P4)
    qtbot.waitUntil(lambda: filters.current() == (p4, "l3", 5))  # after the double-click time
    assert filters.orientation == 2
    accuracy = window.analysis.accuracy
    accuracy.data_loader = lambda: synthetic_rot(400)
    trigger(window, "View", "Accuracy vs angle")
    with qtbot.waitSignal(accuracy.computed, timeout=TIMEOUT_MS):
        click(qtbot, accuracy.compute_button)
    z2 = window.state.panel_key(Z2)
    assert set(accuracy.results) == {z2, p4}

    choose(qtbot, window.panels[Z2].selector, "untrained:p4mcnn")  # the other panel
    wait_frame(qtbot, window)
    assert filters.current() == (p4, "l3", 5) and filters.outline.isVisible()
    assert set(accuracy.results) == {p4}  # the left panel's model is another one now
    assert len(accuracy.plot.listDataItems()) == 1

    # new weights for the right panel's model (what a training snapshot does)
    window.state.catalog.update_model(p4, seeded("p4cnn", seed=5), rescale=False)
    assert accuracy.results == {} and len(accuracy.plot.listDataItems()) == 0
    assert filters.current() == (p4, "l3", 5)  # redrawn from the new weights
    assert filters.models[-1].model is window.state.panel_entry(P4).model

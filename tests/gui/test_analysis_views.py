"""The analysis views alone, through real events: the Equivariance panel recomputes off the
GUI thread, the Accuracy view computes with progress, caches, cancels and turns a click into
``angleChosen``, the Filters view follows its combo boxes (keyClicks) and ``show_filter``."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.analysis.filters import filter_bank
from gcnn_viewer.gui.analysis_views import (
    EQUIVARIANCE_ANGLES,
    AccuracyView,
    AnalysisModel,
    AnalysisWorker,
    EquivariancePanel,
    FiltersView,
    bank_mosaic,
)
from tests.analysis.conftest import blob_digit, seeded
from tests.analysis.test_accuracy import synthetic_rot

LEFT = QtCore.Qt.MouseButton.LeftButton
TIMEOUT_MS = 20_000


@pytest.fixture
def models():
    return [
        AnalysisModel("z2", "Z2CNN", seeded("z2cnn"), "1" * 64),
        AnalysisModel("p4", "P4CNN", seeded("p4cnn"), "2" * 64),
    ]


@pytest.fixture
def worker(qtbot):
    w = AnalysisWorker()
    yield w
    assert w.stop()


def test_equivariance_panel_recomputes_when_the_input_changes(qtbot, models, worker):
    panel = EquivariancePanel(worker)
    qtbot.addWidget(panel)
    panel.resize(900, 350)
    panel.show()
    panel.set_models(models)
    with qtbot.waitSignal(panel.computed, timeout=TIMEOUT_MS) as first:
        panel.set_input(blob_digit(0))
    result = first.args[0]
    quarter = np.isin(EQUIVARIANCE_ANGLES, [0, 90, 180, 270])
    for layer, err in result["p4"].items():
        assert err[quarter].max() <= EXACT_TOLERANCE, layer
    assert min(err[1:].min() for err in result["z2"].values()) > 1e-2
    assert len(panel.plots[1].listDataItems()) == 9  # every layer of P4CNN, logits included
    # one key for both plots, outside them (inside, a legend hid the quarter-turn dips)
    assert all(plot.plotItem.legend is None for plot in panel.plots)
    assert all(f"&nbsp;{name}" in panel.legend.text() for name in result["p4"])
    with qtbot.waitSignal(panel.computed, timeout=TIMEOUT_MS) as second:
        panel.set_input(blob_digit(3))  # a new drawing: new curves
    assert not np.array_equal(second.args[0]["z2"]["l1"], result["z2"]["l1"])


def _click_plot_at(qtbot, plot, x: float, y: float) -> None:
    box = plot.getPlotItem().getViewBox()
    scene = box.mapViewToScene(QtCore.QPointF(x, y))
    pos = plot.mapFromScene(scene)
    qtbot.mouseClick(plot.viewport(), LEFT, pos=pos)


def test_accuracy_view_computes_caches_and_emits_the_clicked_angle(qtbot, models, worker):
    data = synthetic_rot(600)
    loads = []

    def loader():
        loads.append(1)
        return data

    view = AccuracyView(worker, data_loader=loader, bins=12)
    qtbot.addWidget(view)
    view.resize(800, 320)
    view.show()
    view.set_models(models)
    progress = []
    view.progress.valueChanged.connect(
        lambda done: progress.append((done, view.progress.maximum()))
    )
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(view.compute_button, LEFT)
    results = done.args[0]
    assert set(results) == {"z2", "p4"} and results["p4"].n == 600
    assert progress and progress[-1][0] == progress[-1][1]
    assert "error on 600 test digits" in view.status.text()
    assert view.compute_button.isEnabled() and not view.progress.isVisible()
    assert len(view.plot.listDataItems()) == 2

    # the second look reads the disk cache (the models are not run again)
    for m in models:
        m.model.forward = lambda *a, **k: (_ for _ in ()).throw(AssertionError("not cached"))
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS) as again:
        qtbot.mouseClick(view.compute_button, LEFT)
    assert again.args[0]["p4"].error == results["p4"].error

    qtbot.waitUntil(lambda: view.plot.isVisible())
    with qtbot.waitSignal(view.angleChosen, timeout=2000) as chosen:
        _click_plot_at(qtbot, view.plot, 90.0, 1.0)
    assert chosen.args[0] == pytest.approx(90.0, abs=2.0)
    assert view.marker.value() == pytest.approx(chosen.args[0])


def test_accuracy_view_cancel(qtbot, models, worker):
    gate = QtCore.QSemaphore(0)

    def slow_loader():
        gate.acquire()  # held until the test has clicked Cancel
        return synthetic_rot(100)

    view = AccuracyView(worker, data_loader=slow_loader)
    qtbot.addWidget(view)
    view.show()
    view.set_models(models)
    computed = []
    view.computed.connect(computed.append)
    qtbot.mouseClick(view.compute_button, LEFT)
    assert view.cancel_button.isEnabled() and view.progress.isVisible()
    qtbot.mouseClick(view.cancel_button, LEFT)
    gate.release()
    assert view.status.text() == "cancelled" and view.compute_button.isEnabled()
    qtbot.waitUntil(worker.idle, timeout=TIMEOUT_MS)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(300, loop.quit)
    loop.exec()
    assert computed == []


def test_accuracy_view_without_data_says_how_to_make_it(qtbot, models, worker):
    view = AccuracyView(worker, data_loader=lambda: None)
    qtbot.addWidget(view)
    view.set_models(models)
    qtbot.mouseClick(view.compute_button, LEFT)
    qtbot.waitUntil(lambda: "gcnn-viewer data fetch" in view.status.text(), timeout=TIMEOUT_MS)


def test_filters_view_follows_its_combo_boxes(qtbot, models):
    view = FiltersView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.set_models(models)
    assert view.model_box.currentText() == "Z2CNN" and view.layer_box.currentText() == "l2"
    qtbot.keyClicks(view.model_box, "P")
    assert view.model_box.currentData() == "p4"
    qtbot.keyClicks(view.layer_box, "l4")
    assert view.layer_box.currentText() == "l4"
    with qtbot.waitSignal(view.shown, timeout=2000) as shown:
        qtbot.keyClicks(view.channel_box, "7")
    assert shown.args == ["p4", "l4", 7]
    bank = filter_bank(models[1].model, "l4", 7)
    expected, _ = bank_mosaic(bank.stored, bank.expanded)
    np.testing.assert_array_equal(view.mosaic, expected)
    assert [label.toPlainText() for label in view.column_labels] == [
        "stored",
        "at 0°",
        "at 90°",
        "at 180°",
        "at 270°",
    ]
    assert "14,440" in view.params.text() and "3,610" in view.params.text()


def test_show_filter_slot(qtbot, models):
    view = FiltersView()
    qtbot.addWidget(view)
    view.set_models(models)
    assert view.show_filter("p4", "l1", 3)
    assert view.current() == ("p4", "l1", 3)
    assert view.mosaic.shape == (3, 5 * (3 + 3) - 3)  # one input plane; stored + 4 copies
    assert not view.show_filter("p4", "pool", 0)  # no filters: nothing changes
    assert not view.show_filter("nope", "l1", 0)
    assert view.current() == ("p4", "l1", 3)

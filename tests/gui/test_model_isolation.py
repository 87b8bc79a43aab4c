"""No background job changes a model the viewer shows (issue 18, section 1).

Every kind of job that runs beside the inference worker — accuracy against angle (the View
menu, then Compute), equivariance, a sweep, an export, a training run (its snapshots and, at
its end, the batch-norm recalibration) — runs in turn in one window; after each, the frame the
viewer computes for the same input at the same angle must be bit-identical to the one before
any job ran. Z2CNN has dropout: a model left in training mode by a job gives different maps on
every frame, which is how the bug was seen (its predictions "7 · 99.9%", "8 · 42.9%", …)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from gcnn_viewer.data.mnist_rot import read_mnist_rot
from gcnn_viewer.training.checkpoint import load_checkpoint
from gcnn_viewer.viewer.models import ModelCatalog
from tests.gui.conftest import (
    SEVEN,
    canvas_points,
    click,
    drag,
    tiny_loader,
    tiny_mnist_rot,
    trigger,
    wait_frame,
    wait_sweep,
)
from tests.gui.test_export_gui import export_and_wait, only_layers, open_dialog, type_into

TIMEOUT_MS = 60_000


def fresh_frame(qtbot, window):
    """The frame of the drawing at 0°, computed again now: +90°, then −90° (two clicks)."""
    click(qtbot, window.rotation.plus)
    wait_frame(qtbot, window)
    click(qtbot, window.rotation.minus)
    frame = wait_frame(qtbot, window)
    assert frame.angle == 0.0
    return frame


def assert_same_frame(before, after, job: str) -> None:
    assert [p.key for p in after.panels] == [p.key for p in before.panels]
    np.testing.assert_array_equal(after.input, before.input)
    for a, b in zip(after.panels, before.panels, strict=True):
        assert np.array_equal(a.probabilities, b.probabilities), (
            f"after {job}, {a.key} predicts {a.prediction} ({a.probabilities.max():.3f}), "
            f"before {b.prediction} ({b.probabilities.max():.3f})"
        )
        assert a.layers.keys() == b.layers.keys()
        for name in b.layers:
            assert np.array_equal(a.layers[name].data, b.layers[name].data), (
                f"after {job}, {a.key}'s {name} maps changed"
            )
            assert np.array_equal(a.layers[name].image, b.layers[name].image)


def test_no_background_job_changes_what_the_viewer_shows(
    make_window, weights_dir, tmp_path, qtbot, errors
):
    window = make_window(ModelCatalog(weights_dir))  # its own models: nothing shared
    z2 = window.state.panel_entry(0)
    assert z2.arch == "z2cnn" and z2.model.drop.p > 0  # the model with dropout is on screen
    drag(window.canvas, canvas_points(window.canvas, SEVEN))
    wait_sweep(qtbot, window)
    before = fresh_frame(qtbot, window)
    assert_same_frame(before, fresh_frame(qtbot, window), "nothing")  # a test that can pass

    # -- accuracy against angle: View ▸ Accuracy vs angle, then Compute -------------------------
    data = tiny_mnist_rot(tmp_path / "data")
    view = window.analysis.accuracy
    view.data_loader = lambda: read_mnist_rot(data)  # the tiny set instead of the 50,000 digits
    trigger(window, "View", "Accuracy vs angle")
    with qtbot.waitSignal(view.computed, timeout=TIMEOUT_MS):
        click(qtbot, view.compute_button)
    assert not errors and "failed" not in view.status.text(), (errors, view.status.text())
    assert_same_frame(before, fresh_frame(qtbot, window), "the accuracy analysis")

    # -- equivariance: View ▸ Equivariance measures the drawing -----------------------------
    equivariance = window.analysis.equivariance
    with qtbot.waitSignal(equivariance.computed, timeout=TIMEOUT_MS):
        trigger(window, "View", "Equivariance")
    assert_same_frame(before, fresh_frame(qtbot, window), "the equivariance analysis")

    # -- a sweep: Undo and Redo the stroke (the same drawing), each ends in a new sweep ---------
    trigger(window, "Edit", "Undo")
    wait_sweep(qtbot, window)
    trigger(window, "Edit", "Redo")
    sweep = wait_sweep(qtbot, window)
    assert sweep.version == window.state.drawing.version
    assert_same_frame(before, fresh_frame(qtbot, window), "a sweep")

    # -- an export of both models' maps: File ▸ Export… -------------------------------------
    trigger(window, "File", "Export…")
    dialog = open_dialog(qtbot, window)
    only_layers(qtbot, dialog, {"l1"})
    type_into(qtbot, dialog.dpi, "30")
    out = tmp_path / "maps.png"
    type_into(qtbot, dialog.path, str(out))
    export_and_wait(qtbot, dialog)
    assert out.is_file() and not errors, errors
    assert_same_frame(before, fresh_frame(qtbot, window), "an export")

    # -- training: snapshots of the model in training, then the BN recalibration at its end ---
    panel = window.train_panel
    panel.load_data = tiny_loader(data)
    panel.runs_dir = tmp_path / "runs"
    panel.snapshot_every, panel.snapshot_min_interval_s = 1, 0.0
    trigger(window, "File", "Train a model")
    qtbot.waitUntil(lambda: window.train_dock.isVisible(), timeout=5000)
    panel.model_box.setCurrentIndex(panel.model_box.findData("z2cnn"))
    panel.epochs.setValue(1)
    panel.batch.setValue(32)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    click(qtbot, panel.follow)  # the panels keep showing the catalog's models
    assert not panel.follow.isChecked()
    snapshots = []
    panel.catalog.added.connect(snapshots.append)
    panel.catalog.changed.connect(snapshots.append)
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)
    assert ended.args[0].status == "done", ended.args[0].message
    assert snapshots  # the run's weights reached the catalog
    record = load_checkpoint(ended.args[0].checkpoint).record
    assert record.final["bn_recalibration"] in ("paper", "eval")  # BN was recalibrated
    loop = QtCore.QEventLoop()  # the run's last snapshot and read-back reach the window
    QtCore.QTimer.singleShot(100, loop.quit)
    loop.exec()
    assert [p.key for p in before.panels] == list(window.state.panel_keys)
    assert_same_frame(before, fresh_frame(qtbot, window), "a training run")

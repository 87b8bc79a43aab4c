"""Issue 18 §3, Training: the wheel over the curves scrolls the dock, Continue… carries the
cancelled run's curves on point for point and opens on its checkpoint, no ETA while paused,
and the checkpoint's folder opens from the panel. Every action is a real event."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from tests.training.conftest import tiny_datasets  # noqa: E402

from .conftest import click, trigger  # noqa: E402

RUN_TIMEOUT_MS = 20_000


def wheel(widget: QtWidgets.QWidget, steps: int = -1) -> QtGui.QWheelEvent:
    """One notch of a mouse wheel (negative: towards the user, i.e. scroll down) over the
    middle of ``widget``, delivered as Qt delivers it (ignored events go to the parent)."""
    pos = QtCore.QPointF(widget.rect().center())
    event = QtGui.QWheelEvent(
        pos,
        QtCore.QPointF(widget.mapToGlobal(pos.toPoint())),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, 120 * steps),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(widget, event)
    return event


def scroll_area(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    while widget is not None and not isinstance(widget, QtWidgets.QScrollArea):
        widget = widget.parentWidget()
    assert widget is not None
    return widget


def test_the_wheel_over_the_curves_scrolls_the_dock_and_never_zooms(trainer_window, qtbot):
    window, panel = trainer_window, trainer_window.train_panel
    window.resize(1024, 600)  # the Train panel is taller than its dock: it scrolls
    scroll = scroll_area(panel)
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(0)
    for plot in (panel.loss_plot, panel.error_plot):
        before = plot.getViewBox().viewRange()
        value = bar.value()
        wheel(plot.viewport(), -1)
        assert plot.getViewBox().viewRange() == before  # not zoomed
        assert bar.value() > value or bar.value() == bar.maximum()  # the dock scrolled
        bar.setValue(0)
    # a drag over the curves does not pan them either: the whole run stays in view
    from gcnn_viewer.gui.synthetic_input import drag

    plot = panel.loss_plot
    before = plot.getViewBox().viewRange()
    r = plot.viewport().rect()
    drag(plot.viewport(), [r.center(), r.center() + QtCore.QPoint(40, 20)])
    assert plot.getViewBox().viewRange() == before


def test_the_error_key_covers_no_curve(trainer_window, qtbot):
    panel = trainer_window.train_panel
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.start_button)
    item = panel.error_plot.getPlotItem()
    box = item.getViewBox()
    legend = item.legend
    assert legend is None or not legend.sceneBoundingRect().intersects(box.sceneBoundingRect())
    title = item.titleLabel.text
    assert "train" in title and "valid" in title  # the key, above the plot
    assert len(panel.curves.valid) == 2


def cancel_after(qtbot, panel, epochs: int):
    qtbot.waitUntil(lambda: panel.last is not None and panel.last.epoch >= epochs, timeout=20_000)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.cancel_button)
    return ended.args[0]


def test_continue_opens_on_the_cancelled_checkpoint_and_keeps_its_curves(
    trainer_window, qtbot, monkeypatch
):
    panel = trainer_window.train_panel
    panel.epochs.setValue(200)
    click(qtbot, panel.start_button)
    result = cancel_after(qtbot, panel, 3)
    assert result.status == "cancelled"
    x, loss, error = list(panel.curves.x), list(panel.curves.loss), list(panel.curves.error)
    assert len(x) >= 2 * 3  # a point per step: more than one an epoch

    opened = []

    def dialog(parent=None, caption="", directory="", filter="", *args, **kwargs):
        opened.append(directory)
        return str(result.checkpoint), ""

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(dialog))
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as again:
        click(qtbot, panel.continue_button)
        qtbot.waitUntil(lambda: len(panel.curves.x) > len(x) + 2, timeout=RUN_TIMEOUT_MS)
        click(qtbot, panel.cancel_button)
    assert again.args[0].status == "cancelled"
    # the dialog opened on the checkpoint just cancelled (selected in it)
    assert opened == [str(result.checkpoint)]
    # the epochs before the cancel: the very points drawn before, not one mean per epoch
    c = panel.curves
    assert c.x[: len(x)] == x and c.loss[: len(x)] == loss and c.error[: len(x)] == error
    assert c.x[len(x)] > x[-1]  # and the continued run goes on from there
    drawn_x, _ = panel.loss_curve.getData()
    assert list(drawn_x[: len(x)]) == x


def test_after_a_restart_continue_still_draws_the_run_point_for_point(
    trainer_window, make_window, weights_dir, tmp_path, qtbot, monkeypatch
):
    panel = trainer_window.train_panel
    panel.epochs.setValue(200)
    click(qtbot, panel.start_button)
    result = cancel_after(qtbot, panel, 2)
    x, loss = list(panel.curves.x), list(panel.curves.loss)
    trainer_window.close()  # quit the app

    window = make_window(ModelCatalog(weights_dir))  # start it again
    again = window.train_panel
    again.load_data = lambda _say: tiny_datasets()
    again.runs_dir = tmp_path / "runs"
    again.refresh_data_status()
    trigger(window, "File", "Train a model")
    again.device.setCurrentIndex(again.device.findData("cpu"))
    monkeypatch.setattr(
        QtWidgets.QFileDialog,
        "getOpenFileName",
        staticmethod(lambda *a, **k: (str(result.checkpoint), "")),
    )
    with qtbot.waitSignal(again.runEnded, timeout=RUN_TIMEOUT_MS):
        click(qtbot, again.continue_button)
        qtbot.waitUntil(lambda: len(again.curves.x) > len(x), timeout=RUN_TIMEOUT_MS)
        click(qtbot, again.cancel_button)
    assert again.curves.x[: len(x)] == x and again.curves.loss[: len(x)] == loss


def test_curves_kept_for_another_file_are_not_drawn(tmp_path):
    """The curves beside a checkpoint belong to that very file: a checkpoint written over
    (another run under the same name) is drawn from its own history."""
    from gcnn_viewer.viewer.training import TrainingCurves, curves_path, load_curves, save_curves

    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(b"one run")
    curves = TrainingCurves([0.5, 1.0], [2.0, 1.5], [50.0, 40.0], [1.0], [45.0])
    save_curves(curves, checkpoint)
    assert load_curves(checkpoint).to_dict() == curves.to_dict()
    checkpoint.write_bytes(b"another run")
    assert load_curves(checkpoint) is None
    save_curves(curves, checkpoint)
    curves_path(checkpoint).write_text('{"checkpoint_sha256": 1, "curves": [')  # damaged
    assert load_curves(checkpoint) is None


def test_no_eta_while_paused(trainer_window, qtbot):
    panel = trainer_window.train_panel
    panel.epochs.setValue(50)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.last is not None and panel.last.step > 2, timeout=20_000)
    assert "ETA" in panel.status.text()
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: "paused" in panel.status.text(), timeout=RUN_TIMEOUT_MS)
    assert "ETA" not in panel.status.text()
    click(qtbot, panel.pause_button)  # Resume: the ETA is back with the next record
    qtbot.waitUntil(lambda: "ETA" in panel.status.text(), timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.cancel_button)


def test_the_checkpoint_folder_opens_from_the_panel(trainer_window, qtbot, monkeypatch):
    panel = trainer_window.train_panel
    opened: list[QtCore.QUrl] = []
    monkeypatch.setattr(
        QtGui.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True)
    )
    assert not panel.folder_button.isVisible()  # nothing to open before a run
    panel.epochs.setValue(200)
    click(qtbot, panel.start_button)
    result = cancel_after(qtbot, panel, 1)
    assert "checkpoint kept" in panel.status.text()
    click(qtbot, panel.folder_button)
    assert [u.toLocalFile() for u in opened] == [str(result.checkpoint.parent)]
    assert str(result.checkpoint.parent) in panel.folder_button.toolTip()

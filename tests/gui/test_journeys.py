"""The headline journeys of issue 9, each start to finish through the UI as a user does them:
clicks, keys, menu entries, drags, hovering, dropping files. File dialogs are answered by
the ``file_dialog`` fixture; the action that opens them is still the menu or shortcut."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6 import QtCore, QtGui  # noqa: E402

from gcnn_viewer.models import build_model  # noqa: E402
from gcnn_viewer.training import load_checkpoint  # noqa: E402
from gcnn_viewer.training.checkpoint import save_checkpoint  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402

from .conftest import (  # noqa: E402
    SEVEN,
    canvas_points,
    click,
    displayed,
    drag,
    drop_file,
    hover,
    key,
    tiny_loader,
    tiny_mnist_rot,
    trigger,
    wait_frame,
    wait_sweep,
)

P4, Z2 = 1, 0
RUN_TIMEOUT_MS = 60_000


def fits(label) -> bool:
    """A word-wrapped label's text fits its (fixed) height: nothing is cut off."""
    metrics = QtGui.QFontMetrics(label.font())
    flags = QtCore.Qt.TextFlag.TextWordWrap
    rect = metrics.boundingRect(QtCore.QRect(0, 0, label.width(), 10_000), flags, label.text())
    return rect.height() <= label.height()


def test_draw_a_seven_turn_it_stabilise_and_hover(window, qtbot):
    click(qtbot, window.brush.clear)
    assert window.state.drawing.is_empty
    drag(window.canvas, canvas_points(window.canvas, SEVEN))  # draw a 7
    drawn = wait_frame(qtbot, window)
    assert drawn.input.max() > 0.5 and window.source_label.text() == "your drawing"
    wait_sweep(qtbot, window)
    l1_upright = displayed(window, P4, "l1")
    probabilities = drawn.panels[P4].probabilities
    click(qtbot, window.rotation.plus)  # +90°
    turned = wait_frame(qtbot, window)
    assert turned.angle == 90 and window.rotation.exact.text() == "exact (rot90)"
    np.testing.assert_array_equal(turned.input, np.rot90(drawn.input))
    np.testing.assert_allclose(turned.panels[P4].probabilities, probabilities, atol=1e-5)
    assert not np.array_equal(displayed(window, P4, "l1"), l1_upright)  # rotated and cycled
    key(qtbot, window.canvas, "S")  # the stabilised view
    assert window.state.stabilised and window.rotation.stabilised.isChecked()
    stabilised = wait_frame(qtbot, window)
    assert stabilised.turns == 1
    assert np.abs(displayed(window, P4, "l1").astype(int) - l1_upright).max() <= 1
    hover(window.panels[P4].maps, "l2", 3, 1, y=0.4, x=0.6)
    text = window.inspector.text.text()
    assert "P4CNN · l2" in text and "channel 3" in text and "orientation 90°" in text
    assert "(stabilised view)" in text and window.panels[P4].maps.layers["l2"].outline.isVisible()


def test_open_an_image_from_the_menu_and_by_dropping_it(window, qtbot, tmp_path, file_dialog):
    paper = np.full((120, 90), 255, np.uint8)  # black ink on white paper, not 28×28
    paper[20:100, 40:52] = 0
    path = tmp_path / "one.png"
    Image.fromarray(paper).save(path)
    file_dialog.append(str(path))
    trigger(window, "File", "Open image")
    assert window.state.drawing.source == "one.png" and "one.png" in window.source_label.text()
    frame = wait_frame(qtbot, window)
    assert frame.input.max() > 0.9 and frame.input[0, 0] == 0  # white on black, centred
    click(qtbot, window.brush.undo)
    assert window.state.drawing.source.startswith("sample 7")
    assert drop_file(window.panels[P4].maps, path)  # dropped anywhere on the window
    assert window.state.drawing.source == "one.png"
    np.testing.assert_array_equal(wait_frame(qtbot, window).input, frame.input)


def test_open_a_model_from_the_menu_and_by_dropping_it_on_a_panel(
    make_window, weights_dir, tmp_path, qtbot, file_dialog
):
    window = make_window(ModelCatalog(weights_dir))  # its own catalog: this adds to it
    torch.manual_seed(1)
    model = build_model("p4cnn_rotpool")
    path = save_checkpoint(
        tmp_path / "my-run.pt", {"model_config": model.config, "state_dict": model.state_dict()}
    )
    file_dialog.append(str(path))
    key(qtbot, window, "Ctrl+Shift+O")  # File ▸ Open model… (into the right-hand panel)
    key_ = f"file:{path.resolve()}"
    assert window.state.panel_key(P4) == key_
    assert window.panels[P4].selector.currentText().endswith("my-run.pt")
    frame = wait_frame(qtbot, window)
    x = torch.from_numpy(frame.input)[None, None]
    with torch.no_grad():
        expected = torch.softmax(model.eval()(x), 1)[0].numpy()
    np.testing.assert_allclose(frame.panel(key_).probabilities, expected, atol=1e-5)
    assert drop_file(window.panels[Z2], path)  # onto the left-hand panel
    assert window.state.panel_key(Z2) == key_
    wait_frame(qtbot, window)


def test_train_pause_cancel_continue_save_and_open(
    make_window, weights_dir, tmp_path, qtbot, file_dialog, questions, errors
):
    """Ctrl+T → Start on (tiny) MNIST-rot → progress → Pause / Resume → Cancel: the
    checkpoint is kept and nothing reflows → Continue… finishes the run → Save model →
    Open model gives the same predictions."""
    data = tiny_mnist_rot(tmp_path / "data")
    window = make_window(ModelCatalog(weights_dir))
    window.resize(1024, 700)
    panel = window.train_panel
    panel.load_data = tiny_loader(data)
    panel.runs_dir = tmp_path / "runs"
    panel.report_every = 2
    panel.refresh_data_status()
    key(qtbot, window, "Ctrl+T")
    qtbot.waitUntil(lambda: window.train_dock.isVisible(), timeout=5000)
    panel.model_box.setCurrentIndex(panel.model_box.findData("z2cnn"))
    panel.batch.setValue(16)
    panel.epochs.setValue(10)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(100, loop.quit)
    loop.exec()

    def geometry():
        docks = [window.input_dock, window.train_dock, window.sweep_dock, window.inspector_dock]
        return [d.geometry() for d in docks] + [p.geometry() for p in window.panels]

    before = geometry()
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.last is not None and panel.last.step >= 3, timeout=20_000)
    assert panel.bar.value() > 0 and "Epoch 1 of 10" in panel.status.text()
    assert "x0." not in panel.loss_plot.getAxis("bottom").labelString()  # no SI prefix
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: "paused" in panel.status.text(), timeout=20_000)
    paused_at = panel.last.step
    click(qtbot, panel.pause_button)  # Resume
    qtbot.waitUntil(lambda: panel.last.step > paused_at + 2, timeout=20_000)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.cancel_button)
    cancelled = ended.args[0]
    assert cancelled.status == "cancelled" and cancelled.checkpoint.is_file()
    assert "checkpoint kept" in panel.status.text() and fits(panel.status)
    assert panel.status.toolTip().startswith(str(cancelled.checkpoint))
    assert load_checkpoint(cancelled.checkpoint).meta["complete"] is False
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(200, loop.quit)
    loop.exec()
    assert geometry() == before  # after Cancel nothing reflows
    # Continue… the cancelled run: it finishes, into a new file
    file_dialog.append(str(cancelled.checkpoint))
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as finished:
        click(qtbot, panel.continue_button)
    done = finished.args[0]
    assert done.status == "done" and not errors, (done.message, errors)
    assert panel.bar.value() == 1000 and "Done" in panel.status.text() and fits(panel.status)
    final = load_checkpoint(done.checkpoint).meta
    assert final["complete"] is True and len(final["metrics"]["history"]) == 10
    entry = window.state.catalog.get(panel.entry_key)
    assert window.state.panel_key(P4) == entry.key  # followed in the right-hand panel
    shown = wait_frame(qtbot, window).panel(entry.key).probabilities
    # File ▸ Save model…, then File ▸ Open model… that file: the same predictions
    saved = tmp_path / "saved-model.pt"
    file_dialog.append(str(saved))
    trigger(window, "File", "Save model")
    assert load_checkpoint(saved).meta["complete"] is True
    file_dialog.append(str(saved))
    trigger(window, "File", "Open model")
    reopened = f"file:{saved.resolve()}"
    assert window.state.panel_key(P4) == reopened
    again = wait_frame(qtbot, window).panel(reopened).probabilities
    np.testing.assert_allclose(again, shown, atol=1e-6)

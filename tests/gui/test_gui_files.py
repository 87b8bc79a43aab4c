"""Opening models and images, from menus and by drag & drop; bad files never stop the app."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.gui.files import MODEL_CAPTION  # noqa: E402
from gcnn_viewer.models import build_model  # noqa: E402
from gcnn_viewer.training.checkpoint import save_checkpoint  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402

from .conftest import click, drop_file, key, trigger, wait_frame  # noqa: E402


def checkpoint(path, name="p4cnn_rotpool", seed=1):
    torch.manual_seed(seed)
    model = build_model(name)
    return save_checkpoint(path, {"model_config": model.config, "state_dict": model.state_dict()})


def open_model(qtbot, window, file_dialog, path):
    """File ▸ Open model… (Ctrl+Shift+O), the dialog answered with ``path``."""
    file_dialog.append(str(path))
    key(qtbot, window, "Ctrl+Shift+O")


def test_bad_checkpoint_gives_a_one_line_dialog_and_the_app_goes_on(
    window, errors, tmp_path, qtbot, file_dialog
):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x80\x02 not really a checkpoint")
    keys = window.state.panel_keys
    open_model(qtbot, window, file_dialog, bad)
    assert len(errors) == 1
    title, text = errors[0]
    assert title == "Cannot open model" and "\n" not in text and "broken.pt" in text
    assert window.state.panel_keys == keys and window.worker.isRunning()
    click(qtbot, window.rotation.plus)  # still alive and computing
    assert wait_frame(qtbot, window).angle == 90


def test_foreign_and_mismatched_checkpoints_are_refused(
    window, errors, tmp_path, qtbot, file_dialog
):
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    mismatched = checkpoint(tmp_path / "mismatched.pt", "z2cnn")
    record = torch.load(mismatched, weights_only=True)
    record["model_config"] = {"name": "p4cnn", "channels": 10}
    torch.save(record, mismatched)
    keys = window.state.panel_keys
    open_model(qtbot, window, file_dialog, foreign)
    open_model(qtbot, window, file_dialog, mismatched)
    assert "foreign" in errors[0][1] and "do not match" in errors[1][1]
    assert window.state.panel_keys == keys


def test_open_a_checkpoint_into_a_panel(
    make_window, weights_dir, tmp_path, qtbot, errors, file_dialog
):
    window = make_window(ModelCatalog(weights_dir))  # its own catalog: this test adds to it
    path = checkpoint(tmp_path / "my-run.pt")
    panel = window.panels[0]
    file_dialog.append(str(path))
    key(qtbot, panel.selector, "End")  # the selector's last entry: "Open model…"
    assert file_dialog.opened == ["open: " + MODEL_CAPTION]
    assert not errors
    assert panel.entry.arch == "p4cnn_rotpool" and panel.selector.currentText().endswith(
        "my-run.pt"
    )
    assert window.panels[1].selector.findText(panel.selector.currentText()) >= 0
    assert wait_frame(qtbot, window).panels[0].key == f"file:{path.resolve()}"
    assert drop_file(window.panels[1], path)  # dropped over the right-hand panel
    assert window.state.panel_key(1) == f"file:{path.resolve()}"
    checkpoint(path, "p4cnn_rotpool", seed=2)  # retrained meanwhile: open it again
    before = window.panels[0].entry.probe()
    assert drop_file(window.panels[0], path)
    assert window.panels[0].maps.probe is not before  # new weights, new colour scales
    assert window.panels[1].maps.probe is window.panels[0].maps.probe
    wait_frame(qtbot, window)


def test_bad_image_is_refused_with_one_line(window, errors, tmp_path, qtbot, file_dialog):
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"definitely not a PNG")
    version = window.state.drawing.version
    file_dialog.append(str(bad))
    key(qtbot, window, "Ctrl+O")
    drop_file(window.canvas, bad)
    assert len(errors) == 2 and all(t == "Cannot open image" for t, _ in errors)
    assert all("\n" not in text and "photo.png" in text for _, text in errors)
    assert window.state.drawing.version == version  # nothing changed


def test_a_cancelled_dialog_changes_nothing(window, qtbot, file_dialog):
    version, keys = window.state.drawing.version, window.state.panel_keys
    file_dialog.extend(["", "", ""])  # the user closes each dialog
    key(qtbot, window, "Ctrl+O")
    trigger(window, "File", "Open model")
    trigger(window, "File", "Save model")
    assert len(file_dialog.opened) == 3
    assert window.state.drawing.version == version and window.state.panel_keys == keys


def test_dropping_something_that_is_not_a_file_is_refused(window):
    mime = QtCore.QMimeData()
    mime.setText("just text")
    enter = QtGui.QDragEnterEvent(
        QtCore.QPoint(100, 100),
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()

"""Opening models and images, from menus and by drag & drop; bad files never stop the app."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6 import QtCore, QtGui  # noqa: E402

from gcnn_viewer.models import build_model  # noqa: E402
from gcnn_viewer.training.checkpoint import save_checkpoint  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402

from .conftest import wait_frame  # noqa: E402


def checkpoint(path, name="p4cnn_rotpool", seed=1):
    torch.manual_seed(seed)
    model = build_model(name)
    return save_checkpoint(path, {"model_config": model.config, "state_dict": model.state_dict()})


def drop(window, path, where=None):
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = where if where is not None else QtCore.QPointF(window.width() - 50, 300)
    event = QtGui.QDropEvent(
        pos,
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_bad_checkpoint_gives_a_one_line_dialog_and_the_app_goes_on(
    window, errors, tmp_path, qtbot
):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x80\x02 not really a checkpoint")
    keys = window.state.panel_keys
    assert window.open_model(bad) is False
    assert len(errors) == 1
    title, text = errors[0]
    assert title == "Cannot open model" and "\n" not in text and "broken.pt" in text
    assert window.state.panel_keys == keys and window.worker.isRunning()
    window.state.angle = 90  # still alive and computing
    assert wait_frame(qtbot, window).angle == 90


def test_foreign_and_mismatched_checkpoints_are_refused(window, errors, tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    mismatched = checkpoint(tmp_path / "mismatched.pt", "z2cnn")
    record = torch.load(mismatched, weights_only=True)
    record["model_config"] = {"name": "p4cnn", "channels": 10}
    torch.save(record, mismatched)
    assert not window.open_model(foreign) and not window.open_model(mismatched)
    assert "foreign" in errors[0][1] and "do not match" in errors[1][1]


def test_open_a_checkpoint_into_a_panel(make_window, weights_dir, tmp_path, qtbot, errors):
    window = make_window(ModelCatalog(weights_dir))  # its own catalog: this test adds to it
    path = checkpoint(tmp_path / "my-run.pt")
    assert window.open_model(path, panel=0)
    assert not errors
    panel = window.panels[0]
    assert panel.entry.arch == "p4cnn_rotpool" and panel.selector.currentText().endswith(
        "my-run.pt"
    )
    assert window.panels[1].selector.findText(panel.selector.currentText()) >= 0
    assert wait_frame(qtbot, window).panels[0].key == f"file:{path.resolve()}"
    drop(window, path)  # dropped over the right-hand panel
    assert window.state.panel_key(1) == f"file:{path.resolve()}"
    checkpoint(path, "p4cnn_rotpool", seed=2)  # retrained meanwhile: open it again
    before = window.panels[0].entry.probe()
    assert window.open_model(path, panel=0)
    assert window.panels[0].maps.probe is not before  # new weights, new colour scales
    assert window.panels[1].maps.probe is window.panels[0].maps.probe
    wait_frame(qtbot, window)


def test_bad_image_is_refused_with_one_line(window, errors, tmp_path):
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"definitely not a PNG")
    version = window.state.drawing.version
    assert window.open_image(bad) is False
    drop(window, bad)
    assert len(errors) == 2 and all(t == "Cannot open image" for t, _ in errors)
    assert all("\n" not in text and "photo.png" in text for _, text in errors)
    assert window.state.drawing.version == version  # nothing changed


def test_open_an_image_by_drag_and_drop(window, qtbot, tmp_path):
    paper = np.full((120, 90), 255, np.uint8)  # black ink on white paper, not 28×28
    paper[20:100, 40:52] = 0
    path = tmp_path / "one.png"
    Image.fromarray(paper).save(path)
    drop(window, path)
    assert window.state.drawing.source == "one.png"
    frame = wait_frame(qtbot, window)
    assert frame.input.max() > 0.9 and frame.input[0, 0] == 0  # white on black, centred
    window.act_undo.trigger()
    assert window.state.drawing.source.startswith("sample 7")

"""The Train panel: training on a worker thread with live progress, pause / resume, cancel,
errors as dialogs, a clean stop on close; the result is selectable, savable and reopenable."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

from gcnn_viewer.training import Trainer, load_checkpoint  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from tests.training.conftest import tiny_datasets  # noqa: E402

from .conftest import wait_frame  # noqa: E402

RUN_TIMEOUT_MS = 20_000


@pytest.fixture
def questions(monkeypatch):
    """QMessageBox.question answers from this list (default Yes), recorded, never shown."""
    asked, answers = [], []

    def question(parent, title, text, *args, **kwargs):
        asked.append((title, text))
        yes = answers.pop(0) if answers else True
        b = QtWidgets.QMessageBox.StandardButton
        return b.Yes if yes else b.No

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(question))
    return asked, answers


@pytest.fixture
def trainer_window(make_window, weights_dir, tmp_path, questions):
    window = make_window(ModelCatalog(weights_dir))  # its own catalog: training adds to it
    panel = window.train_panel
    panel.load_data = lambda _say: tiny_datasets()
    panel.runs_dir = tmp_path / "runs"
    panel.report_every = 1
    panel.snapshot_every = 1
    panel.snapshot_min_interval_s = 0.0
    panel.refresh_data_status()
    panel.model_box.setCurrentIndex(panel.model_box.findData("z2cnn"))
    panel.batch.setValue(16)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    window.show_training()
    return window


def test_train_progress_then_the_model_is_selectable_and_saves_and_reopens(
    trainer_window, qtbot, errors, tmp_path
):
    window, panel = trainer_window, trainer_window.train_panel
    panel.epochs.setValue(2)
    seen = []
    panel.progressShown.connect(seen.append)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        assert panel.start()
        assert panel.running and not panel.start_button.isEnabled()
    result = ended.args[0]
    assert result.status == "done" and not errors
    assert not panel.running and panel.worker.isFinished()
    kinds = [p.kind for p in seen]
    assert "step" in kinds and kinds.count("epoch") == 2 and kinds[-1] == "done"
    assert panel.bar.value() == 1000 and "Done" in panel.status.text()
    assert len(panel.curves["loss"]) == len(seen) and len(panel.curves["valid"]) == 2
    # in the catalog, in both selectors, shown on the right (followed while training)
    entry = window.state.catalog.get(panel.entry_key)
    assert entry.path == result.checkpoint and entry.source.startswith("trained in the app")
    assert window.state.panel_key(1) == entry.key
    for p in window.panels:
        assert p.selector.findData(entry.key) >= 0
    window.set_panel_model(0, entry.key)
    frame = wait_frame(qtbot, window)
    assert frame.panels[0].key == entry.key
    # File ▸ Save model… writes our format; opening it gives the same predictions
    saved = tmp_path / "saved.pt"
    assert window.save_model(saved, panel=1)
    assert load_checkpoint(saved).meta["complete"] is True
    assert window.open_model(saved, panel=0)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        a = entry.model(x).numpy()
        b = window.state.panel_entry(0).model(x).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_pause_and_resume(trainer_window, qtbot):
    panel = trainer_window.train_panel
    panel.epochs.setValue(12)
    panel.start()
    qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
    panel.pause_button.click()  # Pause
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: "paused" in panel.status.text(), timeout=RUN_TIMEOUT_MS)
    step = panel.last.step
    qtbot.wait(300)
    assert panel.last.step == step and panel.running
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        panel.pause_button.click()  # Resume
        assert panel.pause_button.text() == "Pause"
    assert ended.args[0].status == "done" and panel.last.step > step


def test_cancel_keeps_a_loadable_checkpoint(trainer_window, qtbot):
    window, panel = trainer_window, trainer_window.train_panel
    panel.epochs.setValue(200)
    panel.start()
    qtbot.waitUntil(lambda: panel.last is not None and panel.last.epoch >= 1, timeout=20_000)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        panel.cancel_button.click()
    result = ended.args[0]
    assert result.status == "cancelled" and result.checkpoint.is_file()
    assert "checkpoint kept" in panel.status.text()
    checkpoint = load_checkpoint(result.checkpoint)
    assert checkpoint.meta["complete"] is False
    assert Trainer.resume(result.checkpoint, tiny_datasets()).epoch >= 1
    entry = window.state.catalog.get(panel.entry_key)
    assert entry.source.startswith("cancelled run") and panel.start_button.isEnabled()
    # Continue…: the same run carries on exactly, into a new file; the old one is kept
    stopped_at = result.last.step
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as again:
        assert panel.start(resume_from=result.checkpoint)
        qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
        assert panel.last.step > stopped_at and len(panel.curves["valid"]) >= 1
        panel.cancel()
    continued = again.args[0]
    assert continued.status == "cancelled" and continued.checkpoint != result.checkpoint
    assert "continued" in continued.checkpoint.name
    assert load_checkpoint(result.checkpoint).meta["complete"] is False


def test_a_worker_error_becomes_a_one_line_dialog_and_the_app_goes_on(
    trainer_window, qtbot, errors
):
    window, panel = trainer_window, trainer_window.train_panel

    def broken(_say):
        raise OSError("no space left on device\ndetails")

    panel.load_data = broken
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        panel.start()
    assert ended.args[0].status == "failed"
    assert errors == [("Training failed", "OSError: no space left on device")]
    assert window.worker.isRunning() and panel.start_button.isEnabled()
    window.state.angle = 90
    assert wait_frame(qtbot, window).angle == 90


def test_closing_mid_run_asks_then_stops_the_thread(trainer_window, qtbot, questions):
    window, panel = trainer_window, trainer_window.train_panel
    asked, answers = questions
    panel.epochs.setValue(500)
    panel.start()
    qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
    answers.append(False)  # "No": keep training, keep the window
    assert not window.close()
    assert asked and panel.running and window.isVisible()
    assert window.close()  # "Yes"
    assert len(asked) == 2
    assert not panel.worker.isRunning() and not window.worker.isRunning()
    assert panel.session.cancelled
    assert load_checkpoint(panel.session.checkpoint_path).meta["complete"] is False


def test_without_cached_data_start_offers_to_fetch(make_window, weights_dir, questions):
    window = make_window(ModelCatalog(weights_dir))
    panel = window.train_panel
    asked, answers = questions
    assert "not in the cache" in panel.data_label.text()
    assert not panel.fetch_button.isHidden()
    answers.append(False)
    assert not panel.start()
    assert asked[0][0] == "Fetch MNIST-rot?" and "data fetch" in panel.status.text()
    assert not panel.running


def test_continuing_a_finished_model_fine_tunes_it(trainer_window, qtbot, errors):
    panel = trainer_window.train_panel
    panel.epochs.setValue(1)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        panel.start()
    finished = ended.args[0].checkpoint
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as tuned:
        assert panel.start(resume_from=finished)
    result = tuned.args[0]
    assert result.status == "done" and not errors
    record = load_checkpoint(result.checkpoint).meta
    assert "finetuned" in result.checkpoint.name and record["protocol"] == "custom"
    assert record["train_config"]["init_from"] == str(finished)


def test_fetching_the_data_reports_progress_and_says_what_to_do_when_it_cannot(
    make_window, weights_dir, qtbot, errors, monkeypatch
):
    import gcnn_viewer.data as data
    from gcnn_viewer.data import DataError

    window = make_window(ModelCatalog(weights_dir))
    panel = window.train_panel

    def offline(progress=None, **kwargs):
        progress("trying mirror 1")
        raise DataError("MNIST is not available; tried cache, mirrors: offline")

    monkeypatch.setattr(data, "load_mnist_rot", offline)
    panel.fetch_data()
    qtbot.waitUntil(lambda: not panel.busy and "Could not" in panel.status.text(), timeout=10_000)
    assert errors == [
        ("Cannot get MNIST-rot", "MNIST is not available; tried cache, mirrors: offline")
    ]
    assert "gcnn-viewer data fetch --from" in panel.status.text()
    assert panel.start_button.isEnabled()

    monkeypatch.setattr(data, "load_mnist_rot", lambda progress=None, **kw: progress("done"))
    panel.fetch_data()
    qtbot.waitUntil(lambda: "ready" in panel.status.text(), timeout=10_000)

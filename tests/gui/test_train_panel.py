"""The Train panel, driven through its buttons: training on a worker thread with live progress,
pause / resume, cancel, errors as dialogs, a clean stop on close; the result is selectable,
savable and reopenable. Every action is a click (tests/gui/conftest.py's rule)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from gcnn_viewer.gui.files import MODEL_CAPTION  # noqa: E402
from gcnn_viewer.training import Trainer, load_checkpoint  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from tests.training.conftest import tiny_datasets  # noqa: E402

from .conftest import click, key, trigger, wait_frame  # noqa: E402

RUN_TIMEOUT_MS = 20_000


def test_clicking_start_trains_then_the_model_is_selectable_and_saves_and_reopens(
    trainer_window, qtbot, errors, tmp_path, file_dialog
):
    window, panel = trainer_window, trainer_window.train_panel
    panel.epochs.setValue(2)
    seen = []
    panel.progressShown.connect(seen.append)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)  # clicked(bool) once reached start(resume_from=False)
        assert panel.running and not panel.start_button.isEnabled()
    result = ended.args[0]
    assert result.status == "done" and not errors
    assert not panel.running and panel.worker.isFinished()
    kinds = [p.kind for p in seen]
    assert "step" in kinds and kinds.count("epoch") == 2 and kinds[-1] == "done"
    assert panel.bar.value() == 1000 and "Done" in panel.status.text()
    trained = [p for p in seen if p.kind in ("step", "epoch")]
    assert len(panel.curves.loss) == len(trained) and len(panel.curves.valid) == 2
    # in the catalog, in both selectors, shown on the right (followed while training)
    entry = window.state.catalog.get(panel.entry_key)
    assert entry.path == result.checkpoint and entry.source.startswith("trained in the app")
    assert window.state.panel_key(1) == entry.key
    for p in window.panels:
        assert p.selector.findData(entry.key) >= 0
    # File ▸ Save model… (Ctrl+S) writes our format; File ▸ Open model… into the left panel
    saved = tmp_path / "saved.pt"
    file_dialog.append(str(saved))
    key(qtbot, window, "Ctrl+S")
    assert load_checkpoint(saved).meta["complete"] is True
    file_dialog.append(str(saved))
    trigger(window, "File", "Open model")
    assert file_dialog.opened == [
        "save: Save the model as a checkpoint",
        f"open: {MODEL_CAPTION}",
    ]
    assert window.state.panel_entry(1).path == saved.resolve()
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        a = entry.model(x).numpy()
        b = window.state.panel_entry(1).model(x).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)
    wait_frame(qtbot, window)


def test_pause_and_resume(trainer_window, qtbot):
    panel = trainer_window.train_panel
    panel.epochs.setValue(12)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
    click(qtbot, panel.pause_button)  # Pause
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: "paused" in panel.status.text(), timeout=RUN_TIMEOUT_MS)
    step = panel.last.step
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(300, loop.quit)
    loop.exec()
    assert panel.last.step == step and panel.running
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.pause_button)  # Resume
        assert panel.pause_button.text() == "Pause"
    assert ended.args[0].status == "done" and panel.last.step > step


def test_cancel_keeps_a_loadable_checkpoint_and_continue_carries_on(
    trainer_window, qtbot, file_dialog
):
    window, panel = trainer_window, trainer_window.train_panel
    panel.epochs.setValue(200)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.last is not None and panel.last.epoch >= 1, timeout=20_000)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.cancel_button)
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
    file_dialog.append(str(result.checkpoint))
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as again:
        click(qtbot, panel.continue_button)
        qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
        assert panel.last.step > stopped_at and len(panel.curves.valid) >= 1
        click(qtbot, panel.cancel_button)
    continued = again.args[0]
    assert continued.status == "cancelled" and continued.checkpoint != result.checkpoint
    assert "continued" in continued.checkpoint.name
    assert load_checkpoint(result.checkpoint).meta["complete"] is False


def test_continue_with_the_dialog_cancelled_starts_nothing(trainer_window, qtbot, file_dialog):
    panel = trainer_window.train_panel
    file_dialog.append("")  # the user closes the dialog
    click(qtbot, panel.continue_button)
    assert not panel.running and panel.session is None and file_dialog.opened


def test_a_worker_error_becomes_a_one_line_dialog_and_the_app_goes_on(
    trainer_window, qtbot, errors
):
    window, panel = trainer_window, trainer_window.train_panel

    def broken(_say):
        raise OSError("no space left on device\ndetails")

    panel.load_data = broken
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)
    assert ended.args[0].status == "failed"
    assert errors == [("Training failed", "OSError: no space left on device")]
    assert window.worker.isRunning() and panel.start_button.isEnabled()
    click(qtbot, window.rotation.plus)
    assert wait_frame(qtbot, window).angle == 90


def test_closing_mid_run_asks_then_stops_the_thread(trainer_window, qtbot, questions):
    window, panel = trainer_window, trainer_window.train_panel
    asked, answers = questions
    panel.epochs.setValue(500)
    click(qtbot, panel.start_button)
    qtbot.waitUntil(lambda: panel.last is not None, timeout=RUN_TIMEOUT_MS)
    answers.append(False)  # "No": keep training, keep the window
    trigger(window, "File", "Quit")
    assert asked and panel.running and window.isVisible()
    key(qtbot, window, "Ctrl+Q")  # "Yes"
    assert not window.isVisible() and len(asked) == 2
    assert not panel.worker.isRunning() and not window.worker.isRunning()
    assert panel.session.cancelled
    assert load_checkpoint(panel.session.checkpoint_path).meta["complete"] is False


def test_without_cached_data_start_offers_to_fetch(make_window, weights_dir, qtbot, questions):
    window = make_window(ModelCatalog(weights_dir))
    panel = window.train_panel
    asked, answers = questions
    key(qtbot, window, "Ctrl+T")
    assert window.train_dock.isVisible()
    assert "not in the cache" in panel.data_label.text()
    assert not panel.fetch_button.isHidden()
    answers.append(False)
    click(qtbot, panel.start_button)
    assert asked[0][0] == "Fetch MNIST-rot?" and "data fetch" in panel.status.text()
    assert not panel.running


def test_continuing_a_finished_model_fine_tunes_it(trainer_window, qtbot, errors, file_dialog):
    panel = trainer_window.train_panel
    panel.epochs.setValue(1)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)
    finished = ended.args[0].checkpoint
    shown = trainer_window.state.panel_key(1)
    click(qtbot, panel.follow)  # do not show the fine-tuned model as it learns
    assert not panel.follow.isChecked()
    file_dialog.append(str(finished))
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS) as tuned:
        click(qtbot, panel.continue_button)
    result = tuned.args[0]
    assert result.status == "done" and not errors
    record = load_checkpoint(result.checkpoint).meta
    assert "finetuned" in result.checkpoint.name and record["protocol"] == "custom"
    assert record["train_config"]["init_from"] == str(finished)
    assert trainer_window.state.panel_key(1) == shown  # not followed


def test_fetch_moves_the_bar_and_says_what_to_do_when_it_cannot(
    make_window, weights_dir, qtbot, errors, monkeypatch
):
    import gcnn_viewer.data as data
    from gcnn_viewer.data import DataError

    window = make_window(ModelCatalog(weights_dir))
    panel = window.train_panel
    key(qtbot, window, "Ctrl+T")

    def offline(progress=None, **kwargs):
        progress("trying mirror 1")
        raise DataError("MNIST is not available; tried cache, mirrors: offline")

    monkeypatch.setattr(data, "load_mnist_rot", offline)
    click(qtbot, panel.fetch_button)
    qtbot.waitUntil(lambda: not panel.busy and "Could not" in panel.status.text(), timeout=10_000)
    assert errors == [
        ("Cannot get MNIST-rot", "MNIST is not available; tried cache, mirrors: offline")
    ]
    assert "gcnn-viewer data fetch --from" in panel.status.text()
    assert panel.start_button.isEnabled()

    # the data layer reports counts as text: the bar follows them
    values = []
    panel.bar.valueChanged.connect(values.append)

    def counting(progress=None, **kwargs):
        for i in range(0, 62000, 12400):
            progress(f"rotating digits {i}/62000")

    monkeypatch.setattr(data, "load_mnist_rot", counting)
    click(qtbot, panel.fetch_button)
    qtbot.waitUntil(lambda: "ready" in panel.status.text(), timeout=10_000)
    assert 400 in values and 800 in values and panel.bar.value() == 1000


def test_end_of_run_passes_show_in_the_status_and_the_bar(trainer_window, qtbot):
    """The "finishing" records (BN statistics, evaluations) move the bar and say which pass
    is running, and add no point to the curves."""
    panel = trainer_window.train_panel
    panel.epochs.setValue(1)
    shown = []
    panel.progressShown.connect(
        lambda p: shown.append((p, panel.status.text(), panel.bar.format()))
    )
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.start_button)
    finishing = [(p, text, bar) for p, text, bar in shown if p.kind == "finishing"]
    assert finishing, "no finishing records arrived"
    for p, text, bar in finishing:
        assert p.phase in text and p.phase in bar
    assert len(panel.curves.x) == panel.last.steps_total  # steps only (report_every = 1)

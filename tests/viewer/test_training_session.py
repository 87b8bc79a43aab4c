"""The Qt-free training session: the CLI's generator with pause / resume / cancel and
throttled weight snapshots, on a tiny synthetic dataset."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from gcnn_viewer.errors import CheckpointError
from gcnn_viewer.models import build_model
from gcnn_viewer.training import Progress, TrainConfig, Trainer, load_checkpoint
from gcnn_viewer.viewer.training import (
    TrainingSession,
    device_choices,
    eta_seconds,
    failure_message,
    format_duration,
    plan_run,
    save_model_file,
)
from tests.training.conftest import tiny_datasets


def session(tmp_path, epochs=2, model="z2cnn", **kwargs) -> TrainingSession:
    config = TrainConfig(model=model, epochs=epochs, batch_size=16, device="cpu")
    kwargs.setdefault("report_every", 1)
    return TrainingSession(config, lambda _say: tiny_datasets(), tmp_path / "run.pt", **kwargs)


def test_a_run_yields_the_generators_records_and_a_complete_checkpoint(tmp_path):
    s = session(tmp_path, snapshot_every=1, snapshot_min_interval_s=0)
    records, snaps = [], []
    s.on_progress, s.on_snapshot = records.append, snaps.append
    result = s.run()
    assert result.status == "done" and result.message == ""
    kinds = [r.kind for r in records]
    assert kinds.count("epoch") == 2 and kinds[-1] == "done" and "step" in kinds
    assert records[-1].fraction == 1.0 and result.checkpoint == tmp_path / "run.pt"
    assert load_checkpoint(result.checkpoint).meta["complete"] is True
    # snapshots: detached CPU copies, one at the start, and a model that rebuilds from them
    assert snaps[0].step == 0 and snaps[-1].step == records[-1].step
    assert all(
        not t.requires_grad and t.device.type == "cpu" for t in snaps[-1].state_dict.values()
    )
    rebuilt = snaps[-1].build()
    assert rebuilt.name == "z2cnn" and not rebuilt.training


def test_snapshots_are_throttled(tmp_path):
    s = session(tmp_path, epochs=3, snapshot_every=1000, snapshot_min_interval_s=3600)
    snaps = []
    s.on_snapshot = snaps.append
    assert s.run().status == "done"
    assert len(snaps) == 2  # the start and the end only


def test_pause_waits_at_a_step_boundary_and_resume_carries_on(tmp_path):
    s = session(tmp_path, epochs=3)
    paused = threading.Event()
    seen: list[Progress] = []

    def on_progress(p):
        seen.append(p)
        if len(seen) == 2:
            s.pause()

    s.on_progress = on_progress
    s.on_paused = lambda on: paused.set() if on else None
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", s.run()))
    thread.start()
    assert paused.wait(30)
    count = len(seen)
    thread.join(0.3)
    assert thread.is_alive() and len(seen) == count and s.paused  # really waiting
    s.resume()
    thread.join(30)
    assert not thread.is_alive() and out["r"].status == "done"


def test_cancel_keeps_a_loadable_resumable_checkpoint(tmp_path):
    s = session(tmp_path, epochs=4)
    records = []

    def on_progress(p):
        records.append(p)
        if p.kind == "epoch" and p.epoch == 1:
            s.cancel()

    s.on_progress = on_progress
    result = s.run()
    assert result.status == "cancelled" and result.checkpoint is not None
    checkpoint = load_checkpoint(result.checkpoint)
    assert checkpoint.meta["complete"] is False and checkpoint.name == "z2cnn"
    trainer = Trainer.resume(result.checkpoint, tiny_datasets(), report_every=1)
    assert trainer.epoch == 1 and trainer.global_step == records[-1].step
    # weights in the file are the trainer's at the moment it stopped
    assert list(trainer.run())[-1].kind == "done"


def test_cancel_while_paused_stops(tmp_path):
    s = session(tmp_path, epochs=5)
    s.on_progress = lambda p: s.pause()
    s.on_paused = lambda on: s.cancel() if on else None
    assert s.run().status == "cancelled"


def test_an_exception_becomes_one_line_and_out_of_memory_is_explained(tmp_path):
    def broken(_say):
        raise RuntimeError("disk on fire\nsecond line")

    s = TrainingSession(TrainConfig(model="z2cnn", epochs=1), broken, tmp_path / "x.pt")
    result = s.run()
    assert result.status == "failed" and result.message == "RuntimeError: disk on fire"
    oom = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    text = failure_message(oom, "cuda:0")
    assert "out of memory on cuda:0" in text and "batch size" in text and "\n" not in text


def test_a_failure_during_training_is_caught(tmp_path, monkeypatch):
    s = session(tmp_path)

    def explode(p):
        if p.kind == "step":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    s.on_progress = explode
    result = s.run()
    assert result.status == "failed" and "out of memory" in result.message


def test_helpers():
    choices = device_choices()
    assert choices[0][1] == "auto" and choices[-1][1] == "cpu"
    assert format_duration(None) == "—" and format_duration(3725) == "1:02:05"
    assert format_duration(65) == "1:05"
    p = Progress("step", 0, 2, 10, 40, 1.0, 0.5, 100.0, 5.0, 1e-3)
    assert eta_seconds(p) == pytest.approx(15.0)


def test_save_model_file_round_trips(tmp_path):
    torch.manual_seed(3)
    model = build_model("p4cnn").eval()
    path = save_model_file(model, tmp_path / "m.pt")
    again = load_checkpoint(path).model
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), again(x).numpy(), atol=1e-6)
    copy = save_model_file(again, tmp_path / "copy.pt", source=path)
    assert load_checkpoint(copy).meta["model_config"]["name"] == "p4cnn"


def test_the_training_thread_can_be_made_nicer():
    import os

    from gcnn_viewer.viewer.training import lower_thread_priority

    if not hasattr(os, "setpriority"):
        pytest.skip("no per-thread priorities here")
    seen = {}

    def body():
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        seen["ok"] = lower_thread_priority(3)
        seen["delta"] = os.getpriority(os.PRIO_PROCESS, tid) - before
        seen["main"] = os.getpriority(os.PRIO_PROCESS, threading.main_thread().native_id)

    main_before = os.getpriority(os.PRIO_PROCESS, threading.main_thread().native_id)
    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen["ok"] and 0 < seen["delta"] <= 3 and seen["main"] == main_before


def test_a_cancel_during_the_end_of_run_passes_keeps_the_trained_epochs(tmp_path):
    """Cancel while the run is finishing (BN statistics, evaluations): the checkpoint keeps
    every trained epoch and is incomplete; resuming it only does the missing passes."""
    s = session(tmp_path, epochs=2)
    seen = []

    def on_progress(p):
        seen.append(p.kind)
        if p.kind == "finishing":
            s.cancel()  # from the worker's own callback: the very next boundary stops

    s.on_progress = on_progress
    result = s.run()
    assert "finishing" in seen, "the run yielded no finishing records, so nothing was tested"
    assert result.status == "cancelled" and "done" not in seen
    meta = load_checkpoint(result.checkpoint).meta
    assert meta["complete"] is False and len(meta["metrics"]["history"]) == 2
    again = TrainingSession(
        TrainConfig(model="z2cnn", epochs=2, batch_size=16, device="cpu"),
        lambda _say: tiny_datasets(),
        tmp_path / "continued.pt",
        report_every=1,
        resume_from=result.checkpoint,
    )
    kinds = []
    again.on_progress = lambda p: kinds.append(p.kind)
    finished = again.run()
    assert finished.status == "done", finished.message
    assert "step" not in kinds and "epoch" not in kinds and kinds[-1] == "done"
    assert load_checkpoint(finished.checkpoint).meta["complete"] is True


def test_plan_run_names_a_new_run_and_never_writes_over_a_file(tmp_path):
    settings = TrainConfig(model="p4cnn", epochs=3, seed=7, device="cpu")
    plan = plan_run(settings, tmp_path, stamp="20261205-120000", number=2)
    assert plan.action == "train" and plan.config == settings
    assert plan.checkpoint_path == tmp_path / "p4cnn-seed7-20261205-120000-2.pt"
    assert plan.threads is not None and plan.threads >= 1  # CPU: the training threads are set


def test_plan_run_continues_an_unfinished_run_with_its_own_settings(tmp_path):
    s = session(tmp_path, epochs=4)
    s.on_progress = lambda p: s.cancel() if p.kind == "epoch" and p.epoch == 1 else None
    unfinished = s.run().checkpoint
    panel = TrainConfig(model="p4cnn", epochs=99, batch_size=64, device="cpu")
    plan = plan_run(panel, tmp_path, unfinished, stamp="S")
    assert plan.action == "continue" and plan.resume_from == unfinished
    # the run's own settings (its model, epochs, batch), on the panel's device
    assert plan.config.model == "z2cnn" and plan.config.epochs == 4
    assert plan.config.batch_size == 16 and len(plan.history) == 1
    assert plan.checkpoint_path == tmp_path / "run-continued-S.pt"


def test_plan_run_fine_tunes_a_saved_model_with_the_panels_settings(tmp_path):
    saved = save_model_file(build_model("p4cnn").eval(), tmp_path / "mine.pt")
    panel = TrainConfig(model="z2cnn", epochs=5, device="cpu")
    plan = plan_run(panel, tmp_path, saved, stamp="S")
    assert plan.action == "fine-tune" and plan.fine_tune == saved
    # the architecture is the file's; the rest is the panel's
    assert plan.config.model == "p4cnn" and plan.config.epochs == 5
    assert plan.config.init_from == str(saved)
    assert plan.checkpoint_path == tmp_path / "mine-finetuned-S.pt"


def test_plan_run_rejects_an_unusable_file_in_one_line(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError) as info:
        plan_run(TrainConfig(device="cpu"), tmp_path, bad)
    assert "\n" not in str(info.value) and "bad.pt" in str(info.value)

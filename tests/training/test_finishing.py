"""The end of a run: the trained epoch is saved before the BN pass and the evaluations, which
report progress, can be stopped and resumed, and are opt-in beyond the reported error; a run
whose loss diverges stops, keeping its last good checkpoint."""

import pytest
import torch

from gcnn_viewer.training import (
    TrainConfig,
    Trainer,
    TrainingError,
    load_checkpoint,
    read_checkpoint,
)
from tests.training.conftest import cfg


def phases(records):
    return list(dict.fromkeys(r.phase for r in records if r.kind == "finishing"))


def test_the_trained_epoch_is_saved_before_the_end_of_run_passes(tiny, tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(cfg(), tiny, checkpoint_path=path)
    run = trainer.run()
    records = []
    for record in run:
        records.append(record)
        if record.kind == "finishing":
            break
    # a SIGKILL now would keep the epoch: it is on disk, resumable, before any final pass
    saved = read_checkpoint(path)
    assert not saved["complete"] and saved["resume"]["epoch"] == 1
    assert saved["resume"]["step_in_epoch"] == 0
    records += list(run)
    assert [r.kind for r in records][-1] == "done"
    finishing = [r for r in records if r.kind == "finishing"]
    assert phases(records) == ["BN statistics", "test error", "valid error"]
    for name in phases(records):  # each pass counts its batches from 0 to its total
        counts = [(r.phase_done, r.phase_total) for r in finishing if r.phase == name]
        total = counts[0][1]
        assert counts[0][0] == 0 and counts[-1] == (total, total) and total >= 1
        assert [done for done, _ in counts] == list(range(total + 1))
    assert all(r.epoch == 1 and r.epochs == 1 for r in finishing)
    assert read_checkpoint(path)["complete"]


def test_diagnostics_are_opt_in(tiny):
    plain = list(Trainer(cfg(), tiny).run())
    with_diagnostics = Trainer(cfg(diagnostics=True), tiny)
    records = list(with_diagnostics.run())
    assert phases(records) == [
        "test error, BN running averages",
        "BN statistics, eval mode",
        "test error, BN from eval mode",
        "BN statistics",
        "test error",
        "valid error",
    ]
    assert len(phases(plain)) == 3
    final = with_diagnostics.final
    assert {"test_error_running_stats", "test_error_eval_recalibration"} <= set(final)
    # the reported number does not depend on the diagnostics
    assert final["test_error"] == plain[-1].test_error
    assert cfg(diagnostics=True).protocol == cfg().protocol
    assert TrainConfig(model="p4cnn", diagnostics=True).protocol == "faithful"


def test_stopping_during_the_final_passes_keeps_the_epoch_and_resume_finishes_it(tiny, tmp_path):
    """Stop in the middle of the BN pass: the model gets its trained weights back, a save
    writes those, and resuming runs only the missing passes, to the same result as a run that
    was never stopped."""
    full = Trainer(cfg(), tiny)
    list(full.run())

    path = tmp_path / "run.pt"
    trainer = Trainer(cfg(), tiny, checkpoint_path=path)
    run = trainer.run()
    for record in run:
        if record.kind == "epoch":
            trained = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        if record.kind == "finishing" and record.phase_done == 2:
            break
    assert not torch.equal(trainer.model.bns[0].running_mean, trained["bns.0.running_mean"])
    trainer.save()  # as the CLI does on Ctrl-C: the trained weights, not half-recalibrated
    run.close()
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, trained[key]), key
    saved = read_checkpoint(path)
    assert not saved["complete"] and saved["resume"]["epoch"] == 1
    for key, value in saved["state_dict"].items():
        assert torch.equal(value, trained[key]), key

    resumed = Trainer.resume(path, tiny)
    records = list(resumed.run())
    assert [r.kind for r in records if r.kind != "finishing"] == ["done"]  # no training
    assert resumed.final["test_error"] == full.final["test_error"]
    assert resumed.final["valid_error"] == full.final["valid_error"]
    for (key, a), b in zip(
        full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), key
    assert read_checkpoint(path)["complete"]


def test_a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny, tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(cfg(epochs=3), tiny, checkpoint_path=path, report_every=1)
    run = trainer.run()
    for record in run:
        if record.kind == "epoch":
            break
    good = path.read_bytes()
    with torch.no_grad():  # as an lr of 1e30 would, a few steps later
        trainer.model.convs[2].weight.fill_(float("inf"))
    with pytest.raises(TrainingError) as info:
        list(run)
    message = str(info.value)
    assert "\n" not in message
    assert "loss became nan" in message and f"{path} (epoch 1)" in message and "--lr" in message
    assert path.read_bytes() == good  # never overwritten with garbage
    with pytest.raises(TrainingError, match="not saving"):
        trainer.save()
    assert path.read_bytes() == good
    assert load_checkpoint(path).model is not None


def test_a_diverging_first_epoch_says_nothing_was_saved(tiny, tmp_path):
    trainer = Trainer(cfg(lr=1.0), tiny, checkpoint_path=tmp_path / "run.pt", report_every=1)
    with torch.no_grad():
        trainer.model.top.weight.fill_(float("nan"))
    with pytest.raises(TrainingError, match="no checkpoint was written"):
        list(trainer.run())
    assert not (tmp_path / "run.pt").exists()

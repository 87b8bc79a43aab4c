import math
from functools import partial

import pytest
import torch

from gcnn_viewer.training import (
    CheckpointError,
    TrainConfig,
    Trainer,
    evaluate,
    load_checkpoint,
    read_checkpoint,
    to_tensor,
)
from gcnn_viewer.training.loop import recalibrate_batch_norm, rotate_batch
from tests.training.conftest import cfg as small_run

cfg = partial(small_run, epochs=2)


def test_generator_yields_progress_and_lowers_the_loss(tiny):
    trainer = Trainer(cfg(epochs=6, lr=3e-3), tiny, report_every=1)
    records = list(trainer.run())
    kinds = [r.kind for r in records]
    assert kinds[-1] == "done" and kinds.count("epoch") == 6
    steps = [r.step for r in records]
    assert steps == sorted(steps) and steps[-1] == trainer.steps_total == 6 * 3
    epochs = [r for r in records if r.kind == "epoch"]
    assert epochs[-1].loss < 0.8 * epochs[0].loss
    assert all(r.images_per_s > 0 and r.elapsed > 0 for r in epochs)
    assert all(r.valid_error is not None for r in epochs)
    done = records[-1]
    # the reported error is the final model's on the test split, measured independently here
    images, labels = tiny.test
    measured = evaluate(trainer.model, to_tensor(images, torch.device("cpu")), torch.tensor(labels))
    assert done.test_error == measured == trainer.final["test_error"] and done.fraction == 1.0
    assert trainer.final["n_test"] == 16 and trainer.final["bn_recalibration"] == "paper"
    # the diagnostic evaluations are opt-in (TrainConfig.diagnostics; on in reproduce)
    assert not {"test_error_running_stats", "test_error_eval_recalibration"} & set(trainer.final)


def test_protocol_names_only_the_papers_settings_faithful():
    assert TrainConfig(model="z2cnn").epochs == 300
    assert TrainConfig(model="p4cnn").epochs == 100
    assert TrainConfig(model="p4cnn", seed=3, device="cuda").protocol == "faithful"
    assert TrainConfig(model="p4cnn", epochs=50).protocol == "custom"
    assert TrainConfig(model="p4cnn").augment == "paper"
    assert TrainConfig(model="p4cnn", augment="rotation").protocol == "custom"
    assert TrainConfig(model="p4cnn", augment="none").protocol == "custom"
    assert TrainConfig(model="p4cnn").bn_recalibration == "paper"
    assert TrainConfig(model="p4cnn", bn_recalibration="eval").protocol == "custom"
    assert TrainConfig(model="p4cnn", bn_recalibration="off").protocol == "custom"
    with pytest.raises(ValueError, match="bn_recalibration"):
        TrainConfig(model="p4cnn", bn_recalibration="sometimes")
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(model="vgg")


def test_normalisation_comes_from_the_training_set(tiny):
    trainer = Trainer(cfg(), tiny)
    pixels = tiny.train[0] / 255.0
    assert trainer.model.input_mean.item() == pytest.approx(pixels.mean(), rel=1e-6)
    assert trainer.model.input_std.item() == pytest.approx(pixels.std(), rel=1e-6)


def test_seeding_is_exact(tiny):
    a, b = Trainer(cfg(seed=1), tiny), Trainer(cfg(seed=1), tiny)
    list(a.run()), list(b.run())
    for (k, va), vb in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(va, vb), k
    c = Trainer(cfg(seed=2), tiny)
    list(c.run())
    assert not torch.equal(a.model.convs[0].weight, c.model.convs[0].weight)


@pytest.mark.parametrize("model,augment", [("z2cnn", "rotation"), ("p4cnn", "none")])
def test_resume_mid_epoch_equals_an_uninterrupted_run(tiny, tmp_path, model, augment):
    """Dropout (z2cnn), shuffling and augmentation angles all continue exactly."""
    config = dict(model=model, augment=augment, epochs=3, lr_schedule="cosine")
    full = Trainer(cfg(**config), tiny, checkpoint_path=tmp_path / "full.pt", report_every=1)
    list(full.run())

    part = Trainer(cfg(**config), tiny, checkpoint_path=tmp_path / "part.pt", report_every=1)
    for record in part.run():
        if record.step == 5:  # mid-epoch 2 (3 steps per epoch)
            part.save()
            break
    resumed = Trainer.resume(tmp_path / "part.pt", tiny, report_every=1)
    assert resumed.global_step == 5 and resumed.epoch == 1 and resumed.step_in_epoch == 2
    list(resumed.run())
    for (k, va), vb in zip(
        full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(va, vb), k
    assert resumed.final["test_error"] == full.final["test_error"]
    assert len(resumed.history) == 3


def test_checkpoints_each_epoch_and_final_record(tiny, tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(cfg(), tiny, checkpoint_path=path, command=["gcnn-viewer", "train"])
    records = list(trainer.run())
    # a resumable checkpoint after each epoch, the last too (before the end-of-run passes);
    # the finished run's at "done"
    assert [r.checkpoint is not None for r in records if r.kind == "epoch"] == [True, True]
    assert records[-1].checkpoint == str(path)
    record = read_checkpoint(path)
    assert record["complete"] and "resume" not in record
    assert record["command"] == "gcnn-viewer train"
    assert record["data"]["content_hash"] == "tiny-0"
    assert record["train_config"]["model"] == "p4cnn"
    assert record["model_config"] == {"name": "p4cnn", "channels": 10}
    assert set(record["versions"]) == {"gcnn_viewer", "torch"}
    assert record["metrics"]["final"]["test_error"] == records[-1].test_error
    assert [h["epoch"] for h in record["metrics"]["history"]] == [1, 2]
    assert record["normalisation"]["mean"] == pytest.approx(trainer.model.input_mean.item())
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*tmp"))


def test_checkpoint_round_trip_gives_identical_outputs(tiny, tmp_path):
    trainer = Trainer(cfg(model="p4mcnn", epochs=1), tiny, checkpoint_path=tmp_path / "m.pt")
    list(trainer.run())
    loaded = load_checkpoint(tmp_path / "m.pt")
    assert loaded.name == "p4mcnn" and not loaded.model.training
    x = torch.rand(4, 1, 28, 28)
    trainer.model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.model(x), trainer.model(x))


def test_checkpoints_from_before_recalibration_modes_read_as_what_they_did():
    # their boolean recalibrate_bn meant today's eval-mode recalibration
    old = TrainConfig.from_dict({"model": "p4cnn", "recalibrate_bn": True})
    assert old.bn_recalibration == "eval" and old.protocol == "custom"
    assert TrainConfig.from_dict({"model": "p4cnn", "recalibrate_bn": False}).bn_recalibration == (
        "off"
    )


def test_eval_mode_recalibration_uses_population_statistics_with_dropout_off(tiny):
    trainer = Trainer(cfg(model="z2cnn"), tiny)
    model = trainer.model
    images = torch.rand(64, 1, 28, 28)
    recalibrate_batch_norm(model, images, batch_size=64, mode="eval")
    assert not model.training and not any(bn.training for bn in model.bns)
    # with one batch, the population mean is that batch's mean of l1's conv output
    with torch.no_grad():
        pre = model.convs[0]((images - model.input_mean) / model.input_std)
    torch.testing.assert_close(model.bns[0].running_mean, pre.mean(dim=(0, 2, 3)))
    assert model.bns[0].momentum == 0.1


def test_paper_recalibration_runs_in_training_mode_with_dropout(tiny):
    """The paper's code recomputes BN statistics in one more training-mode pass: Z2CNN's
    dropout is on, so BN 2 sees a larger variance than in eval mode, while BN 1 (before any
    dropout, and with no augmentation here) sees the same batches' statistics."""
    images = torch.rand(128, 1, 28, 28)
    by_mode = {}
    for mode in ("eval", "paper"):
        model = Trainer(cfg(model="z2cnn"), tiny).model
        recalibrate_batch_norm(model, images, batch_size=32, mode=mode, augment="none")
        assert not model.training and model.bns[0].momentum == 0.1
        by_mode[mode] = model
    eval_bn, paper_bn = by_mode["eval"].bns, by_mode["paper"].bns
    # layer 1 comes before any dropout and augment="none": the same batches' statistics
    torch.testing.assert_close(paper_bn[0].running_mean, eval_bn[0].running_mean)
    assert (paper_bn[1].running_var > eval_bn[1].running_var).float().mean() > 0.9


def test_paper_recalibration_is_seeded_and_keeps_the_callers_rng(tiny):
    images = torch.rand(64, 1, 28, 28)
    stats = []
    for _ in range(2):
        model = Trainer(cfg(model="z2cnn"), tiny).model
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        recalibrate_batch_norm(model, images, batch_size=16, mode="paper", augment="paper", seed=5)
        assert torch.equal(torch.rand(3), expected)  # the caller's random stream is untouched
        stats.append(model.bns[3].running_var.clone())
    torch.testing.assert_close(stats[0], stats[1], rtol=0, atol=0)
    model = Trainer(cfg(model="z2cnn"), tiny).model
    recalibrate_batch_norm(model, images, batch_size=16, mode="paper", augment="paper", seed=6)
    assert not torch.equal(model.bns[3].running_var, stats[0])


def test_refinalise_reproduces_the_runs_own_final_evaluation(tiny, tmp_path):
    path = tmp_path / "run.pt"
    trainer = Trainer(cfg(model="z2cnn", epochs=1, diagnostics=True), tiny, checkpoint_path=path)
    list(trainer.run())
    before = read_checkpoint(path)["metrics"]["final"]
    assert {"test_error_running_stats", "test_error_eval_recalibration"} <= set(before)
    again = Trainer.resume(path, tiny)
    again.refinalise(["gcnn-viewer", "reproduce", "--refinalise"])
    after = read_checkpoint(path)
    final = after["metrics"]["final"]
    assert after["complete"] and final["refinalised_with"] == "gcnn-viewer reproduce --refinalise"
    for key in ("test_error", "test_error_eval_recalibration", "valid_error"):
        assert final[key] == before[key]
    assert final["previous"] == [before]
    # BN's running averages are gone after the first finalisation: their error is carried over
    again.model.bns[0].running_mean.fill_(1e3)  # would change any new measurement
    again.refinalise()
    assert again.final["test_error_running_stats"] == before["test_error_running_stats"]
    assert again.final["test_error"] == before["test_error"]
    assert len(again.final["previous"]) == 2
    saved = after["state_dict"]
    assert all(torch.equal(saved[k], v) for k, v in trainer.model.state_dict().items())
    with pytest.raises(CheckpointError, match="finished"):
        Trainer(cfg(), tiny).refinalise()


def test_rotate_batch_turns_counter_clockwise_like_rot90():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 4:10, 13:15] = 1.0  # a bar above the centre
    turned = rotate_batch(x, torch.tensor([90.0]))
    torch.testing.assert_close(turned, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-4, rtol=0)
    assert math.isclose(
        rotate_batch(x, torch.tensor([0.0])).sum().item(), x.sum().item(), rel_tol=1e-5
    )


def test_fine_tuning_starts_from_a_checkpoints_weights(tiny, tmp_path):
    base = Trainer(cfg(epochs=1), tiny, checkpoint_path=tmp_path / "base.pt")
    list(base.run())
    tuned = Trainer(
        cfg(epochs=2, init_from=str(tmp_path / "base.pt")),
        tiny,
        checkpoint_path=tmp_path / "tuned.pt",
        report_every=1,
    )
    for (k, va), vb in zip(
        base.model.state_dict().items(), tuned.model.state_dict().values(), strict=True
    ):
        assert torch.equal(va.cpu(), vb.cpu()), k  # weights, BN statistics, normalisation
    assert tuned.config.protocol == "custom"
    for record in tuned.run():
        if record.step == 2:
            tuned.save()
            break
    (tmp_path / "base.pt").unlink()  # a resumed fine-tune needs only its own checkpoint
    resumed = Trainer.resume(tmp_path / "tuned.pt", tiny)
    list(resumed.run())
    assert read_checkpoint(tmp_path / "tuned.pt")["train_config"]["init_from"].endswith("base.pt")


def test_fine_tuning_refuses_another_architecture(tiny, tmp_path):
    list(Trainer(cfg(epochs=1), tiny, checkpoint_path=tmp_path / "p4.pt").run())
    with pytest.raises(CheckpointError, match="holds a p4cnn model, not a z2cnn"):
        Trainer(cfg(model="z2cnn", init_from=str(tmp_path / "p4.pt")), tiny)

"""The command line end to end, on a tiny dataset (no network, no real MNIST)."""

import json
import subprocess
import sys

import pytest
import torch

from gcnn_viewer import __version__, cli
from gcnn_viewer.models import build_model
from gcnn_viewer.training import read_checkpoint, save_checkpoint
from tests.training.conftest import tiny_datasets


class TinyMnistRot:
    """Stands in for the 62k-digit MNIST-rot: the same interface, 80 digits."""

    def __init__(self):
        d = tiny_datasets()
        self.parts = {"trainval": d.train, "train": d.train, "valid": d.valid, "test": d.test}
        self.content_hash = "tiny-0"

    def split(self, name):
        return self.parts[name]

    def info(self):
        return {"spec": {"seed": 0}}


@pytest.fixture
def tiny_data(monkeypatch):
    monkeypatch.setattr(cli, "_load_data", lambda args, recorded=None: TinyMnistRot())


@pytest.fixture
def requested_specs(monkeypatch):
    """Tiny data whatever the spec; the specs asked for are collected here."""
    import gcnn_viewer.data

    specs = []

    def load(spec, progress=None):
        specs.append(spec)
        return TinyMnistRot()

    monkeypatch.setattr(gcnn_viewer.data, "load_mnist_rot", load)
    return specs


def test_version():
    out = subprocess.run(
        [sys.executable, "-m", "gcnn_viewer", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == f"gcnn-viewer {__version__}"


def test_train_evaluate_end_to_end(tiny_data, tmp_path, capsys):
    out = tmp_path / "p4.pt"
    argv = [
        "train",
        "--model",
        "p4cnn",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    assert cli.main(argv) == 0
    record = read_checkpoint(out)
    assert record["complete"] and record["protocol"] == "custom"
    assert record["command"].startswith("gcnn-viewer train --model p4cnn")
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "p4cnn" and result["split"] == "test" and result["n"] == 16
    assert 0 <= result["error"] <= 1
    assert cli.main(["evaluate", str(out), "--split", "valid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["split"] == "valid"
    # refusing to clobber, and resuming a finished run
    assert cli.main(argv) == 2
    assert "exists" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(out)]) == 2
    assert "already complete" in capsys.readouterr().err


def test_errors_are_one_line_without_traceback(tiny_data, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    for target in (str(tmp_path / "missing.pt"), str(bad), str(foreign)):
        assert cli.main(["evaluate", target]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gcnn-viewer: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    assert cli.main(["train"]) == 2
    assert "--model" in capsys.readouterr().err


def test_reproduce_is_resumable_and_writes_the_table(tiny_data, tmp_path, capsys):
    out = tmp_path / "rep"
    argv = [
        "reproduce",
        "--models",
        "p4cnn",
        "z2cnn",
        "--seeds",
        "0",
        "1",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    assert cli.main(argv) == 0
    table = (out / "results.md").read_text()
    assert "| P4CNN | custom | 1 | 2 |" in table and "2.28" in table and "5.12" in table
    summary = json.loads((out / "results.json").read_text())
    assert {r["model"] for r in summary["rows"]} == {"p4cnn", "z2cnn"}
    assert len(summary["runs"]) == 4
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.pt")}
    assert cli.main(argv) == 0  # all finished: nothing retrained
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.pt")} == mtimes


def test_reproduce_refinalise_redoes_only_the_final_evaluation(tiny_data, tmp_path, capsys):
    out = tmp_path / "rep"
    argv = ["reproduce", "--models", "z2cnn", "--seeds", "0", "--epochs", "1", "--out", str(out)]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    before = read_checkpoint(out / "z2cnn-seed0.pt")
    capsys.readouterr()
    assert cli.main([*argv, "--device", "cpu", "--refinalise"]) == 0
    err = capsys.readouterr().err
    assert "z2cnn seed 0: test error" in err and "->" in err
    after = read_checkpoint(out / "z2cnn-seed0.pt")
    assert after["metrics"]["history"] == before["metrics"]["history"]  # no training
    assert after["metrics"]["final"]["previous"] == [before["metrics"]["final"]]
    assert "--refinalise" in after["metrics"]["final"]["refinalised_with"]
    table = (out / "results.md").read_text()
    assert "BN recalibrated in eval mode" in table
    # nothing finished to re-finalise: one clear line
    empty = ["reproduce", "--models", "p4cnn", "--seeds", "7", "--out", str(out), "--refinalise"]
    assert cli.main(empty) == 2
    assert "no finished runs" in capsys.readouterr().err


def test_train_recalibrate_option_and_its_old_spelling(tiny_data, tmp_path):
    for flags, mode in ((["--recalibrate", "eval"], "eval"), (["--no-recalibrate"], "off")):
        path = tmp_path / f"{mode}.pt"
        argv = ["train", "--model", "p4cnn", "--epochs", "1", "--out", str(path), *flags]
        assert cli.main([*argv, "--device", "cpu"]) == 0
        record = read_checkpoint(path)
        assert record["train_config"]["bn_recalibration"] == mode
        assert record["metrics"]["final"]["bn_recalibration"] == mode
        assert record["protocol"] == "custom"


def test_data_variant_options_choose_the_mnist_rot_spec(requested_specs, tmp_path, capsys):
    from gcnn_viewer.data.mnist_rot import MnistRotSpec

    out = tmp_path / "ss4.pt"
    train = ["train", "--model", "z2cnn", "--epochs", "1", "--out", str(out), "--device", "cpu"]
    assert cli.main([*train, "--supersample", "4"]) == 0
    assert requested_specs[-1] == MnistRotSpec(supersample=4)
    # a checkpoint's own variant is used when evaluating it, unless the command names another
    record = read_checkpoint(out)
    record["data"]["spec"] = {"supersample": 2, "interpolation": "bilinear", "version": "0"}
    save_checkpoint(out, record)
    assert cli.main(["evaluate", str(out), "--device", "cpu"]) == 0
    assert requested_specs[-1] == MnistRotSpec(supersample=2, interpolation="bilinear")
    assert cli.main(["evaluate", str(out), "--device", "cpu", "--supersample", "1"]) == 0
    assert requested_specs[-1] == MnistRotSpec(interpolation="bilinear")
    assert cli.main(["evaluate", "p4cnn", "--device", "cpu"]) == 0  # shipped: the standard set
    assert requested_specs[-1] == MnistRotSpec()
    capsys.readouterr()
    assert cli.main([*train, "--overwrite", "--supersample", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "supersample" in err and "Traceback" not in err


def test_reproduce_resumes_an_interrupted_run(tiny_data, tmp_path):
    from gcnn_viewer.training import TrainConfig, Trainer

    out = tmp_path / "rep"
    trainer = Trainer(
        TrainConfig(model="p4cnn", epochs=2, device="cpu"),
        tiny_datasets(),
        checkpoint_path=out / "p4cnn-seed0.pt",
    )
    next(r for r in trainer.run() if r.kind == "epoch")  # one epoch done, checkpoint written
    assert not read_checkpoint(out / "p4cnn-seed0.pt")["complete"]
    argv = ["reproduce", "--models", "p4cnn", "--seeds", "0", "--out", str(out), "--device", "cpu"]
    assert cli.main(argv) == 0
    record = read_checkpoint(out / "p4cnn-seed0.pt")
    assert record["complete"] and len(record["metrics"]["history"]) == 2


def test_evaluate_a_checkpoint_with_mismatched_weights(tiny_data, tmp_path, capsys):
    path = save_checkpoint(
        tmp_path / "m.pt",
        {"model_config": {"name": "p4cnn"}, "state_dict": build_model("z2cnn").state_dict()},
    )
    assert cli.main(["evaluate", str(path)]) == 2
    assert "do not match" in capsys.readouterr().err


def test_ctrl_c_saves_a_resumable_checkpoint_and_exits(tmp_path, capsys):
    """The first Ctrl-C stops at the next step boundary with a checkpoint; resuming finishes."""
    import os
    import signal

    from gcnn_viewer.training import TrainConfig, Trainer

    class InterruptedTrainer(Trainer):
        def run(self):
            for record in super().run():
                if record.step == 4:
                    os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C
                yield record

    path = tmp_path / "run.pt"
    config = TrainConfig(model="p4cnn", epochs=2, batch_size=16, device="cpu")
    trainer = InterruptedTrainer(config, tiny_datasets(), checkpoint_path=path, report_every=1)
    # Python's own handler, or SIG_IGN where the tests were started in the background by a
    # non-interactive shell (it ignores SIGINT for them): either way, the one to restore
    before = signal.getsignal(signal.SIGINT)
    assert cli._drive(trainer, "p4cnn") == 130
    assert "resume with: gcnn-viewer train --resume" in capsys.readouterr().err
    record = read_checkpoint(path)
    assert not record["complete"] and record["resume"]["global_step"] == 4
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    resumed = Trainer.resume(path, tiny_datasets())
    assert cli._drive(resumed, "p4cnn") == 0
    assert read_checkpoint(path)["complete"]


def test_train_init_from_fine_tunes_a_finished_model(tiny_data, tmp_path, capsys):
    base, tuned = tmp_path / "base.pt", tmp_path / "tuned.pt"
    common = ["--epochs", "1", "--batch-size", "16", "--device", "cpu"]
    assert cli.main(["train", "--model", "p4cnn", "--out", str(base), *common]) == 0
    assert cli.main(["train", "--init-from", str(base), "--out", str(tuned), *common]) == 0
    record = read_checkpoint(tuned)
    assert record["model_config"]["name"] == "p4cnn" and record["protocol"] == "custom"
    assert record["train_config"]["init_from"] == str(base)


def test_ctrl_c_during_the_final_evaluation_keeps_the_epoch_and_resume_finishes_it(
    tiny_data, tmp_path, capsys
):
    """It used to be ignored there (and a second Ctrl-C lost the last epoch)."""
    import os
    import signal

    from gcnn_viewer.training import TrainConfig, Trainer

    class InterruptedTrainer(Trainer):
        def run(self):
            for record in super().run():
                if record.kind == "finishing" and record.phase == "test error":
                    os.kill(os.getpid(), signal.SIGINT)
                yield record

    path = tmp_path / "run.pt"
    config = TrainConfig(model="z2cnn", epochs=1, batch_size=16, device="cpu")
    trainer = InterruptedTrainer(config, tiny_datasets(), checkpoint_path=path)
    assert cli._drive(trainer, "z2cnn") == 130
    err = capsys.readouterr().err
    assert "stopped during the final evaluation (test error)" in err
    assert f"Finish the evaluation with: gcnn-viewer train --resume {path}" in err
    record = read_checkpoint(path)
    assert not record["complete"] and record["resume"]["epoch"] == 1
    assert len(record["metrics"]["history"]) == 1
    assert cli.main(["train", "--resume", str(path), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "finishing the evaluation" in err and "epoch 1/1:" not in err  # no training again
    record = read_checkpoint(path)
    assert record["complete"] and len(record["metrics"]["history"]) == 1
    assert record["metrics"]["final"]["test_error"] is not None


def test_an_unwritable_out_is_found_before_any_data_or_training(tmp_path, capsys, monkeypatch):
    import errno

    def no_data(args, recorded=None):
        raise AssertionError("data loaded before --out was checked")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli, "_load_data", no_data)
    monkeypatch.setattr(torch, "save", full)
    out = tmp_path / "run.pt"
    assert cli.main(["train", "--model", "p4cnn", "--out", str(out), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err == f"gcnn-viewer: error: cannot write checkpoint {out}: no space left on the disk\n"
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_to_overwrite_another_file(tiny_data, tmp_path, capsys):
    """`--out` follows one rule with or without --resume (it used to overwrite silently)."""
    from gcnn_viewer.training import TrainConfig, Trainer

    source, other = tmp_path / "run.pt", tmp_path / "other.pt"
    config = TrainConfig(model="p4cnn", epochs=2, batch_size=16, device="cpu")
    trainer = Trainer(config, tiny_datasets(), checkpoint_path=source)
    next(r for r in trainer.run() if r.kind == "epoch")  # one epoch to go
    other.write_bytes(b"an unrelated file")
    assert cli.main(["train", "--resume", str(source), "--out", str(other)]) == 2
    assert "other.pt exists" in capsys.readouterr().err
    assert other.read_bytes() == b"an unrelated file"
    assert cli.main(["train", "--resume", str(source), "--out", str(other), "--overwrite"]) == 0
    assert read_checkpoint(other)["complete"] and not read_checkpoint(source)["complete"]


def test_evaluate_shows_progress_on_stderr_and_json_stays_one_object(tiny_data, capsys):
    assert cli.main(["evaluate", "p4cnn", "--json", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["model"] == "p4cnn"  # exactly one JSON document
    assert captured.out.count("\n") == 1
    assert "p4cnn: test error" in captured.err and "batch" in captured.err


def test_train_shows_every_end_of_run_pass_and_says_epoch_right(tiny_data, tmp_path, capsys):
    out = tmp_path / "run.pt"
    argv = ["train", "--model", "z2cnn", "--epochs", "1", "--out", str(out), "--device", "cpu"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "(custom protocol, 1 epoch)" in err and "1 epochs" not in err
    assert "epoch=0/" not in err
    for phase in ("BN statistics", "test error", "valid error"):
        assert f"z2cnn seed 0: {phase}" in err
    assert "end-of-run passes (BN statistics, evaluations):" in err
    final = read_checkpoint(out)["metrics"]["final"]
    assert "test_error_running_stats" not in final  # diagnostics are opt-in
    assert cli.main([*argv, "--overwrite", "--diagnostics"]) == 0
    final = read_checkpoint(out)["metrics"]["final"]
    assert {"test_error_running_stats", "test_error_eval_recalibration"} <= set(final)
    assert read_checkpoint(out)["protocol"] == "custom"


def test_reproduce_keeps_the_diagnostics_by_default(tiny_data, tmp_path):
    out = tmp_path / "rep"
    argv = ["reproduce", "--models", "z2cnn", "--seeds", "0", "--epochs", "1", "--out", str(out)]
    assert cli.main([*argv, "--device", "cpu"]) == 0
    final = read_checkpoint(out / "z2cnn-seed0.pt")["metrics"]["final"]
    assert {"test_error_running_stats", "test_error_eval_recalibration"} <= set(final)
    other = tmp_path / "rep2"
    argv = [*argv[:-1], str(other), "--device", "cpu", "--no-diagnostics"]
    assert cli.main(argv) == 0
    assert (
        "test_error_running_stats"
        not in read_checkpoint(other / "z2cnn-seed0.pt")["metrics"]["final"]
    )


def test_the_cli_limits_match_the_core():
    from gcnn_viewer.data.mnist_rot import MAX_SUPERSAMPLE
    from gcnn_viewer.training.loop import MAX_SEED

    assert cli.MAX_SEED == MAX_SEED and cli.MAX_SUPERSAMPLE == MAX_SUPERSAMPLE

"""Many runs at once on this machine (`reproduce --jobs N`, issue 24): the same checkpoints as
one run after another, a dead worker resumed, Ctrl-C, a failing run among others."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from gcnn_viewer import cli
from gcnn_viewer.training import parallel as par
from gcnn_viewer.training import read_run
from gcnn_viewer.training.many_cli import ManyBars
from gcnn_viewer.training.reproduce import RunTask, reproduce
from tests.test_cli import TinyMnistRot
from tests.training.conftest import tiny_datasets

TABLE = ["--models", "p4cnn", "z2cnn", "--seeds", "0", "1", "--epochs", "1", "--device", "cpu"]
TIMES = (
    "elapsed",
    "images_per_s",
    "epoch_time",
    "finish_seconds",
    "train_seconds",
)  # what may differ


@pytest.fixture
def tiny_data(monkeypatch):
    monkeypatch.setattr(cli, "_load_data", lambda args, recorded=None: TinyMnistRot())


def untimed(value):
    """A checkpoint's contents without what depends on the clock, the host or the command."""
    if isinstance(value, dict):
        return {
            k: untimed(v)
            for k, v in value.items()
            if k not in (*TIMES, "ran_on", "command", "resumed_with", "refinalised_with")
        }
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def assert_same_run(a: Path, b: Path) -> None:
    """The two checkpoints hold the same run to the bit: weights, BN statistics, optimizer
    and random states, history and final errors (all but times and where it ran)."""
    ra, rb = read_run(a), read_run(b)
    assert ra.state_dict.keys() == rb.state_dict.keys()
    for key, tensor in ra.state_dict.items():
        assert torch.equal(tensor, rb.state_dict[key]), f"{a.name}: {key} differs"
    assert untimed(ra.metrics) == untimed(rb.metrics)
    assert ra.train_config == rb.train_config
    assert ra.complete == rb.complete


def test_jobs_2_gives_the_sequential_table_bit_for_bit(tiny_data, tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli.main(["reproduce", *TABLE, "--out", str(one)]) == 0
    assert cli.main(["reproduce", *TABLE, "--out", str(two), "--jobs", "2"]) == 0
    names = sorted(p.name for p in one.glob("*.pt"))
    assert names == sorted(p.name for p in two.glob("*.pt")) and len(names) == 4
    for name in names:
        assert_same_run(one / name, two / name)
    a, b = (json.loads((d / "results.json").read_text()) for d in (one, two))
    assert untimed(a["rows"]) == untimed(b["rows"])
    assert (one / "results.md").read_text() == (two / "results.md").read_text()
    for run in b["runs"]:  # each run says where it ran, and its threads (the recipe's)
        assert run["host"] and run["device"] == "cpu" and run["threads"] == 1
    assert read_run(two / "p4cnn-seed0.pt").metrics["ran_on"][0]["threads"] == 1
    # the thread count is the recipe's: the same run at 2 threads sums in another order
    three = tmp_path / "three"
    argv = ["reproduce", "--models", "p4cnn", "--seeds", "0", "--epochs", "1", "--threads", "2"]
    assert cli.main([*argv, "--device", "cpu", "--out", str(three)]) == 0
    at_2, at_1 = (read_run(d / "p4cnn-seed0.pt") for d in (three, two))
    assert at_2.train_config.threads == 2 and at_1.train_config.threads == 1
    assert any(not torch.equal(t, at_1.state_dict[k]) for k, t in at_2.state_dict.items())


@dataclass(frozen=True)
class DyingWorker:
    """The real worker, but its process dies (as if killed) right after the first epoch's
    checkpoint of each run's first attempt; ``marks`` remembers the attempts."""

    marks: str

    def __call__(self, run, data, report, node=""):
        mark = Path(self.marks) / f"{Path(run.path).name}.died"
        if mark.exists():
            return par.RunWorker(None, True)(run, data, report, node)

        def report_then_die(event):
            answer = report(event)
            if event.kind == "progress" and event.progress.kind == "epoch":
                mark.touch()
                os._exit(3)
            return answer

        return par.RunWorker(None, True)(run, data, report_then_die, node)


def sequential(run: RunTask, out: Path) -> Path:
    """The same run alone, one after another in this process."""
    list(reproduce([run.model], [run.seed], out, tiny_datasets(), device="cpu", epochs=run.epochs))
    return out / Path(run.path).name


def test_a_killed_worker_resumes_from_its_checkpoint(tmp_path):
    out, marks = tmp_path / "runs", tmp_path / "marks"
    out.mkdir()
    marks.mkdir()
    run = RunTask("p4cnn", 0, str(out / "p4cnn-seed0.pt"), epochs=2, device="cpu")
    backend = par.LocalProcesses(tiny_datasets(), ["cpu"], retries=1)
    events = list(par.ManyRuns([run], backend, worker=DyingWorker(str(marks))))
    kinds = [e.kind for e in events if e.kind != "progress"]
    assert kinds == ["started", "retry", "started", "done"], events
    retry = next(e for e in events if e.kind == "retry")
    assert "exit status 3" in retry.message
    assert next(e for e in events if e.kind == "started" and e.start_step > 0).start_step == 1
    record = read_run(run.path)
    assert [s["from_step"] for s in record.metrics["ran_on"]] == [0, 1]  # resumed, not redone
    assert_same_run(Path(run.path), sequential(run, tmp_path / "alone"))


def test_a_worker_that_keeps_dying_is_one_failed_run(tmp_path):
    out, marks = tmp_path / "runs", tmp_path / "marks"
    out.mkdir()
    marks.mkdir()
    run = RunTask("z2cnn", 0, str(out / "z2cnn-seed0.pt"), epochs=2, device="cpu")
    many = par.ManyRuns(
        [run],
        par.LocalProcesses(tiny_datasets(), ["cpu"], retries=0),
        worker=DyingWorker(str(marks)),
    )
    events = list(many)
    assert [e.kind for e in events if e.kind != "progress"] == ["started", "failed"]
    assert many.failed and "exit status 3" in many.failed[0].message
    assert not read_run(run.path).complete  # its first epoch's checkpoint is kept


class WaitingWorker(par.RunWorker):
    """The real worker, but after a run's first epoch it waits (at most a minute) for the
    driver to ask it to stop: Ctrl-C then always finds every run under way."""

    def __call__(self, run, data, report, node=""):
        def report_and_wait(event):
            deadline = time.monotonic() + 60
            while not report(event):
                if event.kind != "progress" or event.progress.epoch < 1:
                    return False
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
            return True

        return super().__call__(run, data, report_and_wait, node)


def test_ctrl_c_stops_every_run_and_keeps_every_checkpoint(tiny_data, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    argv = ["reproduce", "--models", "p4cnn", "z2cnn", "--seeds", "0", "--epochs", "3"]
    argv += ["--device", "cpu", "--out", str(out), "--jobs", "2"]
    seen: set[str] = set()
    show = ManyBars.show

    def show_then_press_ctrl_c(bars, event):
        show(bars, event)
        if event.kind == "progress" and event.progress.kind == "epoch":
            seen.add(event.run.label)
            if len(seen) == 2:  # both runs have a checkpoint and are under way
                seen.add("pressed")
                os.kill(os.getpid(), signal.SIGINT)  # as the user's Ctrl-C reaches the driver

    real_worker = par.RunWorker
    monkeypatch.setattr(ManyBars, "show", show_then_press_ctrl_c)
    monkeypatch.setattr(par, "RunWorker", WaitingWorker)
    assert cli.main(argv) == 130
    for name in ("p4cnn-seed0.pt", "z2cnn-seed0.pt"):
        record = read_run(out / name)
        assert record.resumable and record.resume["epoch"] == 1, name
    monkeypatch.setattr(ManyBars, "show", show)
    monkeypatch.setattr(par, "RunWorker", real_worker)
    assert cli.main(argv) == 0  # the same command resumes both and finishes them
    for name in ("p4cnn-seed0.pt", "z2cnn-seed0.pt"):
        record = read_run(out / name)
        assert record.complete and len(record.history) == 3
        assert [s["from_step"] for s in record.metrics["ran_on"]] == [0, 1]


def test_a_failing_run_is_one_line_and_the_others_go_on(tiny_data, tmp_path, capsys):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "p4cnn-seed1.pt").write_bytes(b"not a checkpoint")
    argv = ["reproduce", "--models", "p4cnn", "--seeds", "0", "1", "--epochs", "1"]
    assert cli.main([*argv, "--device", "cpu", "--out", str(out), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "p4cnn seed 1: failed:" in line]
    assert failed and "p4cnn-seed1.pt" in failed[0] and "Traceback" not in err
    assert "1 of 2 runs failed" in err
    summary = json.loads((out / "results.json").read_text())
    assert [r["seed"] for r in summary["runs"]] == [0]
    assert [e["checkpoint"] for e in summary["left_out"]] == ["p4cnn-seed1.pt"]


def test_the_command_line_defaults_are_the_library_s():
    args = cli.build_parser().parse_args(["reproduce"])
    assert (args.jobs, args.threads, args.ray) == (1, 1, None)
    assert args.retries == par.DEFAULT_RETRIES and args.runs_per_gpu == par.DEFAULT_RUNS_PER_GPU
    ray = cli.build_parser().parse_args(["reproduce", "--ray"])
    assert ray.ray == "auto"


def test_ray_missing_is_one_line(tiny_data, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as where Ray is not installed
    argv = ["reproduce", "--models", "p4cnn", "--seeds", "0", "--out", str(tmp_path), "--ray"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gcnn-viewer[ray]" in err and "Traceback" not in err

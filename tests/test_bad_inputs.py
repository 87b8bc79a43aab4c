"""Bad inputs, table-driven: checkpoints, arguments, images, data folders and API inputs.

For each: a non-zero exit (or the documented exception type), exactly one error line on
stderr naming what is wrong, no traceback, and nothing on disk changed. No network, no MNIST:
the command line runs on the tiny synthetic data of tests/training/conftest.py.
"""

from __future__ import annotations

import copy
import errno
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gcnn_viewer import cli
from gcnn_viewer.data import DataError, MnistRotSpec
from gcnn_viewer.data.digits import DigitImageError, load_image_file
from gcnn_viewer.errors import ConfigError, GcnnViewerError
from gcnn_viewer.models import build_model
from gcnn_viewer.training import (
    CheckpointError,
    TrainConfig,
    Trainer,
    load_checkpoint,
    read_checkpoint,
    resolve_device,
    save_checkpoint,
)
from tests.test_cli import TinyMnistRot
from tests.training.conftest import tiny_datasets


# -- helpers -----------------------------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (hidden ones too): size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_one_error_line(err: str, *needles: str) -> str:
    """``err`` is exactly one line, the error, naming each of ``needles``."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("gcnn-viewer"), line
    assert ": error: " in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


@pytest.fixture
def tiny_data(monkeypatch):
    monkeypatch.setattr(cli, "_load_data", lambda args, recorded=None: TinyMnistRot())


@pytest.fixture(scope="module")
def resumable(tmp_path_factory) -> dict:
    """An interrupted run's checkpoint dict (mid-epoch: weights, optimizer, RNG states)."""
    path = tmp_path_factory.mktemp("ckpt") / "run.pt"
    config = TrainConfig(model="p4cnn", epochs=2, batch_size=16, device="cpu")
    trainer = Trainer(config, tiny_datasets(), checkpoint_path=path, report_every=1)
    next(r for r in trainer.run() if r.kind == "step")
    trainer.save()
    return read_checkpoint(path)


# -- checkpoints ---------------------------------------------------------------------------------
def _path(keys: str) -> list[str]:
    """A dotted key path; a state_dict's own keys contain dots, so they end the path."""
    head, _, rest = keys.partition(".")
    return [head, rest] if head == "state_dict" and rest else keys.split(".")


def _set(keys: str, value):
    """A mutation of a checkpoint dict: set the value at a dotted key path."""

    def apply(record: dict) -> None:
        *parents, last = _path(keys)
        target = record
        for key in parents:
            target = target[key]
        target[last] = value

    return apply


def _delete(keys: str):
    def apply(record: dict) -> None:
        *parents, last = _path(keys)
        target = record
        for key in parents:
            target = target[key]
        del target[last]

    return apply


def _first_adam_slot(record: dict) -> None:
    slot = next(iter(record["resume"]["optimizer"]["state"].values()))
    slot["exp_avg"] = torch.zeros(3)


def _nan_weight(record: dict) -> None:
    record["state_dict"]["convs.1.weight"] = torch.full_like(
        record["state_dict"]["convs.1.weight"], math.nan
    )


def _negative_variance(record: dict) -> None:
    record["state_dict"]["bns.2.running_var"] = -torch.ones_like(
        record["state_dict"]["bns.2.running_var"]
    )


# (id, mutation, text the error must contain, checked by evaluate too (not only resume))
CHECKPOINTS: list[tuple[str, Callable[[dict], None], str, bool]] = [
    (
        "wrong-shaped tensor",
        _set("state_dict.convs.0.weight", torch.zeros(3)),
        "convs.0.weight",
        True,
    ),
    ("missing tensor", _delete("state_dict.top.bias"), "top.bias", True),
    ("unexpected tensor", _set("state_dict.extra", torch.zeros(1)), "extra", True),
    ("non-finite weights", _nan_weight, "non-finite", True),
    ("negative BN variance", _negative_variance, "negative variances", True),
    ("state_dict not a dict", _set("state_dict", [1, 2]), "state_dict", True),
    ("format_version a string", _set("format_version", "1"), "format_version", True),
    ("format_version from the future", _set("format_version", 99), "newer", True),
    ("channels 0", _set("model_config.channels", 0), "model_config.channels", True),
    ("channels huge", _set("model_config.channels", 10**9), "model_config.channels", True),
    ("unknown model argument", _set("model_config.width", 3), "model_config.width", True),
    ("unknown model", _set("model_config.name", "vgg"), "no known model", True),
    ("data None", _set("data", None), "data", True),
    ("data.spec strings", _set("data.spec", {"supersample": "4"}), "data.spec", True),
    ("data.spec a list", _set("data.spec", [1, 2]), "data.spec", True),
    ("data.spec supersample 400", _set("data.spec", {"supersample": 400}), "supersample", True),
    ("data.spec unknown field", _set("data.spec", {"colour": 1}), "data.spec", True),
    ("data.content_hash a number", _set("data.content_hash", 7), "data.content_hash", True),
    ("normalisation std 0", _set("normalisation", {"mean": 0.1, "std": 0.0}), "std", True),
    ("train_config lr a string", _set("train_config.lr", "fast"), "train_config", True),
    ("train_config lr inf", _set("train_config.lr", math.inf), "train_config", True),
    ("train_config epochs -1", _set("train_config.epochs", -1), "train_config", True),
    ("train_config seed -1", _set("train_config.seed", -1), "train_config", True),
    ("train_config another model", _set("train_config.model", "z2cnn"), "train_config", True),
    ("complete not a bool", _set("complete", "yes"), "complete", True),
    ("history not numbers", _set("metrics.history", [{"loss": "low"}]), "metrics.history", True),
    ("earlier results not a list", _set("metrics.final", {"previous": 3}), "final.previous", True),
    ("metrics None", _set("metrics", None), "metrics", False),
    ("resume missing", _delete("resume"), "resume", False),
    ("resume not a dict", _set("resume", 3), "resume", False),
    ("resume.epoch a float", _set("resume.epoch", 1.5), "resume.epoch", False),
    (
        "resume.step_in_epoch too big",
        _set("resume.step_in_epoch", 99),
        "resume.step_in_epoch",
        False,
    ),
    ("resume.global_step off", _set("resume.global_step", 77), "resume.global_step", False),
    ("resume.epoch_sums shape", _set("resume.epoch_sums", torch.zeros(2)), "epoch_sums", False),
    (
        "bad RNG state",
        _set("resume.torch_rng_state", torch.zeros(10, dtype=torch.uint8)),
        "torch_rng_state",
        False,
    ),
    ("RNG state wrong type", _set("resume.shuffle_state", "abc"), "resume.shuffle_state", False),
    ("optimizer missing", _delete("resume.optimizer"), "resume.optimizer", False),
    ("optimizer slot wrong shape", _first_adam_slot, "resume.optimizer.state", False),
    (
        "optimizer groups",
        _set("resume.optimizer.param_groups", [{"params": [0]}]),
        "resume.optimizer",
        False,
    ),
]


@pytest.mark.parametrize(
    "mutate,needle,also_evaluate", [c[1:] for c in CHECKPOINTS], ids=[c[0] for c in CHECKPOINTS]
)
def test_crafted_checkpoints_give_one_line(
    resumable, mutate, needle, also_evaluate, tiny_data, tmp_path, capsys
):
    record = copy.deepcopy(resumable)
    mutate(record)
    path = tmp_path / "crafted.pt"
    torch.save(record, path)  # raw: save_checkpoint would stamp a valid format_version
    before = snapshot(tmp_path)
    commands = [["train", "--resume", str(path)]]
    if also_evaluate:
        commands.append(["evaluate", str(path), "--device", "cpu"])
    for argv in commands:
        assert cli.main(argv) == 2, argv
        assert_one_error_line(capsys.readouterr().err, needle)
        assert snapshot(tmp_path) == before  # nothing written, nothing removed
    with pytest.raises(CheckpointError, match=needle.replace(".", r"\.")):
        if also_evaluate:
            load_checkpoint(path)
        else:
            Trainer.resume(path, tiny_datasets())


def test_the_unmodified_checkpoint_resumes(resumable, tiny_data, tmp_path, capsys):
    """The control for the table above: the same file, untouched, resumes and finishes."""
    path = tmp_path / "ok.pt"
    torch.save(resumable, path)
    assert cli.main(["train", "--resume", str(path), "--device", "cpu"]) == 0
    assert read_checkpoint(path)["complete"]


# -- arguments -----------------------------------------------------------------------------------
TRAIN = ["train", "--model", "p4cnn", "--epochs", "1", "--batch-size", "16", "--device", "cpu"]

# (id, argv (OUT: a path in tmp_path), text the error must contain)
ARGUMENTS: list[tuple[str, list[str], str]] = [
    ("lr inf", [*TRAIN, "--lr", "inf"], "--lr"),
    ("lr nan", [*TRAIN, "--lr", "nan"], "--lr"),
    ("lr 0", [*TRAIN, "--lr", "0"], "--lr"),
    ("lr negative", [*TRAIN, "--lr", "-1e-3"], "--lr"),
    ("lr not a number", [*TRAIN, "--lr", "fast"], "--lr"),
    ("weight decay nan", [*TRAIN, "--weight-decay", "nan"], "--weight-decay"),
    ("eval-every -1", [*TRAIN, "--eval-every", "-1"], "--eval-every"),
    ("seed -1", [*TRAIN, "--seed", "-1"], "--seed"),
    ("seed 2**32", [*TRAIN, "--seed", str(2**32)], "--seed"),
    ("seed huge", [*TRAIN, "--seed", "9" * 30], "--seed"),
    ("batch size 0", [*TRAIN, "--batch-size", "0"], "--batch-size"),
    ("epochs 0", [*TRAIN, "--epochs", "0"], "--epochs"),
    ("supersample 0", [*TRAIN, "--supersample", "0"], "--supersample"),
    ("supersample 400", [*TRAIN, "--supersample", "400"], "--supersample"),
    ("unknown model", ["train", "--model", "vgg"], "--model"),
    ("train device foo", [*TRAIN, "--device", "foo"], "this machine has: auto, cpu"),
    ("train device meta", [*TRAIN, "--device", "meta"], "'meta'"),
    ("train device mps", [*TRAIN, "--device", "mps"], "'mps'"),
    ("train device cuda:7", [*TRAIN, "--device", "cuda:7"], "'cuda:7'"),
    ("evaluate device foo", ["evaluate", "p4cnn", "--device", "foo"], "this machine has"),
    ("evaluate device meta", ["evaluate", "p4cnn", "--device", "meta"], "'meta'"),
    ("reproduce device foo", ["reproduce", "--out", "OUT/rep", "--device", "foo"], "foo"),
    ("evaluate a misspelt model", ["evaluate", "p5cnn"], "z2cnn, p4cnn, p4cnn_rotpool, p4mcnn"),
    ("evaluate a missing file", ["evaluate", "OUT/missing.pt"], "missing.pt"),
    ("evaluate a directory", ["evaluate", "OUT/rep0"], "is a directory"),
    ("evaluate split", ["evaluate", "p4cnn", "--split", "train"], "--split"),
    ("reproduce seeds -1", ["reproduce", "--seeds", "-1", "--out", "OUT/rep"], "--seeds"),
    ("out is a directory", [*TRAIN, "--out", "OUT"], "directory"),
    ("out under a file", [*TRAIN, "--out", "OUT/afile/run.pt"], "afile"),
    ("out exists", [*TRAIN, "--out", "OUT/other.pt"], "exists"),
    (
        "resume into an existing out",
        ["train", "--resume", "OUT/run.pt", "--out", "OUT/other.pt"],
        "other.pt exists",
    ),
    ("reproduce out is a file", ["reproduce", "--out", "OUT/afile", "--epochs", "1"], "afile"),
    (
        "reproduce a minimal run file",
        ["reproduce", "--models", "p4cnn", "--seeds", "0", "--out", "OUT/rep0"],
        "p4cnn-seed0.pt",
    ),
    ("resume a finished run", ["train", "--resume", "OUT/done.pt"], "already complete"),
    ("init-from a foreign file", ["train", "--init-from", "OUT/afile"], "afile"),
    (
        "init-from another width",
        ["train", "--init-from", "OUT/wide.pt", "--epochs", "1"],
        "convs.0.weight",
    ),
    (
        "reproduce a finished file without a run",
        ["reproduce", "--models", "p4cnn", "--seeds", "0", "--out", "OUT/rep1"],
        "train_config",
    ),
]


@pytest.mark.parametrize("argv,needle", [a[1:] for a in ARGUMENTS], ids=[a[0] for a in ARGUMENTS])
def test_bad_arguments_give_one_line(
    argv, needle, resumable, tiny_data, tmp_path, capsys, monkeypatch
):
    (tmp_path / "afile").write_text("not a folder, not a checkpoint")
    save_checkpoint(
        tmp_path / "other.pt",
        {"model_config": {"name": "p4cnn"}, "state_dict": build_model("p4cnn").state_dict()},
    )
    torch.save(resumable, tmp_path / "run.pt")
    done = {**copy.deepcopy(resumable), "complete": True, "metrics": {"history": [], "final": {}}}
    done.pop("resume")
    torch.save(done, tmp_path / "done.pt")
    (tmp_path / "rep0").mkdir()
    save_checkpoint(  # a minimal weights-only file where reproduce expects a run
        tmp_path / "rep0" / "p4cnn-seed0.pt",
        {"model_config": {"name": "p4cnn"}, "state_dict": build_model("p4cnn").state_dict()},
    )
    wide = build_model("p4cnn", channels=12)  # a valid checkpoint of another architecture
    save_checkpoint(
        tmp_path / "wide.pt", {"model_config": wide.config, "state_dict": wide.state_dict()}
    )
    (tmp_path / "rep1").mkdir()
    save_checkpoint(  # "complete", but weights only: no training configuration to summarise
        tmp_path / "rep1" / "p4cnn-seed0.pt",
        {
            "model_config": {"name": "p4cnn"},
            "state_dict": build_model("p4cnn").state_dict(),
            "complete": True,
            "metrics": {"history": [], "final": {"test_error": 0.1}},
        },
    )
    monkeypatch.chdir(tmp_path)  # the default --out (runs/...) lands here if anywhere
    before = snapshot(tmp_path)
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    assert_one_error_line(capsys.readouterr().err, needle)
    assert snapshot(tmp_path) == before


def test_a_bug_is_not_dressed_up_as_a_user_error(monkeypatch, capsys):
    """main() catches only the project's errors: a ValueError from a bug shows its traceback
    and asks for a report, with its own exit status."""

    def buggy(args):
        raise ValueError("a programming error")

    monkeypatch.setattr(cli, "cmd_evaluate", buggy)
    assert cli.main(["evaluate", "p4cnn"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: a programming error" in err
    assert err.strip().splitlines()[-1].endswith("please report this with the traceback above")


def test_running_out_of_memory_is_one_line(monkeypatch, capsys):
    def huge(args):
        raise MemoryError

    monkeypatch.setattr(cli, "cmd_train", huge)
    assert cli.main(["train", "--model", "p4cnn"]) == 2
    assert_one_error_line(capsys.readouterr().err, "out of memory", "--batch-size")


def test_a_hand_edited_command_line_does_not_stop_a_resume(resumable, tiny_data, tmp_path):
    record = copy.deepcopy(resumable)
    record["command"] = "gcnn-viewer train --out 'unbalanced"
    torch.save(record, tmp_path / "run.pt")
    assert cli.main(["train", "--resume", str(tmp_path / "run.pt"), "--device", "cpu"]) == 0
    finished = read_checkpoint(tmp_path / "run.pt")
    assert finished["complete"] and "unbalanced" in finished["command"]


def test_an_unreadable_checkpoint_is_not_called_corrupt(resumable, tmp_path, monkeypatch, capsys):
    import errno

    path = tmp_path / "run.pt"
    torch.save(resumable, path)

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(torch, "load", denied)
    assert cli.main(["evaluate", str(path)]) == 2
    line = assert_one_error_line(capsys.readouterr().err, "run.pt", "permission denied")
    assert "corrupt" not in line


def test_an_os_error_naming_a_file_is_one_line(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/some/where.pt")

    monkeypatch.setattr(cli, "cmd_evaluate", denied)
    assert cli.main(["evaluate", "p4cnn"]) == 2
    assert_one_error_line(capsys.readouterr().err, "/some/where.pt", "permission denied")


# -- images --------------------------------------------------------------------------------------
def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(array, mode).save(path)
    return path


def _nan_tif(path: Path) -> Path:
    values = np.zeros((30, 30), np.float32)
    values[10:20, 15] = 1.0
    values[3, 3] = np.nan
    Image.fromarray(values, "F").save(path.with_suffix(".tif"))
    return path.with_suffix(".tif")


def _truncated_png(path: Path) -> Path:
    _png(path, (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8))
    path.write_bytes(path.read_bytes()[:200])
    return path


IMAGES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("missing", lambda p: p, "no such file"),
    ("a directory", lambda p: (p.mkdir(), p)[1], "is a directory"),
    ("not an image", lambda p: (p.write_bytes(b"hello" * 20), p)[1], "not an image"),
    ("truncated", _truncated_png, "corrupt or truncated"),
    ("blank white", lambda p: _png(p, np.full((30, 30), 255, np.uint8)), "blank"),
    ("blank black", lambda p: _png(p, np.zeros((30, 30), np.uint8)), "blank"),
    ("fully transparent", lambda p: _png(p, np.zeros((30, 30, 4), np.uint8), "RGBA"), "blank"),
    ("one pixel", lambda p: _png(p, np.full((1, 1), 9, np.uint8)), "too small"),
    ("a NaN pixel", _nan_tif, "non-finite"),
    ("huge", lambda p: (Image.new("1", (8900, 8900)).save(p), p)[1], "at most 4096×4096"),
]


@pytest.mark.parametrize("make,needle", [i[1:] for i in IMAGES], ids=[i[0] for i in IMAGES])
def test_bad_images_give_one_line(make, needle, tmp_path):
    path = make(tmp_path / "digit.png")
    before = snapshot(tmp_path)
    with pytest.raises(DigitImageError, match=needle) as info:
        load_image_file(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(path.name)
    assert isinstance(info.value, GcnnViewerError) and isinstance(info.value, ValueError)
    assert snapshot(tmp_path) == before


# -- data folders --------------------------------------------------------------------------------
def _env_file(tmp_path: Path) -> Path:
    (tmp_path / "cache-file").write_text("I am a file")
    return tmp_path / "cache-file"


DATA: list[tuple[str, Callable[[Path], str], list[str], str]] = [
    ("GCNN_VIEWER_DATA is a file", lambda t: str(_env_file(t)), ["data", "fetch"], "is a file"),
    (
        "GCNN_VIEWER_DATA under a file",
        lambda t: str(_env_file(t) / "sub"),
        ["data", "fetch"],
        "cannot create the data cache",
    ),
    (
        "fetch from a folder that is not one",
        lambda t: str(t / "cache"),
        ["data", "fetch", "--from", "OUT/cache-file"],
        "not a directory",
    ),
    (
        "fetch from an empty folder",
        lambda t: str(t / "cache"),
        ["data", "fetch", "--from", "OUT/empty"],
        "lacks",
    ),
]


@pytest.mark.parametrize("env,argv,needle", [d[1:] for d in DATA], ids=[d[0] for d in DATA])
def test_bad_data_folders_give_one_line(env, argv, needle, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("GCNN_VIEWER_DATA", env(tmp_path))
    before = snapshot(tmp_path)
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    assert_one_error_line(capsys.readouterr().err, needle)
    assert snapshot(tmp_path) == before
    assert cli.main(["data", "info"]) == 0  # info only looks, whatever the cache
    capsys.readouterr()


def test_read_only_data_cache_is_one_line(tmp_path, monkeypatch, capsys):
    """A cache folder that exists but cannot be written (root ignores chmod: simulated)."""
    import os

    from gcnn_viewer.data import mnist

    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path))
    real = os.access
    monkeypatch.setattr(
        mnist.os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode)
    )
    assert cli.main(["data", "fetch"]) == 2
    assert_one_error_line(capsys.readouterr().err, str(tmp_path), "not writable")


# -- API inputs ----------------------------------------------------------------------------------
API: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("model 65x65", lambda: build_model("p4cnn")(torch.rand(1, 1, 65, 65)), ValueError, "28x28"),
    ("model 3-D input", lambda: build_model("z2cnn")(torch.rand(1, 28, 28)), ValueError, "28x28"),
    (
        "model uint8",
        lambda: build_model("p4cnn")(torch.zeros(1, 1, 28, 28, dtype=torch.uint8)),
        ValueError,
        "255",
    ),
    (
        "model not a tensor",
        lambda: build_model("p4cnn")(np.zeros((1, 1, 28, 28))),
        TypeError,
        "Tensor",
    ),
    ("config lr inf", lambda: TrainConfig(lr=math.inf), ConfigError, "lr"),
    ("config lr as text", lambda: TrainConfig(lr="0.1"), ConfigError, "lr"),
    ("config seed -1", lambda: TrainConfig(seed=-1), ConfigError, "seed"),
    ("config seed 2**64", lambda: TrainConfig(seed=2**64), ConfigError, "seed"),
    ("config eval_every -1", lambda: TrainConfig(eval_every=-1), ConfigError, "eval_every"),
    ("config epochs 2.5", lambda: TrainConfig(epochs=2.5), ConfigError, "epochs"),
    ("config batch True", lambda: TrainConfig(batch_size=True), ConfigError, "batch_size"),
    ("device foo", lambda: resolve_device("foo"), ConfigError, "this machine has"),
    ("device meta", lambda: resolve_device("meta"), ConfigError, "meta"),
    ("spec supersample 400", lambda: MnistRotSpec(supersample=400), ConfigError, "supersample"),
    ("spec seed as text", lambda: MnistRotSpec(seed="1"), ConfigError, "seed"),
    ("spec too many digits", lambda: MnistRotSpec(n_test=10**6), ConfigError, "70000"),
]


@pytest.mark.parametrize("call,kind,needle", [a[1:] for a in API], ids=[a[0] for a in API])
def test_bad_api_inputs_raise_a_clear_exception(call, kind, needle):
    with pytest.raises(kind, match=needle) as info:
        call()
    assert "\n" not in str(info.value)
    if kind is ConfigError:  # a ValueError too, for callers that catch that
        assert isinstance(info.value, ValueError) and isinstance(info.value, GcnnViewerError)


def test_data_errors_are_project_errors():
    assert issubclass(DataError, GcnnViewerError) and issubclass(CheckpointError, GcnnViewerError)

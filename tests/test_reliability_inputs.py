"""Reliability of inputs (issue 19, sections 1, 4, 6 and 7), through the real entry points.

Untrusted images never run code, stored and given inputs never end in a traceback, messages
say what happened, and the Python API checks what it is given. Command lines run as
subprocesses (``python -m gcnn_viewer``) where the process itself is what is tested (its
exit status, its stderr, the processes it starts); in-process otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gcnn_viewer import cli
from gcnn_viewer.data.digits import IMAGE_FORMATS, DigitImageError, load_image_file
from gcnn_viewer.data.mnist_rot import MnistRotSpec
from gcnn_viewer.errors import GcnnViewerError
from gcnn_viewer.export.common import resolve_input, resolve_models
from tests import test_reliability_writes as writes

ROOT = Path(__file__).resolve().parents[1]
small_disk = writes.small_disk  # a fixture: a tmpfs that really fills (root only)

# An EPS "digit": Pillow identifies it by its first bytes and renders it by running
# Ghostscript, where `{ } loop` never ends.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\n"


def one_error_line(err: str, *needles: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("gcnn-viewer") and ": error: " in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def run_cli(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    **kwargs,
) -> subprocess.CompletedProcess:
    """``python -m gcnn_viewer ARGS`` as a user runs it (output captured unless redirected)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "gcnn_viewer", *args],
        env=environ,
        cwd=cwd,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def install_fake_gs(tmp_path: Path, monkeypatch) -> Path:
    """A ``gs`` first on PATH that records every call in a file (and exits at once, so a
    test of today's code cannot hang); the path of that record. Pillow looks ``gs`` up on
    PATH when it first needs it: its cached answer is reset for in-process calls."""
    from PIL import EpsImagePlugin

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "gs-called"
    gs = bin_dir / "gs"
    gs.write_text(
        f'#!/bin/sh\necho "$@" >> "{record}"\n[ "$1" = --version ] && echo 10.0 && exit 0\nexit 1\n'
    )
    gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    return record


@pytest.fixture
def fake_gs(tmp_path, monkeypatch):
    return install_fake_gs(tmp_path, monkeypatch)


def eps_named_png(folder: Path) -> Path:
    path = folder / "digit.png"
    path.write_bytes(EPS)
    return path


# -- 1. an image never runs code ---------------------------------------------------------------
def test_an_eps_file_named_png_is_refused_by_the_api_without_running_gs(fake_gs, tmp_path):
    path = eps_named_png(tmp_path)
    with pytest.raises(DigitImageError, match="not an image in a supported format") as info:
        load_image_file(path)
    assert "PostScript" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(GcnnViewerError, match="not an image in a supported format"):
        resolve_input(str(path))  # the export API's way in
    assert not fake_gs.exists(), fake_gs.read_text()


def test_an_eps_file_named_png_is_refused_by_the_cli_without_running_gs(fake_gs, tmp_path):
    path = eps_named_png(tmp_path)
    out = tmp_path / "fig.png"
    result = run_cli(
        ["export", "figure", "--model", "p4cnn", "--input", str(path), "--out", str(out)],
        env={"PATH": os.environ["PATH"]},
        timeout=60,
    )
    assert result.returncode == 2
    one_error_line(result.stderr, "digit.png", "not an image in a supported format")
    assert not fake_gs.exists(), fake_gs.read_text()
    assert not out.exists()


def _save(path: Path, fmt: str) -> Path:
    pixels = np.zeros((32, 32), np.uint8)
    pixels[6:26, 14:18] = 255  # a "1"
    Image.fromarray(pixels).convert("RGB" if fmt in ("JPEG", "WEBP") else "L").save(path, fmt)
    return path


# every allowed format, saved under a name that says otherwise: the content decides
ALLOWED = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "BMP": "BMP",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "WebP": "WEBP",
    "PNM": "PPM",
}


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_every_allowed_format_opens_whatever_its_name(fmt, tmp_path):
    path = _save(tmp_path / "digit.eps", ALLOWED[fmt])
    image = load_image_file(path)
    assert image.shape == (32, 32) and image.max() == pytest.approx(1.0)


@pytest.mark.parametrize("fmt", ["PCX", "TGA", "ICO", "DDS", "SGI", "PDF"])
def test_a_format_pillow_knows_but_not_allowed_is_refused(fmt, tmp_path):
    path = tmp_path / "digit.png"
    pixels = np.zeros((32, 32), np.uint8)
    pixels[6:26, 14:18] = 255
    Image.fromarray(pixels).convert("RGB").save(path, fmt)
    with pytest.raises(DigitImageError, match="not an image in a supported format"):
        load_image_file(path)


# -- 4. no traceback: output that cannot be written ---------------------------------------------
PRINTING = [
    ["data", "info"],
    ["data", "info", "--json"],
    ["analyse", "filters", "--model", "p4cnn", "--layer", "l1", "--json"],
    ["--version"],
]


@pytest.mark.parametrize("argv", PRINTING, ids=" ".join)
def test_a_full_stdout_is_one_line_and_a_failure(argv, tmp_path):
    with open("/dev/full", "w") as full:
        result = run_cli(argv, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode != 0
    one_error_line(result.stderr, "standard output", "no space left")


@pytest.mark.parametrize("argv", PRINTING[:2], ids=" ".join)
def test_a_closed_stdout_is_one_line_and_a_failure(argv, tmp_path):
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" -m gcnn_viewer "$@" >&-', sys.executable, *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    one_error_line(result.stderr, "standard output", "closed")


# -- 6. messages: hints name only options the command has ---------------------------------------
def _options(argv: list[str]) -> set[str]:
    """The option strings of the sub-command ``argv`` names."""
    import argparse

    parser = cli.build_parser()
    for word in argv:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return {s for a in parser._actions for s in a.option_strings}


OOM = [
    (["export", "sweep", "--model", "p4cnn", "--out", "s.csv"], "gcnn_viewer.export.cli"),
    (["export", "figure", "--model", "p4cnn", "--out", "f.png"], "gcnn_viewer.export.cli"),
    (["analyse", "equivariance", "--model", "p4cnn"], "gcnn_viewer.analysis.cli"),
    (["evaluate", "p4cnn"], "gcnn_viewer.cli"),
    (["train", "--model", "p4cnn"], "gcnn_viewer.cli"),
]


@pytest.mark.parametrize("argv,module", OOM, ids=[" ".join(o[0][:2]) for o in OOM])
@pytest.mark.parametrize("error", ["MemoryError", "OutOfMemoryError"])
def test_out_of_memory_hints_name_only_options_the_command_has(
    argv, module, error, monkeypatch, capsys
):
    import importlib
    import re

    def out_of_memory(args):
        if error == "MemoryError":
            raise MemoryError
        raise type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory")

    target = importlib.import_module(module)
    name = {"evaluate": "cmd_evaluate", "train": "cmd_train"}.get(argv[0], f"cmd_{argv[0]}")
    monkeypatch.setattr(target, name, out_of_memory)
    assert cli.main(argv) == 2
    line = one_error_line(capsys.readouterr().err, "out of memory")
    named = set(re.findall(r"--[a-z][a-z-]*", line))
    assert named, line  # it does suggest something
    assert named <= _options(argv[:2] if argv[0] in ("export", "analyse") else argv[:1]), line


def test_matplotlib_warnings_about_its_cache_folder_do_not_come_before_the_error(tmp_path):
    (tmp_path / "file").write_text("")  # the cache folder cannot be made under a file
    result = run_cli(
        ["analyse", "filters", "--model", "p4cnn", "--layer", "l9"],
        env={"MPLCONFIGDIR": str(tmp_path / "file" / "under-a-file"), "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    one_error_line(result.stderr, "l9")


# -- 6. messages: a model's name means the model --------------------------------------------------
def test_a_file_named_like_a_model_does_not_replace_the_model(tmp_path, monkeypatch):
    (tmp_path / "p4cnn").write_bytes(os.urandom(4096))  # e.g. a download saved without suffix
    result = run_cli(
        ["analyse", "filters", "--model", "p4cnn", "--layer", "l1", "--json"], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == "p4cnn"
    notes = [line for line in result.stderr.splitlines() if line.startswith("gcnn-viewer")]
    assert len(notes) == 1 and "./p4cnn" in notes[0] and "the model p4cnn" in notes[0]
    # the file, asked for as a path, is what fails, and the message names it as a checkpoint
    result = run_cli(["analyse", "filters", "--model", "./p4cnn", "--layer", "l1"], cwd=tmp_path)
    assert result.returncode == 2
    one_error_line(result.stderr, "p4cnn", "checkpoint")
    monkeypatch.chdir(tmp_path)  # the Python API follows the same rule
    (model,) = resolve_models(["p4cnn"])
    assert model.origin == "shipped"


# -- 6. messages: --json prints only a complete success ------------------------------------------
def test_json_is_not_printed_when_writing_out_fails(tmp_path, monkeypatch, capsys):
    from gcnn_viewer.analysis import figures
    from gcnn_viewer.export.common import ExportError

    def full_disk(path, *args, **kwargs):
        raise ExportError(f"cannot write {path}: no space left on the disk")

    monkeypatch.setattr(figures, "write_npz", full_disk)
    out = tmp_path / "bank.npz"
    argv = ["analyse", "filters", "--model", "p4cnn", "--layer", "l1", "--json", "--out", str(out)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no object that claims a result the command did not deliver
    one_error_line(captured.err, "no space left")


# -- 6. messages: a complete read-only data cache works for every command ---------------------
@dataclasses.dataclass(frozen=True)
class SmallSpec(MnistRotSpec):
    """The standard spec, made small: what every command asks for in these tests."""

    n_train: int = 20
    n_valid: int = 10
    n_test: int = 40


@pytest.fixture
def read_only_cache(tmp_path, monkeypatch) -> Path:
    """A complete MNIST-rot cache in a folder that cannot be written (root ignores chmod:
    ``os.access`` says so, as for a read-only mount), of the spec the commands ask for."""
    from gcnn_viewer.data import mnist, mnist_rot
    from gcnn_viewer.data.mnist_rot import MnistRot, _write, content_hash

    monkeypatch.setattr(mnist_rot, "MnistRotSpec", SmallSpec)
    cache = tmp_path / "cache"
    cache.mkdir()
    spec = SmallSpec()
    n = spec.n_total
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255
    labels = np.arange(n, dtype=np.int64) % 10
    angles = np.linspace(0, 350, n).astype(np.float32)
    data = MnistRot(images, labels, angles, np.arange(n), spec, content_hash(images, labels))
    _write(data, cache / spec.cache_name)
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(cache))
    real = os.access

    def access(path, mode, *args, **kwargs):
        inside = Path(path).resolve().is_relative_to(cache.resolve())
        return False if inside and mode & os.W_OK else real(path, mode, *args, **kwargs)

    monkeypatch.setattr(mnist.os, "access", access)
    return cache


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "p4cnn", "--json"],
        ["analyse", "accuracy", "--model", "p4cnn", "--bins", "4", "--json"],
        ["export", "figure", "--model", "p4cnn", "--input", "mnist-rot:3", "--out", "OUT"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_complete_read_only_data_cache_works_for_every_command(
    argv, read_only_cache, tmp_path, capsys
):
    argv = [a.replace("OUT", str(tmp_path / "fig.png")) for a in argv]
    assert cli.main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if "--json" in argv:
        assert json.loads(out)


# -- 7. the Python API checks what it is given -------------------------------------------------
@pytest.fixture(scope="module")
def spec_parts():
    return resolve_models(["p4cnn"]), resolve_input("7")


def _view_spec(parts, **kwargs):
    from gcnn_viewer.export import ViewSpec

    models, source = parts
    return ViewSpec(models, source, **kwargs)


def _digit():
    from gcnn_viewer.data.digits import to_mnist_digit

    image = np.zeros((28, 28), np.float32)
    image[6:22, 13:15] = 1.0
    return to_mnist_digit(image)


def _model():
    from gcnn_viewer.models import load_pretrained

    return load_pretrained("p4cnn")


def _state():
    from gcnn_viewer.viewer.models import ModelCatalog
    from gcnn_viewer.viewer.state import ViewerState

    return ViewerState(ModelCatalog())


def _set(obj, name, value):
    setattr(obj, name, value)


NAN = float("nan")
API = [  # (id, call(parts), the argument the one-line message names)
    ("build_model channels=0", lambda p: _build("p4cnn", channels=0), "channels"),
    ("build_model channels=1e9", lambda p: _build("p4cnn", channels=10**9), "channels"),
    ("build_model channels=2.5", lambda p: _build("z2cnn", channels=2.5), "channels"),
    ("build_model channels=True", lambda p: _build("p4mcnn", channels=True), "channels"),
    ("build_model unknown option", lambda p: _build("p4cnn", width=3), "width"),
    ("build_model name not text", lambda p: _build(3), "name"),
    ("build_model dropout NaN", lambda p: _build("z2cnn", dropout=NAN), "dropout"),
    ("P4ConvZ2 out 1e9", lambda p: _layer("P4ConvZ2", 1, 10**9, 3), "out_channels"),
    ("P4ConvP4 in 1.5", lambda p: _layer("P4ConvP4", 1.5, 4, 3), "in_channels"),
    ("P4MConvZ2 kernel 0", lambda p: _layer("P4MConvZ2", 1, 4, 0), "kernel_size"),
    ("ViewSpec channels [1.5]", lambda p: _view_spec(p, channels=[1.5]), "channels"),
    ("ViewSpec channels [-1]", lambda p: _view_spec(p, channels=[-1]), "channels"),
    ("ViewSpec channels 3", lambda p: _view_spec(p, channels=3), "channels"),
    ("ViewSpec layers 'l1'", lambda p: _view_spec(p, layers="l1"), "layers"),
    ("ViewSpec layers [1]", lambda p: _view_spec(p, layers=[1]), "layers"),
    ("ViewSpec angles [NaN]", lambda p: _view_spec(p, angles=[NAN]), "angles"),
    ("ViewSpec angles 90", lambda p: _view_spec(p, angles=90), "angles"),
    ("ViewSpec angles ['90']", lambda p: _view_spec(p, angles=["90"]), "angles"),
    ("ViewSpec stabilised 'no'", lambda p: _view_spec(p, stabilised="no"), "stabilised"),
    ("ViewSpec models [str]", lambda p: _view_spec((["p4cnn"], p[1])), "models"),
    ("ViewSpec input str", lambda p: _view_spec((p[0], "7")), "input"),
    ("resolve_models str", lambda p: resolve_models("p4cnn"), "a list"),
    ("resolve_input int", lambda p: resolve_input(7), "input"),
    ("rotate_input NaN", lambda p: _rotate(_digit(), NAN), "angle"),
    ("rotate_input text", lambda p: _rotate(_digit(), "90"), "angle"),
    ("to_mnist_digit factor 0", lambda p: _to_digit(np.eye(30), factor=0), "factor"),
    ("to_mnist_digit NaN", lambda p: _to_digit(np.full((30, 30), NAN)), "non-finite"),
    ("equivariance angles [NaN]", lambda p: _curve(_model(), _digit(), [NAN]), "angles"),
    ("equivariance angles '90'", lambda p: _curve(_model(), _digit(), "90"), "angles"),
    ("equivariance model name", lambda p: _curve("p4cnn", _digit(), [0]), "model"),
    ("equivariance x 3x3", lambda p: _curve(_model(), np.eye(3), [0]), "28×28"),
    ("filter_bank channel 1.5", lambda p: _bank(_model(), "l1", 1.5), "channel"),
    ("filter_bank layer list", lambda p: _bank(_model(), ["l1"], 0), "layer"),
    ("filter_bank model str", lambda p: _bank("p4cnn", "l1", 0), "model"),
    ("upright angles '90'", lambda p: _upright(_model(), "90"), "angles"),
    ("sweep step text", lambda p: _render("sweep_angles", "5"), "--step"),
    (
        "animation frames 2.5",
        lambda p: _render("check_animation_options", 2.5, 12, 100),
        "--frames",
    ),
    ("dpi text", lambda p: _render("check_dpi", "100"), "--dpi"),
    ("state angle NaN", lambda p: _set(_state(), "angle", NAN), "angle"),
    ("state brush text", lambda p: _set(_state(), "brush", "big"), "brush"),
    ("state class 2.5", lambda p: _set(_state(), "tracked_class", 2.5), "tracked class"),
    ("drawing NaN image", lambda p: _drawing(np.full((28, 28), NAN)), "non-finite"),
    ("drawing huge image", lambda p: _drawing(np.zeros((5000, 2), np.float32)), "at most"),
    ("load_model int", lambda p: _models("load_model", 3), "path"),
    ("p4 compose 1.5", lambda p: _group("P4", "compose", 1.5, 1), "p4 element"),
    ("p4 inverse -1", lambda p: _group("P4", "inverse", -1), "p4 has elements"),
    ("p4m rotation 8", lambda p: _group("P4M", "rotation", 8), "p4m has elements"),
    ("rot_accuracy data text", lambda p: _rot_accuracy(_model(), "mnist-rot"), "data"),
    ("load_mnist_rot spec text", lambda p: _load_rot("standard"), "spec"),
    ("export_figure spec text", lambda p: _render("export_figure", "p4cnn", "f.png"), "spec"),
    ("export_sweep spec None", lambda p: _render("export_sweep", None, "s.csv"), "spec"),
    ("export_data path int", lambda p: _render("export_data", _view_spec(p), 3), "path"),
    ("box_downsample factor 0", lambda p: _digits("box_downsample", np.eye(28), 0), "factor"),
    ("browser step 1.5", lambda p: _browser().step(1.5), "step"),
    ("catalog open_checkpoint 3", lambda p: _catalog().open_checkpoint(3), "path"),
]


def _digits(name, *args):
    import gcnn_viewer.data.digits as digits

    return getattr(digits, name)(*args)


def _browser():
    from gcnn_viewer.viewer.browser import DigitBrowser

    return DigitBrowser(np.zeros((3, 28, 28), np.uint8), np.arange(3))


def _catalog():
    from gcnn_viewer.viewer.models import ModelCatalog

    return ModelCatalog()


def _models(name, *args):
    import gcnn_viewer.models as models

    return getattr(models, name)(*args)


def _group(group, method, *args):
    import gcnn_viewer.group as groups

    return getattr(getattr(groups, group), method)(*args)


def _rot_accuracy(model, data):
    from gcnn_viewer.analysis import rot_accuracy

    return rot_accuracy(model, data)


def _load_rot(spec):
    from gcnn_viewer.data import load_mnist_rot

    return load_mnist_rot(spec)


def _build(*args, **kwargs):
    from gcnn_viewer.models import build_model

    return build_model(*args, **kwargs)


def _layer(name, *args):
    import gcnn_viewer.nn as layers

    return getattr(layers, name)(*args)


def _rotate(*args):
    from gcnn_viewer.data.digits import rotate_input

    return rotate_input(*args)


def _to_digit(*args, **kwargs):
    from gcnn_viewer.data.digits import to_mnist_digit

    return to_mnist_digit(*args, **kwargs)


def _curve(*args):
    from gcnn_viewer.analysis import equivariance_curve

    return equivariance_curve(*args)


def _bank(*args):
    from gcnn_viewer.analysis import filter_bank

    return filter_bank(*args)


def _upright(model, angles):
    from gcnn_viewer.analysis import upright_accuracy

    images = np.zeros((4, 28, 28), np.uint8)
    return upright_accuracy(model, angles, mnist=(images, np.arange(4)))


def _render(name, *args):
    from gcnn_viewer.export import render

    return getattr(render, name)(*args)


def _drawing(image):
    from gcnn_viewer.viewer.drawing import Drawing

    Drawing().set_image(image)


@pytest.mark.parametrize("call,needle", [a[1:] for a in API], ids=[a[0] for a in API])
def test_public_functions_check_their_arguments(call, needle, spec_parts):
    """One documented exception type (GcnnViewerError; ConfigError, a ValueError too, for a
    bad value), one line naming the argument: never a ZeroDivisionError, a 36 GB allocation,
    a channel silently truncated, a string read letter by letter or a NaN inside numpy."""
    with pytest.raises(GcnnViewerError) as info:
        call(spec_parts)
    message = str(info.value)
    assert "\n" not in message and needle in message, message


# -- 4. no traceback: a checkpoint save on a full disk -------------------------------------------
def test_a_checkpoint_save_on_a_full_disk_is_one_line_and_keeps_the_old_one(small_disk, tmp_path):
    """The disk fills during a run (after the trial write at its start): the end-of-epoch save
    (``Trainer.save``, what the CLI and the Train panel call) raised torch's "RuntimeError:
    unexpected pos"; the command line then printed a traceback."""
    from gcnn_viewer.errors import CheckpointError
    from gcnn_viewer.training import TrainConfig, Trainer
    from tests.training.conftest import tiny_datasets

    disk = small_disk("1m")
    run = disk / "run.pt"
    config = TrainConfig(model="z2cnn", epochs=2, batch_size=16, device="cpu")
    trainer = Trainer(config, tiny_datasets(), checkpoint_path=run, report_every=1)
    steps = trainer.run()
    next(r for r in steps if r.kind == "step")
    trainer.save()
    before = run.read_bytes()
    next(r for r in steps if r.kind == "step")  # a step later, the disk is nearly full:
    writes.fill(disk)  # the save starts, and runs out of room in the middle
    filler = disk / "filler"
    os.truncate(filler, max(0, filler.stat().st_size - 20_000))  # room for a part of it
    with pytest.raises(CheckpointError) as info:
        trainer.save()
    message = str(info.value)
    assert "\n" not in message and "run.pt" in message and "no space left" in message
    assert run.read_bytes() == before  # the old checkpoint is whole
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "run.pt"]  # no temp file left


# -- 6. messages: a folder or a FIFO given as a file says what it is ----------------------------
@pytest.mark.parametrize("kind", ["fifo", "folder"])
@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "PATH"],
        ["analyse", "filters", "--model", "PATH", "--layer", "l1"],
        ["export", "figure", "--model", "p4cnn", "--input", "PATH", "--out", "OUT"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_fifo_or_folder_given_as_a_file_says_what_it_is(argv, kind, tmp_path):
    path = tmp_path / ("thing.png" if "--input" in argv else "thing.pt")
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    argv = [a.replace("PATH", str(path)).replace("OUT", str(tmp_path / "f.png")) for a in argv]
    result = run_cli(argv, timeout=120)  # a FIFO opened for reading would never return
    assert result.returncode == 2
    said = "not a regular file" if kind == "fifo" else "is a directory"
    line = one_error_line(result.stderr, path.name, said)
    assert "no such" not in line


def test_a_damaged_example_digit_is_left_out_not_decoded(tmp_path, fake_gs):
    """The shipped examples go through the same loader: one replaced by an EPS file is left
    out (the app still starts with the others), and Ghostscript never runs."""
    import shutil

    from gcnn_viewer.models.pretrained import shipped_dir
    from gcnn_viewer.viewer.models import sample_digits

    folder = tmp_path / "samples"
    shutil.copytree(shipped_dir() / "samples", folder)
    shipped = sorted(folder.glob("*.png"))
    shipped[0].write_bytes(EPS)
    names = [name for name, _ in sample_digits(folder)]
    assert names == [p.stem for p in shipped[1:]]
    assert not fake_gs.exists()


def test_a_terminal_that_cannot_show_a_character_gets_an_escape_not_a_traceback(tmp_path):
    out = tmp_path / "ángulo.png"  # printed back: "wrote …/ángulo.png"
    argv = ["export", "figure", "--model", "p4cnn", "--out", str(out)]
    result = run_cli(argv, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "\\xe1ngulo.png" in result.stdout and out.is_file()

"""``gcnn-viewer analyse``: JSON exactly as issue 12 writes it, files with provenance, one-line
errors, and no Qt."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gcnn_viewer.analysis import accuracy as accuracy_module
from gcnn_viewer.analysis import cli as analysis_cli
from gcnn_viewer.analysis.cli import add_analyse_parser
from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from tests.analysis.test_accuracy import _samples, synthetic_rot

LAYERS = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top", "logits"]


def run(argv: list[str]) -> int:
    """The analyse command as the main parser runs it (its own sub-parser, its function)."""
    parser = argparse.ArgumentParser(prog="gcnn-viewer")
    add_analyse_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("gcnn-viewer: error: ") and "Traceback" not in err
    return lines[0]


def test_main_parser_has_analyse_and_analyze(capsys):
    from gcnn_viewer.cli import main

    assert main(["analyze", "equivariance", "--model", "p4cnn", "--angles", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "p4cnn"


def test_equivariance_json_schema(capsys):
    code = run(
        ["analyse", "equivariance", "--model", "p4cnn", "--angles", "0", "30", "90", "--json"]
    )
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    assert list(obj) == ["model", "input", "angles", "error"]
    assert obj["model"] == "p4cnn" and obj["input"].startswith("sample 7")
    assert obj["angles"] == [0.0, 30.0, 90.0]
    assert list(obj["error"]) == LAYERS  # feature_maps order
    for values in obj["error"].values():
        assert len(values) == 3 and values[0] == 0.0 and values[2] <= EXACT_TOLERANCE
        assert values[1] > 1e-3


def test_equivariance_default_angles_and_table(capsys):
    assert run(["analyse", "equivariance", "--model", "z2cnn", "p4cnn"]) == 0
    out = capsys.readouterr().out
    assert "z2cnn: equivariance error" in out and "p4cnn: equivariance error" in out
    assert "72 angles" in out


def test_accuracy_json_schema(capsys, monkeypatch, cache):
    monkeypatch.setattr(analysis_cli, "_data_for", lambda model: synthetic_rot(300))
    assert run(["analyse", "accuracy", "--model", "p4cnn", "--bins", "12", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert list(obj) == ["model", "n", "error", "bins"]
    assert obj["n"] == 300 and len(obj["bins"]) == 12
    assert all(list(b) == ["from", "to", "n", "error"] for b in obj["bins"])
    assert obj["bins"][0]["from"] == 0.0 and obj["bins"][-1]["to"] == 360.0
    assert sum(b["n"] for b in obj["bins"]) == 300
    wrong = sum(round(b["n"] * b["error"]) for b in obj["bins"] if b["n"])
    assert wrong == round(obj["error"] * 300)


def test_upright_json_schema_and_note(capsys, monkeypatch, cache):
    monkeypatch.setattr(accuracy_module, "load_mnist", lambda split, root: _samples())
    argv = ["analyse", "accuracy", "--model", "p4cnn", "--source", "mnist-upright"]
    assert run([*argv, "--angles", "0", "90", "180", "270", "--json"]) == 0
    captured = capsys.readouterr()
    obj = json.loads(captured.out)
    assert list(obj) == ["model", "n", "points"]
    assert [p["angle"] for p in obj["points"]] == [0.0, 90.0, 180.0, 270.0]
    assert len({p["error"] for p in obj["points"]}) == 1  # P4CNN: identical at quarter turns
    assert "some of these digits were MNIST-rot training digits" in captured.err


def _png_provenance(path: Path) -> dict:
    from PIL import Image

    with Image.open(path) as im:
        return json.loads(im.text["gcnn-viewer"])


def test_out_files_carry_provenance(tmp_path, capsys, monkeypatch, cache):
    png = tmp_path / "eq.png"
    argv = ["analyse", "equivariance", "--model", "z2cnn", "p4cnn", "--angles", "0", "45", "90"]
    assert run([*argv, "--dpi", "40", "--out", str(png)]) == 0
    meta = _png_provenance(png)
    assert meta["kind"] == "analysis-equivariance"
    assert [m["name"] for m in meta["models"]] == ["z2cnn", "p4cnn"]
    assert len(meta["models"][1]["sha256"]) == 64

    csv_path = tmp_path / "eq.csv"
    assert run([*argv, "--out", str(csv_path)]) == 0
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("angle,z2cnn/l1,") and len(rows) == 4
    assert json.loads((tmp_path / "eq.csv.json").read_text())["angles"] == [0.0, 45.0, 90.0]

    npz = tmp_path / "eq.npz"
    assert run([*argv, "--out", str(npz)]) == 0
    with np.load(npz) as f:
        assert f["p4cnn/logits"].shape == (3,) and f["p4cnn/l3"][2] <= EXACT_TOLERANCE
        assert json.loads(str(f["meta"]))["layer_order"]["p4cnn"] == LAYERS

    monkeypatch.setattr(analysis_cli, "_data_for", lambda model: synthetic_rot(200))
    acc = tmp_path / "acc.svg"
    assert run(["analyse", "accuracy", "--model", "z2cnn", "p4cnn", "--out", str(acc)]) == 0
    assert "Error vs angle" in acc.read_text()

    filt = tmp_path / "filters.pdf"
    assert run(["analyse", "filters", "--model", "p4cnn", "--layer", "l3", "--channel", "2",
                "--out", str(filt)]) == 0  # fmt: skip
    assert filt.read_bytes().startswith(b"%PDF")
    fnpz = tmp_path / "filters.npz"
    assert run(["analyse", "filters", "--model", "p4cnn", "--out", str(fnpz)]) == 0
    with np.load(fnpz) as f:
        assert f["expanded"].shape == (4, 10, 4, 3, 3) and f["stored"].shape == (10, 4, 3, 3)


def test_filters_json(capsys):
    assert run(["analyse", "filters", "--model", "p4cnn", "--layer", "l1", "--channel", "9",
                "--json"]) == 0  # fmt: skip
    obj = json.loads(capsys.readouterr().out)
    assert obj["orientations"] == ["0°", "90°", "180°", "270°"]
    assert np.asarray(obj["expanded"]).shape == (4, 1, 1, 3, 3)
    assert obj["parameters"]["layer"] * 4 == obj["parameters"]["plain_layer"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["equivariance", "--model", "resnet"], "unknown model 'resnet'"),
        (["equivariance", "--model", "p4cnn", "--input", "nope.png"], "nope.png"),
        (["equivariance", "--model", "p4cnn", "--out", "x.gif"], "not .gif"),
        (["equivariance", "--model", "p4cnn", "--out", "/no/such/dir/x.png"], "no such directory"),
        (["filters", "--model", "p4cnn", "--layer", "pool"], "no convolution layer 'pool'"),
        (["filters", "--model", "p4cnn", "--channel", "12"], "channels 0..9, not 12"),
        (["filters", "--model", "p4cnn", "--out", "f.csv"], "not .csv"),
        (["accuracy", "--model", "p4cnn", "--angles", "10"], "--source mnist-upright"),
        (["accuracy", "--model", "p4cnn", "--source", "mnist-upright"], "gcnn-viewer data fetch"),
        (["equivariance", "--model", "p4cnn", "--out", "x.png", "--dpi", "0"], "dpi"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys, cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["analyse", *argv]) == 2
    line = one_line(capsys.readouterr().err)
    assert message in line
    assert not [p for p in tmp_path.iterdir() if p.name != "cache"]  # nothing written


@pytest.mark.parametrize(
    "argv",
    [
        ["analyse", "accuracy", "--model", "p4cnn", "--bins", "0"],
        ["analyse", "equivariance", "--model", "p4cnn", "--angles", "nan"],
        ["analyse", "filters", "--model", "p4cnn", "--channel", "x"],
    ],
)
def test_bad_arguments_are_one_line(argv, capsys):
    from gcnn_viewer.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


NO_QT = textwrap.dedent(
    """
    import argparse, importlib.abc, json, sys

    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, NoQt())
    from gcnn_viewer.analysis.cli import add_analyse_parser

    out = sys.argv[1]
    codes = []
    for argv in (
        ["equivariance", "--model", "p4cnn", "--angles", "0", "45", "--out", out + "/e.png",
         "--dpi", "30"],
        ["filters", "--model", "p4cnn", "--out", out + "/f.svg"],
    ):
        parser = argparse.ArgumentParser()
        add_analyse_parser(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["analyse", *argv])
        codes.append(args.func(args))
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({"codes": codes, "qt": loaded}))
    """
)


def test_runs_with_qt_unimportable(tmp_path):
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", NO_QT, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"codes": [0, 0], "qt": []}
    assert (tmp_path / "e.png").stat().st_size > 0 and (tmp_path / "f.svg").stat().st_size > 0


def test_building_the_parser_does_not_import_torch():
    """``gcnn-viewer --help`` stays fast: the analyse parser loads no torch (nor matplotlib)."""
    code = (
        "import sys; from gcnn_viewer.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

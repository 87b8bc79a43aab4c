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
SHIPPED = Path(__file__).resolve().parents[2] / "resources"


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
    assert list(obj) == ["model", "input", "angles", "error", "settings", "readout"]
    assert obj["settings"] == {
        "input_size": 28,
        "rotation": "native",
        "mask": "none",
        "weights": None,
    }
    assert obj["readout"]["text"] == "exact up to logits at 90°: every layer"
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
        (["equivariance", "--model", "p4cnn", "--input-size", "65"], "input size must be 20..64"),
        (["equivariance", "--model", "p4cnn", "--rotation", "lanczos"], "rotation method"),
        (["equivariance", "--model", "p4cnn", "--rotation", "supersample:0"], "supersample:K"),
        (["equivariance", "--model", "p4cnn", "--weights", "a.pt", "b.pt"], "2 files for 1"),
        (["equivariance", "--model", "p4cnn", "--weights", "none.pt"], "none.pt: no such file"),
        (["equivariance", "--model", "p4cnn", "--weights", "Z2"], "do not match the model"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys, cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [str(SHIPPED / "z2cnn.pt") if a == "Z2" else a for a in argv]
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


# -- the equivariance lab's switches (issue 23) -------------------------------------------------
METHODS = ["native", "nearest", "bilinear", "bicubic", "supersample:2", "supersample:8"]


def lab_json(capsys, *switches: str, angles=("0", "45", "90", "180", "270")) -> dict:
    argv = ["analyse", "equivariance", "--model", "p4cnn", "--json", "--angles", *angles]
    assert run([*argv, *switches]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("mask", ["none", "disc"])
@pytest.mark.parametrize("method", METHODS)
def test_at_the_shipped_size_every_p4cnn_layer_is_exact_at_quarter_turns(capsys, method, mask):
    obj = lab_json(capsys, "--rotation", method, "--mask", mask)
    assert obj["settings"] == {
        "input_size": 28,
        "rotation": method,
        "mask": mask,
        "weights": None,
    }
    assert list(obj["error"]) == LAYERS
    for layer, err in obj["error"].items():
        assert max(err[2:]) <= EXACT_TOLERANCE, (layer, err)  # 90°, 180°, 270°
        assert err[1] > 1e-3, (layer, err)  # 45°: interpolated
    assert obj["readout"]["first_broken"] is None


def test_at_29_the_layers_from_the_pool_on_break_and_the_readout_names_the_pool(capsys):
    obj = lab_json(capsys, "--input-size", "29")
    assert obj["settings"]["input_size"] == 29
    for layer in ("l1", "l2"):
        assert max(obj["error"][layer][2:]) <= EXACT_TOLERANCE, layer
    for layer in LAYERS[2:]:
        assert min(obj["error"][layer][2:]) > 1e-2, layer
    readout = obj["readout"]
    assert (readout["exact_up_to"], readout["first_broken"]) == ("l2", "pool")
    assert readout["text"] == (
        "exact up to l2 at 90°; first broken: pool (the 2×2 max-pool meets an odd 25×25 map: "
        "it drops a row and a column and moves the rotation centre)"
    )


def test_at_27_the_top_and_logits_are_null_with_the_reason(capsys):
    obj = lab_json(capsys, "--input-size", "27", angles=("45",))  # the readout adds 90°
    assert obj["error"]["top"] is None and obj["error"]["logits"] is None
    assert obj["error"]["l6"][0] > 1e-3
    reason = "top cannot be computed at input 27×27: its 4×4 kernel is larger than the 3×3 map"
    assert obj["readout"]["unavailable"]["logits"].startswith(reason)
    assert run(["analyse", "equivariance", "--model", "p4cnn", "--input-size", "27"]) == 0
    out = capsys.readouterr().out
    assert "27×27, rotation native, mask none" in out and "n/a: top, logits (" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:11]}
    assert rows["top"] == rows["logits"] == ["n/a", "n/a", "n/a"] and rows["l6"][0] != "n/a"


def test_settings_echo_every_switch_and_weights_give_a_second_curve_set(capsys, tmp_path):
    weights = tmp_path / "p4-copy.pt"
    weights.write_bytes((SHIPPED / "p4cnn.pt").read_bytes())
    switches = ["--input-size", "30", "--rotation", "Bilinear", "--mask", "disc"]
    objs = lab_json(capsys, *switches, "--weights", str(weights))
    assert [o["model"] for o in objs] == ["p4cnn", "p4-copy"]
    expected = {"input_size": 30, "rotation": "bilinear", "mask": "disc"}
    assert objs[0]["settings"] == {**expected, "weights": None}
    assert objs[1]["settings"] == {**expected, "weights": str(weights)}
    assert objs[0]["error"] == objs[1]["error"]  # the same weights: the same curves
    assert objs[0]["readout"]["text"] == "exact up to logits at 90°: every layer"


def test_weights_from_another_training_change_the_curves_of_the_same_network(capsys, tmp_path):
    """An untrained P4CNN's weights saved as a state_dict: still exact at 90° (the network's
    structure makes it so), another curve at 45°."""
    import torch

    from gcnn_viewer.models.networks import build_model

    torch.manual_seed(3)
    path = tmp_path / "untrained.pt"
    torch.save(build_model("p4cnn").state_dict(), path)
    objs = lab_json(capsys, "--weights", str(path))
    trained, untrained = objs
    assert untrained["model"] == "untrained" and untrained["readout"]["first_broken"] is None
    assert trained["error"]["l1"][1] != untrained["error"]["l1"][1]


def test_files_record_the_switches_and_the_figure_names_them(tmp_path, capsys, monkeypatch):
    argv = ["analyse", "equivariance", "--model", "p4cnn", "--angles", "0", "90"]
    switches = ["--input-size", "29", "--mask", "disc"]
    assert run([*argv, *switches, "--out", str(tmp_path / "e.csv")]) == 0
    meta = json.loads((tmp_path / "e.csv.json").read_text())
    assert meta["settings"] == {
        "p4cnn": {"input_size": 29, "rotation": "native", "mask": "disc", "weights": None}
    }
    assert meta["readout"]["p4cnn"].startswith("exact up to l2 at 90°; first broken: pool")
    from gcnn_viewer.analysis import figures

    labels = []
    real = figures.equivariance_figure
    monkeypatch.setattr(
        figures,
        "equivariance_figure",
        lambda c, a, label, s: labels.append(label) or real(c, a, label, s),
    )
    assert run([*argv, *switches, "--out", str(tmp_path / "e.png"), "--dpi", "30"]) == 0
    assert run([*argv, "--out", str(tmp_path / "d.png"), "--dpi", "30"]) == 0
    assert labels == [
        "sample 7 (MNIST test #0) · input 29×29 · rotation native · mask disc",
        "sample 7 (MNIST test #0)",  # the default settings: as before
    ]


def test_your_own_model_runs_in_the_lab_at_the_size_its_digit_is_drawn(capsys):
    """A user's model taking 96×96 (more than the drawing's 64) gets the 28×28 digit, which
    its wrapper pads: the lab runs at 28 instead of refusing 96 in one line."""
    nets = Path(__file__).resolve().parents[1] / "models" / "user_nets.py"
    argv = ["--model", f"{nets}:p4_net", "--input-size", "96", "--angles", "90", "--json"]
    assert run(["analyse", "equivariance", *argv]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["settings"]["input_size"] == 28
    assert obj["readout"]["first_broken"] is None

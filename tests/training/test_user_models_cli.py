"""Your own model through the command line, end to end (issue 22): ``train`` it, then
``evaluate`` its checkpoint on MNIST-rot and ``export`` data, a figure and an animation of it;
every mistake is one line and exit status 2. Tiny data stands in for MNIST-rot."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnn_viewer import cli
from gcnn_viewer.models.user import load_user_model
from gcnn_viewer.training import Datasets, TrainConfig, Trainer, read_checkpoint
from tests.test_cli import TinyMnistRot, tiny_data  # noqa: F401
from tests.training.test_user_models import MODELS

FAST = ["--epochs", "1", "--batch-size", "16", "--device", "cpu"]


@pytest.fixture
def nets(tmp_path, monkeypatch):
    """MODELS as a file, the data cache in tmp_path, and tmp_path the current folder (the
    default --out is runs/NAME-seedS.pt there)."""
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "nets.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("gcnn-viewer") and ": error: " in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_train_then_evaluate_a_user_model(tiny_data, nets, capsys):  # noqa: F811
    """The error evaluate measures is the one the run reported: the same digits, drawn into
    the same 30×30 field, through the same weights (the checkpoint, or the factory and the
    checkpoint as --weights)."""
    spec = f"{nets}:small"
    argv = ["train", "--model", spec, "--name", "mine", "--input-size", "30", *FAST]
    assert cli.main(argv) == 0
    out = Path("runs/mine-seed0.pt")  # the default --out names the model
    assert "training mine (" in capsys.readouterr().err
    record = read_checkpoint(out)
    assert record["model_config"]["spec"] == spec and record["model_config"]["input_size"] == 30
    assert record["train_config"]["name"] == "mine" and record["complete"]
    reported = record["metrics"]["final"]["test_error"]
    for how in (
        ["evaluate", str(out)],
        ["evaluate", "--model", spec, "--weights", str(out), "--input-size", "30"],
    ):
        assert cli.main([*how, "--json", "--device", "cpu"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["n"] == 16 and result["error"] == reported, how
    assert cli.main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "mine"


def test_resume_and_init_from_a_user_models_run(tiny_data, nets, tmp_path, capsys):  # noqa: F811
    spec = f"{nets}:small"
    full, part = tmp_path / "full.pt", tmp_path / "part.pt"
    two = ["--epochs", "2", "--batch-size", "16", "--device", "cpu"]
    assert cli.main(["train", "--model", spec, *two, "--out", str(full)]) == 0
    # a run stopped after its first epoch (its checkpoint of the end of that epoch)
    config = TrainConfig(model=spec, epochs=2, batch_size=16, device="cpu")
    trainer = Trainer(config, Datasets.from_mnist_rot(TinyMnistRot()), checkpoint_path=part)
    next(r for r in trainer.run() if r.kind == "epoch")
    assert not read_checkpoint(part)["complete"]
    assert cli.main(["train", "--resume", str(part)]) == 0
    a, b = read_checkpoint(full)["state_dict"], read_checkpoint(part)["state_dict"]
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    # --init-from a finished run of a user model: its weights, under its spec, name and size
    again = tmp_path / "again.pt"
    argv = ["train", "--init-from", str(full), *FAST, "--out", str(again), "--seed", "3"]
    assert cli.main(argv) == 0
    started = read_checkpoint(again)
    assert started["train_config"]["model"] == spec
    assert started["train_config"]["weights"] == str(full)
    assert started["train_config"]["init_from"] is None
    assert started["model_config"]["name"] == "small"


def test_export_data_figure_and_animation_of_a_trained_user_model(tiny_data, nets, capsys):  # noqa: F811
    spec = f"{nets}:small"
    assert cli.main(["train", "--model", spec, "--out", "run.pt", *FAST]) == 0
    layers = [r.name for r in load_user_model(spec).layer_records()]
    assert layers == ["conv", "norm", "logits"]  # drop and head give [B, K]: no maps
    own = ["--model", spec, "--weights", "run.pt", "--name", "mine", "--input", "3"]
    assert cli.main(["export", "data", *own, "--angles", "0", "90", "--out", "maps.npz"]) == 0
    with np.load("maps.npz") as data:
        keys = set(data.files)
        conv = data["mine/conv@0"]
    assert {f"mine/{layer}@{a}" for layer in layers for a in (0, 90)} <= keys
    assert conv.shape == (4, 26, 26)  # planar maps [C, H, W] of the trained model
    # the checkpoint itself names the model (its spec, name and size): the same maps
    assert cli.main(["export", "data", "--model", "run.pt", "--input", "3", "--out", "c.npz"]) == 0
    with np.load("c.npz") as data:
        assert np.array_equal(data["small/conv@0"], conv)
    model = load_user_model(spec, weights="run.pt").eval()
    with torch.no_grad():
        assert not torch.equal(model.module.conv.weight, load_user_model(spec).module.conv.weight)
    assert cli.main(["export", "figure", *own, "--out", "fig.png"]) == 0
    assert cli.main(["export", "animation", *own, "--out", "turn.gif"]) == 0
    for name in ("fig.png", "turn.gif"):
        assert Path(name).stat().st_size > 1000, name
    from PIL import Image

    with Image.open("turn.gif") as gif:
        assert gif.n_frames > 1


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--model", "p4cnn", "--name", "mine"], "--name goes with a model of your own"),
        (["--model", "p4cnn", "--input-size", "29"], "--input-size goes with a model of your"),
        (["--model", "{nets}:seven"], "returns [2, 7] float32 for [2, 1, 28, 28] digits"),
        (["--model", "{nets}:broken"], "broken() raised RuntimeError: no weights for you"),
        (["--model", "{nets}:nope"], "defines no 'nope'"),
        (["--model", "{nets}:small", "--weights", "{nets}"], "cannot be read as a state_dict"),
        (["--model", "{nets}:small", "--init-from", "x.pt"], "--weights, not --init-from"),
        (["--model", "vgg"], "nor a model of your own, FILE.py:FACTORY"),
        (["--model", "{nets}:small", "--input-size", "65"], "--input-size"),
    ],
)
def test_train_mistakes_are_one_line(tiny_data, nets, capsys, argv, message):  # noqa: F811
    argv = [a.format(nets=nets) for a in argv]
    assert cli.main(["train", *argv, *FAST]) == 2
    assert message in one_line_error(capsys)
    assert not Path("runs").exists()  # refused before anything was written

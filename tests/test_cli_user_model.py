"""Your own model on the command line (issue 22): ``analyse``, ``export`` and ``evaluate``
take ``--model FILE.py:FACTORY`` / ``package.module:FACTORY`` with ``--weights``, ``--name``,
``--input-size`` and ``--layers``; every user error is one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnn_viewer import cli
from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.models.user import load_user_model
from tests.fixtures import _one_thread  # noqa: F401
from tests.test_cli import TinyMnistRot, tiny_data  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
NETS = REPO / "tests" / "models" / "user_nets.py"
EXAMPLES = REPO / "examples"
PLAIN_EXAMPLES = ("plain_cnn", "p4_plain_torch", "torchvision_style")  # torch only


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "cache"))


def equivariance_json(capsys, spec: str, *extra: str) -> dict:
    argv = ["analyse", "equivariance", "--model", spec, "--input", "3", "--angles", "0", "90",
            "45", "--json", *extra]  # fmt: skip
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_analyse_equivariance_of_a_p4_and_a_plain_user_model(capsys) -> None:
    p4 = equivariance_json(capsys, f"{NETS}:p4_net")
    assert p4["model"] == "p4_net" and p4["angles"] == [0.0, 90.0, 45.0]
    layers = [r.name for r in load_user_model(f"{NETS}:p4_net").layer_records()]
    assert list(p4["error"]) == layers and layers[-1] == "logits"
    for errors in p4["error"].values():
        assert errors[0] == 0.0 and errors[1] <= EXACT_TOLERANCE  # 90°: float32 rounding
    assert max(p4["error"]["gconv"]) > 0.05  # 45° is no symmetry of the pixel grid
    plain = equivariance_json(capsys, f"{NETS}:plain_cnn", "--name", "mine")
    assert plain["model"] == "mine"
    assert list(plain["error"]) == ["conv1", "relu", "conv2", "relu#2", "pool", "logits"]
    assert all(errors[1] > 0.05 for errors in plain["error"].values())


def test_weights_and_layers_options(tmp_path, capsys) -> None:
    module = load_user_model(f"{NETS}:p4_net").module
    with torch.no_grad():
        module.lift.weight.mul_(-1)
    torch.save(module.state_dict(), tmp_path / "w.pt")
    plain = equivariance_json(capsys, f"{NETS}:p4_net")
    weighted = equivariance_json(capsys, f"{NETS}:p4_net", "--weights", str(tmp_path / "w.pt"))
    assert weighted["error"]["gconv"][2] != plain["error"]["gconv"][2]
    picked = equivariance_json(capsys, f"{NETS}:p4_net", "--layers", "lift", "top")
    assert list(picked["error"]) == ["lift", "top", "logits"]


def test_skipped_layers_are_said_in_one_line_each(tmp_path, capsys) -> None:
    argv = ["analyse", "equivariance", "--model", f"{NETS}:odd_net", "--angles", "90", "--json"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "note: odd_net: layer odd: [2, 4, 3, 26, 26]: an orientation axis of 3" in err
    assert "note: odd_net: layer pair: a tuple is not a tensor of maps; not shown" in err
    out = tmp_path / "d.npz"
    argv = ["export", "data", "--model", f"{NETS}:odd_net", "--angles", "0", "--out", str(out)]
    assert cli.main(argv) == 0
    assert capsys.readouterr().err.count("; not shown") == 2


def test_analyse_accuracy_of_a_user_model(capsys, monkeypatch) -> None:
    from gcnn_viewer.analysis import cli as analysis_cli
    from tests.analysis.test_accuracy import synthetic_rot

    data = synthetic_rot(60)
    monkeypatch.setattr(analysis_cli, "_data_for", lambda model: data)
    argv = ["analyse", "accuracy", "--model", f"{NETS}:p4_net", "--name", "p4", "--bins", "4"]
    assert cli.main([*argv, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    images, labels = data.split("test")
    model = load_user_model(f"{NETS}:p4_net").eval()
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(images, np.float32) / 255.0)[:, None]
        wrong = (model(x).argmax(1).numpy() != labels).mean()
    assert obj["model"] == "p4" and obj["n"] == 60
    assert obj["error"] == pytest.approx(float(wrong))


def test_export_data_keys_name_layer_angle(tmp_path) -> None:
    out = tmp_path / "maps.npz"
    argv = ["export", "data", "--model", f"{NETS}:odd_net", "p4cnn", "--name", "mine",
            "--input", "3", "--angles", "0", "90", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    with np.load(out) as data:
        keys = set(data.files)
        lift0, lift90 = data["mine/lift@0"], data["mine/lift@90"]
    records = load_user_model(f"{NETS}:odd_net").layer_records()
    for record in records:
        for angle in (0, 90):
            assert f"mine/{record.name}@{angle}" in keys
    assert "mine/odd@0" not in keys and "p4cnn/l1@90" in keys
    assert lift0.shape == (4, 4, 26, 26)  # group maps [C, G, H, W]
    turned = records[0].turn(1, torch.from_numpy(lift0))
    assert torch.allclose(torch.from_numpy(lift90), turned, atol=1e-5)


def test_evaluate_a_user_model_on_mnist_rot(tiny_data, capsys) -> None:  # noqa: F811
    assert cli.main(["evaluate", "--model", f"{NETS}:p4_net", "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    images, labels = TinyMnistRot().split("test")
    model = load_user_model(f"{NETS}:p4_net").eval()
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(images, np.float32))
        x = x[:, None] if x.dim() == 3 else x
        predicted = model(x / (255.0 if x.max() > 1 else 1.0)).argmax(1).numpy()
    assert result["model"] == "p4_net" and result["n"] == len(labels)
    assert result["error"] == pytest.approx(float(np.mean(predicted != np.asarray(labels))))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analyse", "equivariance", "--model", "{nets}:missing"], "defines no 'missing'"),
        (["analyse", "equivariance", "--model", "{nets}:broken"],
         "broken() raised RuntimeError: the factory is broken on purpose (user_nets.py:"),
        (["analyse", "accuracy", "--model", "p4cnn", "--weights", "w.pt"],
         "go with your own model"),  # (analyse equivariance: a second curve set, issue 23)
        (["export", "data", "--model", "nowhere.py:build", "--out", "{tmp}/x.npz"],
         "nowhere.py: no such file"),
        (["evaluate", "--model", "{nets}:not_a_module"], "returned a int, not a torch nn.Module"),
        (["analyse", "filters", "--model", "{nets}:p4_net"], "cannot show its layers' filters"),
        (["analyse", "filters", "--model", "{nets}:sequential", "--layer", "1"],
         "cannot show the filters of 1 (a ReLU)"),
        (["analyse", "filters", "--model", "{nets}:plain_cnn", "--layer", "pool"],
         "cannot show the filters of pool (a MaxPool2d)"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line(argv, message, tmp_path, capsys) -> None:
    argv = [a.format(nets=NETS, tmp=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in err and "Traceback" not in err


def test_filters_of_a_user_models_convolution(capsys) -> None:
    assert cli.main(["analyse", "filters", "--model", f"{NETS}:plain_cnn", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["layer"] == "conv1" and obj["group"] is None
    assert np.asarray(obj["stored"]).shape == (1, 1, 3, 3)
    # a conv-BN-ReLU block (a child nn.Sequential) shows the filters of the conv it holds
    spec = f"{EXAMPLES / 'plain_cnn'}.py:build"
    assert cli.main(["analyse", "filters", "--model", spec, "--layer", "conv2", "--json"]) == 0
    assert np.asarray(json.loads(capsys.readouterr().out)["stored"]).shape[-2:] == (3, 3)


@pytest.mark.parametrize("stem", PLAIN_EXAMPLES)
def test_each_example_through_analyse_and_export(stem, tmp_path, capsys) -> None:
    spec = f"{EXAMPLES / stem}.py:build"
    obj = equivariance_json(capsys, spec)
    layers = [r.name for r in load_user_model(spec).layer_records()]
    assert list(obj["error"]) == layers and layers[-1] == "logits" and len(layers) > 1
    at_90 = [errors[1] for name, errors in obj["error"].items() if name != "logits"]
    if stem == "p4_plain_torch":
        assert max(at_90) <= EXACT_TOLERANCE
    else:
        assert min(at_90) > 0.01
    out = tmp_path / "maps.npz"
    argv = ["export", "data", "--model", spec, "--angles", "0", "90", "--out", str(out)]
    assert cli.main(argv) == 0
    with np.load(out) as data:
        assert {f"build/{layer}@{a}" for layer in layers for a in (0, 90)} <= set(data.files)

"""Your own model (issue 22): specs, factories, weights, layers found by forward hooks,
skipped layers, input size, frozen semantics and one-line errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from gcnn_viewer.errors import GcnnViewerError, UserModelError
from gcnn_viewer.group import P4
from gcnn_viewer.models import build_model
from gcnn_viewer.models.frozen import FrozenModelError
from gcnn_viewer.models.user import (
    UserModel,
    is_model_spec,
    list_factories,
    load_factory,
    load_user_model,
    wrap_model,
)
from tests.fixtures import _one_thread  # noqa: F401

NETS = Path(__file__).resolve().parent / "user_nets.py"
REPO = NETS.parents[2]


def spec(factory: str) -> str:
    return f"{NETS}:{factory}"


def test_specs_are_recognised() -> None:
    assert is_model_spec("net.py:build")
    assert is_model_spec("my_pkg.nets:Model.factory")
    assert is_model_spec("C:/models/net.py:build")
    for text in ("p4cnn", "run.pt", "mnist-rot:12", "./runs/p4.pt", "net.py:", ":build", "a b:c"):
        assert not is_model_spec(text), text


def test_plain_cnn_layers_in_forward_order_named_by_module_path() -> None:
    model = load_user_model(spec("plain_cnn"))
    assert model.name == "plain_cnn"
    records = model.layer_records()
    assert [r.name for r in records] == ["conv1", "relu", "conv2", "relu#2", "pool", "logits"]
    assert [r.kind for r in records] == ["planar"] * 5 + ["logits"]
    assert (records[2].channels, records[2].height, records[2].width) == (6, 24, 24)
    assert model.group is None
    assert set(model.skipped) == {"head"} and "[2, 10]" in model.skipped["head"]
    maps = model.feature_maps(torch.rand(3, 1, 28, 28))
    assert list(maps) == [r.name for r in records]
    assert maps["logits"].shape == (3, 10)
    # the in-place ReLU did not overwrite conv1's map: it still has negative values
    assert bool((maps["conv1"] < 0).any()) and bool((maps["relu"] >= 0).all())


def test_p4_layers_are_group_layers_and_exactly_equivariant() -> None:
    model = load_user_model(spec("p4_net")).freeze()
    records = {r.name: r for r in model.layer_records()}
    assert records["lift"].kind == "group" and records["lift"].group is P4
    assert records["top"].order == 4 and model.group is P4
    x = torch.rand(2, 1, 28, 28)
    with torch.inference_mode():
        upright = model.feature_maps(x)
        turned = model.feature_maps(torch.rot90(x, 1, dims=(-2, -1)))
    for name, t in upright.items():
        expected = records[name].turn(1, t)
        assert torch.allclose(turned[name], expected, rtol=0, atol=1e-5 * expected.abs().max())


def test_a_layer_of_odd_shape_is_skipped_with_one_line_and_the_others_show() -> None:
    model = load_user_model(spec("odd_net"))
    assert set(model.skipped) == {"odd", "pair"}
    assert "[2, 4, 3, 26, 26]" in model.skipped["odd"]
    assert "tuple" in model.skipped["pair"]
    assert all("\n" not in line for line in model.skipped_lines())
    names = [r.name for r in model.layer_records()]
    assert "odd" not in names and "pair" not in names and "gconv" in names
    assert list(model.feature_maps(torch.rand(1, 1, 28, 28))) == names


def test_layers_option_picks_module_paths() -> None:
    model = load_user_model(spec("odd_net"), layers=["lift", "gconv"])
    assert [r.name for r in model.layer_records()] == ["lift", "gconv", "logits"]
    with pytest.raises(UserModelError, match="no module named nope"):
        load_user_model(spec("odd_net"), layers=["nope"])


def test_sequential_children_and_module_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    model = load_user_model("tests.models.user_nets:sequential", name="seq")
    assert model.name == "seq"
    assert [r.name for r in model.layer_records()] == ["0", "1", "2", "logits"]
    factory, default = load_factory("tests.models.user_nets:p4_net")
    assert default == "p4_net" and callable(factory)


def test_input_size_from_the_attribute_or_the_option_and_28_is_padded() -> None:
    model = load_user_model(spec("big_cnn"))
    assert model.input_size == 32
    x = torch.rand(1, 1, 28, 28)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    assert torch.equal(model(x), model(padded))
    with pytest.raises(UserModelError, match="the forward pass"):
        load_user_model(spec("big_cnn"), input_size=28)  # its Linear wants 32×32
    assert load_user_model(spec("sequential"), input_size=33).input_size == 33


def test_weights_state_dict_and_our_checkpoint_layout(tmp_path: Path) -> None:
    trained = load_user_model(spec("plain_cnn")).module
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(1.0)
    torch.save(trained.state_dict(), tmp_path / "w.pt")
    torch.save({"state_dict": trained.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    for file in ("w.pt", "ckpt.pt"):
        model = load_user_model(spec("plain_cnn"), weights=tmp_path / file)
        assert torch.equal(model.module.conv1.weight, trained.conv1.weight)
        assert model.config["weights"].endswith(file)


def test_frozen_like_the_shipped_models() -> None:
    model = load_user_model(spec("p4_net")).freeze()
    assert model.frozen and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    for change in (lambda: model.train(), lambda: model.requires_grad_(True)):
        with pytest.raises(FrozenModelError):
            change()
    with pytest.raises(FrozenModelError):
        model.load_state_dict(model.state_dict())
    model.module.gconv.training = True  # behind the model's back
    with pytest.raises(FrozenModelError):
        model.feature_maps(torch.rand(1, 1, 28, 28))
    model.module.gconv.training = False
    copy = model.unfrozen_copy()
    assert not copy.frozen and all(p.requires_grad for p in copy.parameters())
    copy.train()
    copy(torch.rand(2, 1, 28, 28)).sum().backward()
    assert copy.module.lift.weight.grad is not None


def test_threads_see_only_their_own_maps() -> None:
    model = load_user_model(spec("p4_net")).freeze()
    inputs = [torch.rand(1, 1, 28, 28) for _ in range(4)]
    expected = [model.feature_maps(x)["gconv"] for x in inputs]
    failures: list[str] = []

    def run(i: int) -> None:
        for _ in range(20):
            if not torch.equal(model.feature_maps(inputs[i])["gconv"], expected[i]):
                failures.append(f"thread {i}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_wrap_model_returns_ours_as_they_are_and_wraps_any_module() -> None:
    ours = build_model("p4cnn")
    assert wrap_model(ours) is ours
    wrapped = wrap_model(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten()))
    assert isinstance(wrapped, UserModel) and wrapped.name == "Sequential"
    assert wrap_model(wrapped) is wrapped


def test_list_factories_offers_what_can_be_called_without_arguments() -> None:
    offered = list_factories(NETS)
    assert {"plain_cnn", "p4_net", "odd_net", "PlainCNN"} <= set(offered)
    assert "needs_argument" not in offered and "LiftP4" not in offered
    assert "torch" not in offered  # imported, not defined there


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nowhere/net.py:build", "nowhere/net.py: no such file"),
        ("{nets}:missing", r"defines no .missing. \(factories it defines: .*plain_cnn"),
        ("{nets}:broken", r"broken\(\) raised RuntimeError: the factory is broken on purpose "
         r"\(user_nets.py:\d+\)"),
        ("{nets}:not_a_module", r"not_a_module\(\) returned a int, not a torch nn.Module"),
        ("no_such_pkg_xyz.nets:build", "no module named 'no_such_pkg_xyz'"),
        ("p4cnn", "a model spec is FILE.py:FACTORY or package.module:FACTORY"),
    ],
)  # fmt: skip
def test_every_user_error_is_one_line_naming_the_spec(text: str, message: str) -> None:
    text = text.format(nets=NETS)
    with pytest.raises(UserModelError, match=message) as caught:
        load_user_model(text)
    assert isinstance(caught.value, GcnnViewerError)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(text)


def test_a_file_that_fails_to_run_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n\nraise ValueError('oops')\n")
    with pytest.raises(UserModelError, match=r"raised ValueError: oops \(bad.py:3\)"):
        load_user_model(f"{bad}:build")
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def build(:\n")
    with pytest.raises(UserModelError, match=r"SyntaxError.*\(syntax.py:1\)"):
        load_user_model(f"{syntax}:build")


def test_weights_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserModelError, match="weights .*missing.pt: no such file"):
        load_user_model(spec("plain_cnn"), weights=tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a pickle")
    with pytest.raises(UserModelError, match="junk.pt cannot be read"):
        load_user_model(spec("plain_cnn"), weights=tmp_path / "junk.pt")
    torch.save(load_user_model(spec("p4_net")).module.state_dict(), tmp_path / "p4.pt")
    with pytest.raises(UserModelError, match=r"p4.pt do not match the model \(missing: "):
        load_user_model(spec("plain_cnn"), weights=tmp_path / "p4.pt")
    torch.save({"a": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(UserModelError, match="hold no state_dict"):
        load_user_model(spec("plain_cnn"), weights=tmp_path / "list.pt")


def test_a_model_that_does_not_return_logits_is_refused(tmp_path: Path) -> None:
    net = tmp_path / "maps.py"
    net.write_text("import torch\n\ndef build():\n    return torch.nn.Conv2d(1, 2, 3)\n")
    with pytest.raises(UserModelError, match=r"returns \[2, 2, 26, 26\], not logits"):
        load_user_model(f"{net}:build")


def test_a_converted_layer_whose_fields_do_not_fit_is_skipped(monkeypatch) -> None:
    import gcnn_viewer.models.user as user

    class Geometric:  # stands in for an escnn GeometricTensor
        def __init__(self, tensor: torch.Tensor) -> None:
            self.tensor = tensor

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.good = torch.nn.Conv2d(1, 8, 3)
            self.bad = torch.nn.Conv2d(1, 8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.good(x), self.bad(x)
            return x.flatten(1)[:, :10]

    def convert(output):  # noqa: ANN001, ANN202
        t = output.tensor
        if t.shape[1] == 8 and getattr(output, "bad", False):
            return t, {"kind": "components", "channel_labels": ["a"]}  # 1 label, 8 channels
        return t.view(t.shape[0], 2, 4, *t.shape[-2:]), {"kind": "group", "group": P4}

    net = Net()

    def wrap(module):  # noqa: ANN001, ANN202
        def hook(_m, _i, out):  # noqa: ANN001, ANN202
            g = Geometric(out)
            g.bad = module is net.bad
            return g

        module.register_forward_hook(hook)

    wrap(net.good)
    wrap(net.bad)
    monkeypatch.setattr(user, "_escnn_converter", lambda: convert)
    model = wrap_model(net)
    good = {r.name: r for r in model.layer_records()}["good"]
    assert (good.kind, good.channels, good.order, good.group) == ("group", 2, 4, P4)
    assert "bad" in model.skipped and "labels" in model.skipped["bad"]

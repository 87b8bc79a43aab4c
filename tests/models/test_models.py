import subprocess
import sys
import textwrap

import pytest
import torch

from gcnn_viewer.analysis import assert_equivariant, equivariance_errors
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.models import build_model
from gcnn_viewer.models.registry import model_names

PARAMETERS = {"z2cnn": 21_750, "p4cnn": 24_680, "p4cnn_rotpool": 21_750}
LAYER_NAMES = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top", "logits"]


def trained_like(name, dtype=torch.float32):
    """A model with non-trivial BN statistics and normalisation, in eval mode."""
    model = build_model(name).to(dtype)
    model.set_normalisation(0.13, 0.31)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        model.train()
        for _ in range(2):
            model(torch.rand(8, 1, 28, 28, dtype=dtype))
    return model.eval()


@pytest.mark.parametrize("name,count", PARAMETERS.items())
def test_parameter_counts_match_the_paper(name, count):
    assert sum(p.numel() for p in build_model(name).parameters()) == count


def test_p4mcnn_stays_near_25k_parameters():
    assert 23_000 <= sum(p.numel() for p in build_model("p4mcnn").parameters()) <= 27_000


def test_model_names_and_unknown_name():
    assert model_names() == ("z2cnn", "p4cnn", "p4cnn_rotpool", "p4mcnn")
    with pytest.raises(ValueError, match="choose one of z2cnn"):
        build_model("resnet")


@pytest.mark.parametrize("name", model_names())
def test_feature_maps_in_layer_order(name):
    model = build_model(name).eval()
    x = torch.rand(3, 1, 28, 28)
    maps = model.feature_maps(x)
    assert list(maps) == LAYER_NAMES
    assert maps["logits"].shape == (3, 10)
    sizes = [26, 24, 12, 10, 8, 6, 4, 1]
    group = build_model(name).group
    for (layer, t), size in zip(list(maps.items())[:-1], sizes, strict=True):
        assert t.shape[-2:] == (size, size), layer
        if name in ("p4cnn", "p4mcnn"):
            assert t.dim() == 5 and t.shape[2] == group.order, layer
        else:
            assert t.dim() == 4, layer
    torch.testing.assert_close(model(x), maps["logits"])


@pytest.mark.parametrize("name,group", [("p4cnn", P4), ("p4mcnn", P4M), ("p4cnn_rotpool", P4)])
def test_every_feature_map_is_equivariant_and_logits_invariant(name, group, dtype):
    model = trained_like(name, dtype)
    x = torch.rand(2, 1, 28, 28, dtype=dtype)
    with torch.no_grad():
        for layer in LAYER_NAMES:
            assert_equivariant(lambda t, layer=layer: model.feature_maps(t)[layer], x, group)


def test_equivariance_holds_in_training_mode_and_on_the_unfolded_path():
    model = trained_like("p4cnn", torch.float64).train()
    x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    assert_equivariant(lambda t: model.feature_maps(t)["l6"], x, P4)  # batch statistics


def test_z2cnn_is_not_invariant():
    """Guards against an accidental symmetrisation of the baseline."""
    model = trained_like("z2cnn")
    errors = equivariance_errors(model, torch.rand(4, 1, 28, 28), P4)
    assert errors[0] == 0
    assert min(errors[r] for r in (1, 2, 3)) > 1e-2


@pytest.mark.parametrize("name", model_names())
def test_folded_inference_equals_the_plain_path(name):
    model = trained_like(name, torch.float64)
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        folded = model.feature_maps(x)
    plain = model.feature_maps(x)  # gradients wanted: BN is applied as its own layer
    for layer in LAYER_NAMES:
        torch.testing.assert_close(folded[layer], plain[layer].detach(), rtol=1e-10, atol=1e-10)


def test_folded_inference_follows_weight_updates():
    model = trained_like("p4cnn")
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        before = model(x)
        model.convs[0].weight.mul_(2)
        model.bns[3].running_var.mul_(4)
        after = model(x)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, model(x).detach())


def test_normalisation_lives_in_the_model_state():
    model = build_model("p4cnn")
    model.set_normalisation(0.2, 0.5)
    state = model.state_dict()
    assert state["input_mean"].item() == pytest.approx(0.2)
    clone = build_model("p4cnn")
    clone.load_state_dict(state)
    clone.eval(), model.eval()
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(clone(x), model(x))
    plain = build_model("p4cnn")
    plain.load_state_dict({**state, "input_mean": torch.tensor(0.0)})
    assert not torch.allclose(plain.eval()(x), model(x))


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r"\[B, 1, N, N\] images .*N from 20 to 64"):
        build_model("p4cnn")(torch.rand(1, 28, 28))


@pytest.mark.parametrize("name", ["z2cnn", "p4cnn", "p4cnn_rotpool", "p4mcnn"])
def test_models_take_only_28x28_float_digits_and_empty_batches(name):
    """The Python API: N×N for N in 20..64, logits [B, 10] from 28 on (32x32 used to give
    [1, 90] "logits"; issue 23 made it the maximum over positions), floating dtypes
    converted to float32, integer dtypes refused with or without grad, a 0-batch gives [0, 10]."""
    model = build_model(name).eval()
    for size in (19, 65):
        with pytest.raises(ValueError, match="28x28"):
            model(torch.rand(1, 1, size, size))
    with pytest.raises(ValueError, match="top cannot be computed at input 27×27"):
        model(torch.rand(1, 1, 27, 27))
    assert model(torch.rand(1, 1, 32, 32)).shape == (1, 10)
    x = torch.rand(3, 1, 28, 28)
    expected = model(x)
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        out = model(x.to(dtype))
        assert out.dtype == torch.float32 and out.shape == (3, 10)
        if dtype == torch.float64:
            assert torch.allclose(out, expected, atol=1e-5)
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            for dtype in (torch.uint8, torch.int64, torch.bool):
                with pytest.raises(ValueError, match="floating-point"):
                    model((x * 255).to(dtype))
            assert model(torch.zeros(0, 1, 28, 28)).shape == (0, 10)
            assert model.feature_maps(torch.zeros(0, 1, 28, 28))["logits"].shape == (0, 10)
    model.train()
    assert model(torch.zeros(0, 1, 28, 28)).shape == (0, 10)


def test_core_imports_without_qt():
    """Every module of the core (all but gcnn_viewer.gui, found by walking the package, so a
    new module cannot be missed) imports with Qt blocked."""
    code = textwrap.dedent(
        """
        import importlib, importlib.abc, pkgutil, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import gcnn_viewer
        names = [
            m.name
            for m in pkgutil.walk_packages(gcnn_viewer.__path__, "gcnn_viewer.")
            if not (m.name == "gcnn_viewer.gui" or m.name.startswith("gcnn_viewer.gui."))
            and m.name != "gcnn_viewer.__main__"  # (it runs the app)
        ]
        optional = ("escnn", "ray")  # extras: a module needing one may lack it, nothing else
        for name in names:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as e:
                if (e.name or "").split(".")[0] not in optional:
                    raise
        assert not any(m.split(".")[0] in ("PySide6", "pyqtgraph") for m in sys.modules)
        print(len(names), " ".join(names))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    # the walk reached the modules an earlier, hand-written list had missed
    assert int(out[0]) > 40 and {
        "gcnn_viewer.viewer.training",
        "gcnn_viewer.training.reproduce",
    } <= set(out)

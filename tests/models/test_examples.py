"""The examples in examples/ (issue 22 §4): each file has a factory that builds a model taking
``[B, 1, N, N]`` pixels and returning ``[B, 10]`` logits, a one-line train command in its
docstring, and an entry in examples/README.md. The p4 example written with plain torch ops is
exactly equivariant at quarter turns (rot90 of the input = rot90 + roll of every 5-D map)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLAIN_TORCH = ("plain_cnn", "p4_plain_torch", "torchvision_style")  # need nothing but torch


def load(stem: str):
    spec = importlib.util.spec_from_file_location(f"_example_{stem}", EXAMPLES / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child_maps(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every child's output, by forward hooks (as the app discovers layers)."""
    maps: dict[str, torch.Tensor] = {}
    hooks = [
        child.register_forward_hook(lambda _m, _i, out, name=name: maps.__setitem__(name, out))
        for name, child in model.named_children()
    ]
    try:
        maps["logits"] = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return maps


def randomise_batch_norm(model: torch.nn.Module) -> None:
    """Running statistics and affine parameters away from their identity defaults, so that
    eval-mode batch-norm takes part in the check."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)


def p4_act(f: torch.Tensor, r: int) -> torch.Tensor:
    """The quarter turn r on a p4 map [B, C, 4, H, W] (docs/ARCHITECTURE.md, conventions)."""
    return torch.roll(torch.rot90(f, r, dims=(-2, -1)), shifts=r, dims=-3)


@pytest.mark.parametrize("stem", PLAIN_TORCH)
def test_each_example_builds_a_model_for_the_app(stem):
    module = load(stem)
    model = module.build().eval()
    size = getattr(model, "input_size", 28)
    with torch.no_grad():
        logits = model(torch.rand(3, 1, size, size))
    assert logits.shape == (3, 10)
    assert torch.isfinite(logits).all()
    train = f"gcnn-viewer train --model examples/{stem}.py:build"
    assert train in module.__doc__, f"examples/{stem}.py: its docstring gives no train command"
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert f"examples/{stem}.py:build" in readme


def test_readme_lists_every_example_file():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"examples/(\w+)\.py", readme))
    assert {p.stem for p in EXAMPLES.glob("*.py")} <= listed


@pytest.mark.parametrize("r", [1, 2, 3])
def test_p4_plain_torch_is_exactly_equivariant_at_quarter_turns(r):
    model = load("p4_plain_torch").build().eval()
    randomise_batch_norm(model)
    x = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    model = model.double()
    with torch.no_grad():
        plain = child_maps(model, x)
        turned = child_maps(model, torch.rot90(x, r, dims=(-2, -1)))
    assert list(plain) == ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top", "logits"]
    for name, f in plain.items():
        if name == "logits":
            assert f.shape == (2, 10)
            torch.testing.assert_close(turned[name], f, rtol=1e-12, atol=1e-12)
            continue
        assert f.ndim == 5 and f.shape[2] == 4, name
        torch.testing.assert_close(turned[name], p4_act(f, r), rtol=1e-12, atol=1e-12)
        # and the orientation axis really moves: the roll is not the identity on these maps
        assert not torch.allclose(turned[name], torch.rot90(f, r, dims=(-2, -1))), name


def test_p4_plain_torch_float32_error_is_rounding_only():
    model = load("p4_plain_torch").build().eval()
    randomise_batch_norm(model)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        f, g = model.l2(model.l1(x)), model.l2(model.l1(torch.rot90(x, 1, dims=(-2, -1))))
    error = (g - p4_act(f, 1)).norm() / f.norm()
    assert error < 1e-5


def test_plain_cnn_is_clearly_not_equivariant():
    model = load("plain_cnn").build().eval()
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        f = model.conv2(model.conv1(x))
        g = model.conv2(model.conv1(torch.rot90(x, 1, dims=(-2, -1))))
    error = (g - torch.rot90(f, 1, dims=(-2, -1))).norm() / f.norm()
    assert error > 0.05

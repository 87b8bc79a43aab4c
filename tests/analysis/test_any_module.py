"""The analysis functions take any ``nn.Module`` (issue 22 §1): a user's network that takes
its own input size, given as it is, not wrapped by the caller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gcnn_viewer.analysis import AnalysisError, equivariance, upright_accuracy
from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.models.user import load_factory

from .conftest import blob_digit

NETS = Path(__file__).resolve().parents[1] / "models" / "user_nets.py"


def module(factory: str) -> torch.nn.Module:
    build, _ = load_factory(f"{NETS}:{factory}")
    return build().eval()


def test_equivariance_of_a_plain_p4_module() -> None:
    net = module("p4_net")
    errors = equivariance(net, blob_digit(), [0, 90, 45])
    assert list(errors)[-1] == "logits" and "gconv" in errors
    assert all(e[0] == 0 and e[1] <= EXACT_TOLERANCE for e in errors.values())
    assert not net.training  # its mode as it was
    plain = equivariance(module("plain_cnn"), blob_digit(), [90])
    assert min(float(e[0]) for e in plain.values()) > 0.05
    with pytest.raises(ValueError, match="torch nn.Module"):
        equivariance(lambda x: x, blob_digit(), [0])


def test_upright_accuracy_of_a_module_of_another_input_size(cache) -> None:
    rng = np.random.default_rng(0)
    images = (rng.random((6, 28, 28)) * 255).astype(np.uint8)
    labels = np.arange(6) % 10
    net = module("big_cnn")  # takes 32×32: the 28×28 digits are padded
    result = upright_accuracy(net, [0.0], mnist=(images, labels))
    x = torch.from_numpy(images.astype(np.float32) / 255)[:, None]
    x = torch.nn.functional.pad(x, (2, 2, 2, 2))
    with torch.no_grad():
        expected = float((net(x).argmax(1).numpy() != labels).mean())
    assert result.errors[0] == pytest.approx(expected)
    with pytest.raises(AnalysisError, match="torch nn.Module"):
        upright_accuracy("p4cnn", [0.0], mnist=(images, labels))


def test_analysis_equivariance_is_callable_however_it_was_imported() -> None:
    import gcnn_viewer.analysis as analysis
    import gcnn_viewer.analysis.equivariance  # noqa: F401  (the package attribute: the module)

    errors = analysis.equivariance(module("p4_net"), blob_digit(), [90])
    assert errors["logits"][0] <= EXACT_TOLERANCE


def test_a_module_of_a_size_the_drawing_cannot_make_gets_the_padded_digit() -> None:
    net = module("sequential")
    net.input_size = 100  # (the drawing makes 20-64): the 28×28 digit, padded by the wrapper
    errors = equivariance(net, blob_digit(), [0, 90])
    assert list(errors) == ["0", "1", "2", "logits"] and errors["0"][0] == 0.0

"""Fixtures for the analysis tests: small seeded models and inputs, an isolated data cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnn_viewer.models.networks import build_model
from tests.fixtures import _one_thread  # noqa: F401 (autouse here)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty data cache: nothing cached from earlier runs, nothing written outside."""
    root = tmp_path / "cache"
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(root))
    return root


def seeded(name: str, seed: int = 0) -> torch.nn.Module:
    """A model with random (seeded) weights and non-trivial BN statistics, in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name)
        for bn in model.bns:
            bn.running_mean.uniform_(-0.1, 0.1)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def blob_digit(seed: int = 0) -> np.ndarray:
    """A smooth asymmetric stroke-like image in the central box: float32 [28, 28] in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((28, 28))
    for _ in range(5):
        cy, cx = rng.uniform(8, 20, 2)
        out += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(1.2, 2.5) ** 2))
    return (out / out.max()).astype(np.float32)

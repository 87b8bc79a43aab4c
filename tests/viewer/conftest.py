"""Fixtures for the Qt-free viewer state: models without depending on shipped weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnn_viewer.models import build_model
from gcnn_viewer.models.pretrained import pretrained_path
from gcnn_viewer.training.checkpoint import save_checkpoint
from gcnn_viewer.viewer.models import ModelCatalog
from tests.fixtures import _one_thread  # noqa: F401 (autouse here)


def save_model(path: Path, name: str, seed: int = 0) -> Path:
    """A checkpoint as the CLI writes it, of a seeded, freshly built model."""
    torch.manual_seed(seed)
    model = build_model(name)
    return save_checkpoint(path, {"model_config": model.config, "state_dict": model.state_dict()})


@pytest.fixture
def weights_dir(tmp_path) -> Path:
    """A resources folder holding only the shipped P4CNN (present since the P4CNN issue)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(pretrained_path("p4cnn"), folder / "p4cnn.pt")
    return folder


@pytest.fixture(scope="session")
def catalog(tmp_path_factory) -> ModelCatalog:
    """Shipped P4CNN, everything else untrained (seeded): the same whatever else ships."""
    folder = tmp_path_factory.mktemp("weights")
    shutil.copy(pretrained_path("p4cnn"), folder / "p4cnn.pt")
    return ModelCatalog(folder)


def seven() -> np.ndarray:
    """An upright 28×28 "7"-ish digit (not symmetric under any rotation)."""
    img = np.zeros((28, 28), np.float32)
    img[6:9, 7:21] = 1.0
    for t in np.linspace(0, 1, 60):
        y, x = int(9 + 13 * t), int(19 - 7 * t)
        img[y : y + 2, x : x + 3] = 1.0
    return img

"""Fixtures for the headless export: the shipped models (as a first launch shows them), a
synthetic digit, and small sizes so that every test runs in about a second on 2 cores."""

from __future__ import annotations

import pytest
import torch

from gcnn_viewer.export import ExportInput, ViewSpec, resolve_models
from tests.export.helpers import seven


@pytest.fixture(scope="session")
def models():
    """Z2CNN and P4CNN as the app shows them (shipped weights, else seeded stand-ins)."""
    return resolve_models(["z2cnn", "p4cnn"])


@pytest.fixture(scope="session")
def digit() -> ExportInput:
    return ExportInput.from_image(seven(), "synthetic 7")


@pytest.fixture
def spec(models, digit) -> ViewSpec:
    """Two models, two layers (keeps figures small and fast), 0° and 90°."""
    return ViewSpec(models, digit, angles=(0, 90), layers=("l1", "top"))


@pytest.fixture(autouse=True)
def _one_thread():
    """Small forward passes on one thread (no OpenMP contention on a 2-core CI machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

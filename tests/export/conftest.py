"""Fixtures for the headless export: the shipped models (as a first launch shows them), a
synthetic digit, and small sizes so that every test runs in about a second on 2 cores."""

from __future__ import annotations

import pytest

from gcnn_viewer.export import ExportInput, ViewSpec, resolve_models
from tests.export.helpers import seven
from tests.fixtures import _one_thread  # noqa: F401 (autouse here)


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

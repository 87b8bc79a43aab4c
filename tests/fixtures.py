"""Fixtures shared by several test folders; a conftest imports the ones it wants to use."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """As the app's worker: small forward passes on one torch thread (no OpenMP contention on
    a 2-core machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

"""Shipped, trained weights (``resources/<name>.pt``, checkpoints written by our own CLI)."""

from __future__ import annotations

import errno
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from gcnn_viewer.models.registry import RESOURCE_PACKAGE, model_spec

if TYPE_CHECKING:  # (torch-free to import: the app finds its files before torch loads)
    from gcnn_viewer.models.networks import GCNNModel


def shipped_dir() -> Path:
    """The folder the shipped weights and sample digits are installed in."""
    return Path(str(resources.files(RESOURCE_PACKAGE)))


def pretrained_path(name: str) -> Path:
    """Where model ``name``'s shipped weights are (whether or not the file exists);
    :class:`~gcnn_viewer.errors.ConfigError` for an unknown name."""
    return shipped_dir() / model_spec(name).weights_file


def load_pretrained(name: str) -> GCNNModel:
    """The shipped trained model ``name``, in eval mode, on the CPU."""
    from gcnn_viewer.models.record import load_model

    path = pretrained_path(name)
    if not path.is_file():  # a broken installation: the error names the missing file
        raise FileNotFoundError(errno.ENOENT, f"no shipped weights for {name!r}", str(path))
    model, _ = load_model(path)
    return model

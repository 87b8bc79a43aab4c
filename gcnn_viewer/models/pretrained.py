"""Shipped, trained weights (``resources/<name>.pt``, checkpoints written by our own CLI)."""

from __future__ import annotations

import errno
from importlib import resources
from pathlib import Path

from gcnn_viewer.models.networks import MODEL_NAMES, GCNNModel


def pretrained_path(name: str) -> Path:
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return Path(str(resources.files("gcnn_viewer.resources") / f"{name}.pt"))


def load_pretrained(name: str) -> GCNNModel:
    """The shipped trained model ``name``, in eval mode, on the CPU."""
    from gcnn_viewer.training.checkpoint import load_checkpoint  # training imports models

    path = pretrained_path(name)
    if not path.is_file():  # a broken installation: the error names the missing file
        raise FileNotFoundError(errno.ENOENT, f"no shipped weights for {name!r}", str(path))
    return load_checkpoint(path).model

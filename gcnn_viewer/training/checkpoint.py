"""Checkpoints: the weights plus everything needed to rebuild, judge and resume them.

A checkpoint is a plain dict saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``, so a file carrying pickled code is refused, never run.
Writes are atomic (temp file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gcnn_viewer import __version__
from gcnn_viewer.models import MODEL_NAMES, GCNNModel, build_model

FORMAT = "gcnn-viewer-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message is one line for the user."""


@dataclass
class Checkpoint:
    model: GCNNModel  # rebuilt, weights loaded, eval mode
    meta: dict[str, Any]  # everything else in the file (config, metrics, versions, ...)
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.meta["model_config"]["name"]


def versions() -> dict[str, str]:
    return {"gcnn_viewer": __version__, "torch": str(torch.__version__)}


def save_checkpoint(path: Path | str, payload: dict[str, Any]) -> Path:
    """Atomically write ``payload`` (must hold ``model_config`` and ``state_dict``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions()}
    record.update(payload)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(record, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_checkpoint(path: Path | str) -> dict[str, Any]:
    """The raw checkpoint dict, validated as ours; :class:`CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols in junk
            warnings.simplefilter("ignore")
            record = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # the pickle names code to run: it is never run
            raise CheckpointError(
                f"{path}: refused: the file holds pickled code, not a gcnn-viewer checkpoint"
            ) from None
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt pickle data)") from None
    except Exception as exc:  # noqa: BLE001  any failure to parse untrusted bytes means corrupt
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {_first_line(exc)})"
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gcnn-viewer checkpoint (foreign file)")
    if record.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer gcnn-viewer (format {record['format_version']}); upgrade"
        )
    config = record.get("model_config")
    if not isinstance(config, dict) or config.get("name") not in MODEL_NAMES:
        raise CheckpointError(f"{path}: names no known model ({MODEL_NAMES})")
    return record


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model a checkpoint describes and load its weights (eval mode)."""
    record = read_checkpoint(path)
    config = dict(record["model_config"])
    name = config.pop("name")
    try:
        model = build_model(name, **config)
        model.load_state_dict(record["state_dict"])
    except (TypeError, RuntimeError, KeyError) as exc:
        raise CheckpointError(
            f"{path}: weights do not match the {name} architecture ({_first_line(exc)})"
        ) from None
    meta = {k: v for k, v in record.items() if k != "state_dict"}
    return Checkpoint(model.to(map_location).eval(), meta, Path(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__

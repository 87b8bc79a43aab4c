"""Checkpoint files: atomic writes, and reads that the data layer's checks complete.

What a checkpoint holds, its validation and the conversions between a model and a checkpoint
are :class:`gcnn_viewer.models.record.CheckpointRecord`'s. This module writes records to disk
atomically (temp file in the same folder, fsync, then ``os.replace``) and reads them back with
the one check the models layer cannot make: the recorded MNIST-rot spec (``data.spec``) against
the data layer's :class:`~gcnn_viewer.data.mnist_rot.MnistRotSpec`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from gcnn_viewer import __version__
from gcnn_viewer.data.files import atomic_path, write_bytes
from gcnn_viewer.errors import CheckpointError, describe_os_error, first_line
from gcnn_viewer.models.networks import GCNNModel
from gcnn_viewer.models.record import (
    FORMAT,
    FORMAT_VERSION,
    CheckpointRecord,
    check_state_dict,
    read_record,
)

if TYPE_CHECKING:
    from gcnn_viewer.models.user import UserModel

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "CheckpointRecord",
    "check_state_dict",
    "check_writable",
    "load_checkpoint",
    "read_checkpoint",
    "read_run",
    "save_checkpoint",
    "validate_checkpoint_dict",
]


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model rebuilt from it and its record."""

    model: GCNNModel | UserModel  # rebuilt, weights loaded, eval mode
    record: CheckpointRecord
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def meta(self) -> dict[str, Any]:
        """Everything in the file but the weights (config, metrics, versions, ...)."""
        return {k: v for k, v in self.record.to_dict().items() if k != "state_dict"}


def versions() -> dict[str, str]:
    return {"gcnn_viewer": __version__, "torch": str(torch.__version__)}


def save_checkpoint(path: Path | str, payload: CheckpointRecord | dict[str, Any]) -> Path:
    """Atomically write a record (or a raw checkpoint dict holding ``model_config`` and
    ``state_dict``): a temp file in the same folder, fsync, then ``os.replace``; the previous
    file stays intact on any failure. The header (format, its version, this writer's
    versions) is always this version's. Raises :class:`CheckpointError` (one line naming the
    path: disk full, permission, a directory in the way) when the file cannot be written."""
    path = Path(path)
    if isinstance(payload, CheckpointRecord):
        payload = {k: v for k, v in payload.to_dict().items() if k not in ("format", "versions")}
        payload.pop("format_version")
    if path.is_dir():
        raise CheckpointError(f"cannot write checkpoint {path}: it is a directory")
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions()}
    record.update(payload)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(
            f"cannot create the folder {path.parent}: {describe_os_error(exc)}"
        ) from None
    try:  # serialised first: torch.save reports a full disk as "RuntimeError: unexpected pos"
        write_bytes(path, _serialise(record))
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint {path}: {describe_os_error(exc)}") from None
    return path


def _serialise(record: dict[str, Any]) -> memoryview:
    buffer = io.BytesIO()
    torch.save(record, buffer)
    return buffer.getbuffer()


class _Trial(Exception):
    """Internal: stops a trial write just before it would replace the file."""


def check_writable(path: Path | str, payload: dict[str, Any] | None = None) -> None:
    """Prove, before any training, that a checkpoint can be written at ``path``: write a
    trial file (``payload``, a real checkpoint, so a nearly full disk shows up too) beside it
    and remove it again. Raises :class:`CheckpointError` naming the path; changes nothing."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot write checkpoint {path}: it is a directory")
    folder = path.parent
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(
            f"cannot create the folder {folder}: {describe_os_error(exc)}"
        ) from None

    def stop() -> None:
        raise _Trial

    try:
        data = _serialise(payload if payload is not None else {})
        with atomic_path(path, before_commit=stop) as tmp, open(tmp, "wb") as f:
            f.write(data)
    except _Trial:
        return
    except OSError as exc:
        for made in created:  # a failed check leaves no empty folders behind
            try:
                made.rmdir()
            except OSError:
                break
        raise CheckpointError(f"cannot write checkpoint {path}: {describe_os_error(exc)}") from None


def read_run(path: Path | str) -> CheckpointRecord:
    """The checkpoint at ``path`` as a validated record, ``data.spec`` included;
    :class:`CheckpointError` (one line naming the file and the key) otherwise."""
    record = read_record(path)
    _check_data_spec(record.data_spec, path)
    return record


def read_checkpoint(path: Path | str) -> dict[str, Any]:
    """The checkpoint dict, validated as ours (:func:`read_run`); :class:`CheckpointError`
    otherwise. New code reads the typed record with :func:`read_run`."""
    return read_run(path).to_dict()


def validate_checkpoint_dict(record: Any, path: Path | str = "checkpoint") -> None:
    """Check every field a checkpoint dict may hold for type and range; raise
    :class:`CheckpointError` (one line naming the key) at the first bad one."""
    _check_data_spec(CheckpointRecord.from_dict(record, path).data_spec, path)


def _check_data_spec(spec: dict[str, Any] | None, path: Path | str) -> None:
    if spec is None:
        return
    from gcnn_viewer.data.mnist_rot import MnistRotSpec  # data is imported only when needed

    try:
        MnistRotSpec.from_dict(spec)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: data.spec is invalid ({first_line(exc, 200)})") from None


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model a checkpoint describes and load its weights (eval mode). A run of a
    user's own model gives a :class:`~gcnn_viewer.models.user.UserModel`: its code is loaded
    again from the recorded spec (which runs that file), its weights ``weights_only``."""
    record = read_run(path)
    if record.user_spec is not None:
        from gcnn_viewer.training.user_models import load_user_checkpoint

        model = load_user_checkpoint(record, path)
    else:
        model = record.build_model(path)
    return Checkpoint(model.to(map_location).eval(), record, Path(path))

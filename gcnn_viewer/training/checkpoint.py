"""Checkpoints: the weights plus everything needed to rebuild, judge and resume them.

A checkpoint is a plain dict saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``, so a file carrying pickled code is refused, never run.
Writes are atomic (temp file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import errno
import glob
import math
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gcnn_viewer import __version__
from gcnn_viewer.data.files import (
    describe_os_error,
    discard,
    fsync_dir,
    fsync_file,
    remove_stale_temps,
    temp_name,
)
from gcnn_viewer.errors import GcnnViewerError
from gcnn_viewer.models import MODEL_NAMES, GCNNModel, build_model

# errors about reaching the file, as opposed to parsing it
_ACCESS_ERRORS = (errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT, errno.EISDIR, errno.ENXIO)

FORMAT = "gcnn-viewer-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(GcnnViewerError):
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
    """Atomically write ``payload`` (must hold ``model_config`` and ``state_dict``): a temp file
    in the same folder, fsync, then ``os.replace``; the previous file stays intact on any
    failure. Raises :class:`CheckpointError` (one line naming the path: disk full, permission,
    a directory in the way) when the file cannot be written."""
    path = Path(path)
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
    remove_stale_temps(path.parent, f".{glob.escape(path.name)}.*.tmp")  # debris of killed runs
    tmp = temp_name(path, "tmp")
    try:
        with open(tmp, "xb") as f:
            torch.save(record, f)
            fsync_file(f)
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise CheckpointError(f"cannot write checkpoint {path}: {describe_os_error(exc)}") from None
    except BaseException:
        discard(tmp)
        raise
    fsync_dir(path.parent)
    return path


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
    tmp = temp_name(path, "tmp")
    try:
        with open(tmp, "xb") as f:
            torch.save(payload if payload is not None else {}, f)
            fsync_file(f)
    except OSError as exc:
        discard(tmp)
        for made in created:  # a failed check leaves no empty folders behind
            try:
                made.rmdir()
            except OSError:
                break
        raise CheckpointError(f"cannot write checkpoint {path}: {describe_os_error(exc)}") from None
    discard(tmp)


def read_checkpoint(path: Path | str) -> dict[str, Any]:
    """The raw checkpoint dict, validated as ours; :class:`CheckpointError` otherwise."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
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
    except OSError as exc:  # the file itself cannot be read: say why, do not call it corrupt
        if exc.errno not in _ACCESS_ERRORS:  # torch reports parse failures as OSError too
            raise CheckpointError(
                f"{path}: not a readable checkpoint (truncated or corrupt: {_first_line(exc)})"
            ) from None
        raise CheckpointError(f"{path}: cannot read it: {describe_os_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001  any failure to parse untrusted bytes means corrupt
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {_first_line(exc)})"
        ) from None
    validate_checkpoint_dict(record, path)
    return record


# -- validation: a checkpoint is untrusted input -------------------------------------------------
# Every field is checked for type and range before anything uses it, so a crafted or damaged
# file ends in one CheckpointError line naming the key, never in a traceback or a runaway
# computation. (One place, so a typed checkpoint record can adopt it.)
MAX_CHANNELS = 512  # far above any of these networks (10-20), far below an allocation bomb
_MODEL_ARGS: dict[str, dict[str, type]] = {
    "z2cnn": {"channels": int, "dropout": float},
    "p4cnn": {"channels": int},
    "p4cnn_rotpool": {"channels": int},
    "p4mcnn": {"channels": int},
}
_RNG_STATE_KEYS = ("epoch_shuffle_state", "shuffle_state", "torch_rng_state")


def _bad(path: Path | str, key: str, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: {key} {why}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _check_model_config(config: Any, path: Path | str) -> None:
    if not isinstance(config, dict):
        raise _bad(path, "model_config", "is missing or not a dict")
    name = config.get("name")
    if name not in MODEL_NAMES:
        raise CheckpointError(f"{path}: names no known model ({', '.join(MODEL_NAMES)})")
    allowed = _MODEL_ARGS[name]
    for key, value in config.items():
        if key == "name":
            continue
        if key not in allowed:
            raise _bad(path, f"model_config.{key}", f"is not an argument of {name}")
        if allowed[key] is int:
            if not _is_int(value) or not 1 <= value <= MAX_CHANNELS:
                raise _bad(path, f"model_config.{key}", f"must be an integer 1..{MAX_CHANNELS}")
        elif not _finite(value) or not 0.0 <= value < 1.0:
            raise _bad(path, f"model_config.{key}", "must be a number in [0, 1)")


def _check_data(data: Any, path: Path | str) -> None:
    if not isinstance(data, dict):
        raise _bad(path, "data", "must be a dict (the data's description)")
    content = data.get("content_hash")
    if content is not None and not isinstance(content, str):
        raise _bad(path, "data.content_hash", "must be a string")
    spec = data.get("spec")
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise _bad(path, "data.spec", "must be a dict")
    from gcnn_viewer.data.mnist_rot import MnistRotSpec  # data is imported only when needed

    try:
        MnistRotSpec.from_dict(spec)
    except (TypeError, ValueError) as exc:
        raise _bad(path, "data.spec", f"is invalid ({_first_line(exc)})") from None


def _check_metrics(record: dict[str, Any], path: Path | str) -> None:
    metrics = record.get("metrics")
    if metrics is None:
        if record.get("complete"):
            raise _bad(path, "metrics", "is missing from a complete run")
        return
    if not isinstance(metrics, dict):
        raise _bad(path, "metrics", "must be a dict")
    history = metrics.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise _bad(path, "metrics.history", "must be a list of dicts")
    for i, entry in enumerate(history):
        for key, value in entry.items():
            if value is not None and not _is_number(value):
                raise _bad(path, f"metrics.history[{i}].{key}", "must be a number")
    final = metrics.get("final")
    if record.get("complete") and not isinstance(final, dict):
        raise _bad(path, "metrics.final", "is missing from a complete run")
    if final is not None:
        if not isinstance(final, dict):
            raise _bad(path, "metrics.final", "must be a dict or None")
        for key, value in final.items():
            measured = key.startswith(("test_error", "valid_error")) or key in ("elapsed", "n_test")
            if measured and value is not None and not _finite(value):
                raise _bad(path, f"metrics.final.{key}", "must be a finite number")
        previous = final.get("previous", [])
        if not isinstance(previous, list) or not all(isinstance(f, dict) for f in previous):
            raise _bad(path, "metrics.final.previous", "must be a list of dicts")
        if not isinstance(final.get("refinalised_with", ""), str):
            raise _bad(path, "metrics.final.refinalised_with", "must be a string")


def _check_resume(state: Any, path: Path | str) -> None:
    if not isinstance(state, dict):
        raise _bad(path, "resume", "must be a dict (the training state)")
    for key in ("epoch", "step_in_epoch", "global_step"):
        if not _is_int(state.get(key)) or state[key] < 0:
            raise _bad(path, f"resume.{key}", "must be an integer >= 0")
    for key in ("elapsed", "epoch_time"):
        if not _finite(state.get(key)) or state[key] < 0:
            raise _bad(path, f"resume.{key}", "must be a number >= 0")
    sums = state.get("epoch_sums")
    if not isinstance(sums, torch.Tensor) or sums.shape != (3,) or not sums.is_floating_point():
        raise _bad(path, "resume.epoch_sums", "must be a float tensor of shape [3]")
    reference = torch.get_rng_state()  # the size and dtype every CPU generator state has
    for key in _RNG_STATE_KEYS:
        value = state.get(key)
        if (
            not isinstance(value, torch.Tensor)
            or value.dtype != torch.uint8
            or value.shape != reference.shape
        ):
            raise _bad(
                path, f"resume.{key}", f"is not a random generator state (uint8 [{len(reference)}])"
            )
    cuda = state.get("cuda_rng_state")
    if cuda is not None and (not isinstance(cuda, torch.Tensor) or cuda.dtype != torch.uint8):
        raise _bad(path, "resume.cuda_rng_state", "is not a random generator state")
    optimizer = state.get("optimizer")
    if (
        not isinstance(optimizer, dict)
        or not isinstance(optimizer.get("state"), dict)
        or not isinstance(optimizer.get("param_groups"), list)
    ):
        raise _bad(path, "resume.optimizer", "is not an optimizer state")


def validate_checkpoint_dict(record: Any, path: Path | str = "checkpoint") -> None:
    """Check every field a checkpoint dict may hold for type and range; raise
    :class:`CheckpointError` (one line naming the key) at the first bad one. Unknown extra keys
    are allowed (newer writers may add some); the weights are checked against the architecture
    by :func:`check_state_dict` once the model is built."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gcnn-viewer checkpoint (foreign file)")
    version = record.get("format_version", 0)
    if not _is_int(version):
        raise _bad(path, "format_version", f"must be an integer, not {type(version).__name__}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer gcnn-viewer (format {version}); upgrade")
    if version < 1:
        raise _bad(path, "format_version", f"must be 1..{FORMAT_VERSION}, not {version}")
    _check_model_config(record.get("model_config"), path)
    state = record.get("state_dict")
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise _bad(path, "state_dict", "is missing or not a dict of named tensors")
    norm = record.get("normalisation")
    if norm is not None:
        if (
            not isinstance(norm, dict)
            or not _finite(norm.get("mean"))
            or not _finite(norm.get("std"))
        ):
            raise _bad(path, "normalisation", "must hold finite numbers mean and std")
        if norm["std"] <= 0:
            raise _bad(path, "normalisation.std", "must be > 0")
    for key in ("command", "protocol"):
        if key in record and not isinstance(record[key], str):
            raise _bad(path, key, "must be a string")
    if "protocol" in record and record["protocol"] not in ("faithful", "custom"):
        raise _bad(path, "protocol", "must be 'faithful' or 'custom'")
    resumed = record.get("resumed_with", [])
    if not isinstance(resumed, list) or not all(isinstance(c, str) for c in resumed):
        raise _bad(path, "resumed_with", "must be a list of strings")
    if "complete" in record and not isinstance(record["complete"], bool):
        raise _bad(path, "complete", "must be true or false")
    if "data" in record:
        _check_data(record["data"], path)
    if "train_config" in record:
        from gcnn_viewer.training.loop import TrainConfig  # loop imports this module

        if not isinstance(record["train_config"], dict):
            raise _bad(path, "train_config", "must be a dict")
        try:
            config = TrainConfig.from_dict(record["train_config"])
        except (TypeError, ValueError) as exc:
            raise _bad(path, "train_config", f"is invalid ({_first_line(exc)})") from None
        if config.model != record["model_config"]["name"]:
            raise _bad(path, "train_config.model", "differs from model_config.name")
    _check_metrics(record, path)
    if "resume" in record and not record.get("complete"):
        _check_resume(record["resume"], path)


def check_state_dict(model: torch.nn.Module, state: dict[str, Any], path: Path | str) -> None:
    """The checkpoint's weights fit ``model`` exactly (names, shapes, dtypes) and are finite;
    :class:`CheckpointError` naming the first tensor that does not."""
    expected = model.state_dict()
    name = getattr(model, "name", type(model).__name__)
    missing = [k for k in expected if k not in state]
    if missing:
        raise CheckpointError(
            f"{path}: weights do not match the {name} architecture (missing tensor {missing[0]}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            + ")"
        )
    extra = [k for k in state if k not in expected]
    if extra:
        raise CheckpointError(
            f"{path}: weights do not match the {name} architecture (unexpected tensor {extra[0]})"
        )
    for key, ref in expected.items():
        value = state[key]
        if value.shape != ref.shape:
            raise CheckpointError(
                f"{path}: weights do not match the {name} architecture (tensor {key} has shape "
                f"{list(value.shape)}, expected {list(ref.shape)})"
            )
        if value.is_floating_point() != ref.is_floating_point() or value.is_complex():
            raise CheckpointError(
                f"{path}: tensor {key} has dtype {value.dtype}, expected {ref.dtype}"
            )
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{path}: tensor {key} holds non-finite values (NaN or inf)")
        # variances and the input scale divide: negative or zero ones turn every output to NaN
        if key.endswith("running_var") and bool((value < 0).any()):
            raise CheckpointError(f"{path}: tensor {key} holds negative variances")
        if key == "input_std" and bool((value <= 0).any()):
            raise CheckpointError(f"{path}: tensor {key} must be > 0")


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model a checkpoint describes and load its weights (eval mode)."""
    record = read_checkpoint(path)
    config = dict(record["model_config"])
    name = config.pop("name")
    model = build_model(name, **config)  # arguments validated by read_checkpoint
    check_state_dict(model, record["state_dict"], path)
    try:
        model.load_state_dict(record["state_dict"])
    except (TypeError, RuntimeError, KeyError) as exc:  # (check_state_dict should catch all)
        raise CheckpointError(
            f"{path}: weights do not match the {name} architecture ({_first_line(exc)})"
        ) from None
    meta = {k: v for k, v in record.items() if k != "state_dict"}
    return Checkpoint(model.to(map_location).eval(), meta, Path(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__

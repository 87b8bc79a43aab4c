"""The checkpoint as a typed record: what a checkpoint file holds, validated, and the one place
that turns a record into a model and a model into a record.

A checkpoint file is a plain dict saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``, so a file carrying pickled code is refused, never run
(:func:`read_record`). Its contents are untrusted input: :meth:`CheckpointRecord.from_dict`
checks every field for type and range before anything uses it, so a crafted or damaged file
ends in one :class:`~gcnn_viewer.errors.CheckpointError` line naming the key, never in a
traceback or a runaway computation. The weights are checked against the architecture
(:func:`check_state_dict`) when a model is built from them.

Writing files (atomically) is the training layer's (:mod:`gcnn_viewer.training.checkpoint`);
so is the check of ``data.spec`` against the data layer's MNIST-rot spec, which this layer
does not import (models and data sit side by side; docs/ARCHITECTURE.md, “Layers”).
"""

from __future__ import annotations

import errno
import math
import os
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from gcnn_viewer.errors import CheckpointError, ConfigError, describe_os_error, first_line
from gcnn_viewer.models.networks import MAX_CHANNELS, GCNNModel, build_model
from gcnn_viewer.models.registry import is_model, model_names, model_spec
from gcnn_viewer.models.train_config import MAX_INPUT_SIZE, MIN_INPUT_SIZE, TrainConfig

FORMAT = "gcnn-viewer-checkpoint"
FORMAT_VERSION = 1
# MAX_CHANNELS (networks.py): far above any of these networks (7-20), far below a memory bomb
RNG_STATE_KEYS = ("epoch_shuffle_state", "shuffle_state", "torch_rng_state")
# the keys this version knows; any other is kept as it is (a newer writer may add some)
_FIELDS = (
    "model_config",
    "state_dict",
    "normalisation",
    "train_config",
    "protocol",
    "command",
    "resumed_with",
    "data",
    "metrics",
    "complete",
    "resume",
)
_HEADER = ("format", "format_version", "versions")
# errors about reaching the file, as opposed to parsing it
_ACCESS_ERRORS = (errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT, errno.EISDIR, errno.ENXIO)


@dataclass(eq=False)
class CheckpointRecord:
    """One checkpoint: the weights and what is needed to rebuild, judge and resume them.

    Only ``model_config`` and ``state_dict`` are always there (a saved model); a training run
    adds the rest. ``None`` marks a field the file does not hold; :meth:`to_dict` leaves it
    out, so a file read and written again keeps its keys.
    """

    # {"name": "p4cnn", "channels": 10}: the network's arguments; a user's own model:
    # {"name", "spec", "factory", "sha256", "input_size"} (is_user_model_config)
    model_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]  # CPU tensors, names as GCNNModel.state_dict()
    normalisation: dict[str, float] | None = None  # {"mean", "std"} of the training pixels
    train_config: TrainConfig | None = None
    protocol: str | None = None  # "faithful" or "custom"
    command: str | None = None  # the command line that started the run
    resumed_with: list[str] | None = None  # the command lines that continued it
    data: dict[str, Any] | None = None  # {"name", "content_hash", "spec"}: the data it saw
    metrics: dict[str, Any] | None = None  # {"history": [per epoch], "final": {...} | None}
    complete: bool | None = None  # the run finished (final evaluation done)
    resume: dict[str, Any] | None = None  # the training state of an unfinished run
    format_version: int = FORMAT_VERSION
    versions: dict[str, Any] | None = None  # the writer's gcnn_viewer and torch versions
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    # -- what it says ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model's registered name, e.g. ``"p4cnn"``."""
        return self.model_config["name"]

    @property
    def user_spec(self) -> str | None:
        """``FILE.py:FACTORY`` / ``package.module:FACTORY`` for a user's own model, as given
        when it was trained; ``None`` for one of the shipped architectures."""
        return self.model_config.get("spec") if is_user_model_config(self.model_config) else None

    @property
    def history(self) -> list[dict[str, Any]]:
        """The finished epochs' records (empty for a bare saved model)."""
        return list((self.metrics or {}).get("history") or [])

    @property
    def final(self) -> dict[str, Any] | None:
        """The final evaluation (``test_error``, ``n_test``, …) of a finished run."""
        return (self.metrics or {}).get("final")

    @property
    def resumable(self) -> bool:
        """An unfinished run that can be continued exactly (else: fine-tune its weights)."""
        return not self.complete and self.resume is not None and self.train_config is not None

    @property
    def data_spec(self) -> dict[str, Any] | None:
        """The MNIST-rot variant the run used, as recorded."""
        return (self.data or {}).get("spec")

    @property
    def content_hash(self) -> str | None:
        return (self.data or {}).get("content_hash")

    # -- model <-> record -----------------------------------------------------------------------
    @classmethod
    def from_model(
        cls,
        model: GCNNModel,
        state_dict: dict[str, torch.Tensor] | None = None,
        **fields: Any,
    ) -> CheckpointRecord:
        """A record of ``model``: its architecture, a detached CPU copy of its weights
        (``state_dict``, when given, instead: e.g. weights kept aside) and its input
        normalisation; ``fields`` fill the rest (``train_config=…``, ``metrics=…``).
        A user's own module (any ``nn.Module``) needs ``model_config=`` in ``fields``; it
        normalises its input itself, so its record has no ``normalisation``."""
        weights = state_dict if state_dict is not None else model.state_dict()
        config = fields.pop("model_config", None)
        if isinstance(model, GCNNModel):
            fields.setdefault(
                "normalisation",
                {"mean": float(model.input_mean.item()), "std": float(model.input_std.item())},
            )
        return cls(
            model_config=dict(config if config is not None else model.config),
            # a copy: the model may go on training while this record is written
            state_dict={k: v.detach().to("cpu", copy=True) for k, v in weights.items()},
            **fields,
        )

    def build_model(self, source: Path | str = "checkpoint", *, check: bool = True) -> GCNNModel:
        """A fresh model with this record's architecture and weights, in eval mode, on the CPU;
        :class:`CheckpointError` naming ``source`` when the weights do not fit it.
        ``check=False`` skips the weights' checks (finite values, …) for weights that come
        from a live model rather than a file (a snapshot of a run in training)."""
        config = dict(self.model_config)
        if self.user_spec is not None:  # its code is the user's: the training layer loads it
            raise CheckpointError(
                f"{source}: holds weights of your own model {self.user_spec}; open it with "
                f"--model {self.user_spec} --weights {source}"
            )
        name = config.pop("name")
        model = build_model(name, **config)  # arguments validated by from_dict
        if check:
            check_state_dict(model, self.state_dict, source)
        try:
            model.load_state_dict(self.state_dict)
        except (TypeError, RuntimeError, KeyError) as exc:  # (check_state_dict should catch all)
            raise CheckpointError(
                f"{source}: weights do not match the {name} architecture ({first_line(exc)})"
            ) from None
        return model.eval()

    # -- dict <-> record ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The dict a checkpoint file holds (what :meth:`from_dict` reads)."""
        out: dict[str, Any] = {"format": FORMAT, "format_version": self.format_version}
        if self.versions is not None:
            out["versions"] = dict(self.versions)
        for key in _FIELDS:
            value = getattr(self, key)
            if value is None:
                continue
            out[key] = asdict(value) if isinstance(value, TrainConfig) else value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, record: Any, source: Path | str = "checkpoint") -> CheckpointRecord:
        """Check every field a checkpoint dict may hold for type and range and return the
        record; :class:`CheckpointError` (one line naming ``source`` and the key) at the first
        bad one. Unknown extra keys are allowed and kept (newer writers may add some)."""
        train_config = validate(record, source)
        return cls(
            model_config=dict(record["model_config"]),
            state_dict=dict(record["state_dict"]),
            normalisation=record.get("normalisation"),
            train_config=train_config,
            protocol=record.get("protocol"),
            command=record.get("command"),
            resumed_with=record.get("resumed_with"),
            data=record.get("data"),
            metrics=record.get("metrics"),
            complete=record.get("complete"),
            resume=record.get("resume"),
            format_version=record.get("format_version", 0),
            versions=record.get("versions"),
            extra={k: v for k, v in record.items() if k not in _FIELDS + _HEADER},
        )


# -- reading files -----------------------------------------------------------------------------
def read_record(path: Path | str) -> CheckpointRecord:
    """The checkpoint at ``path``, validated (:meth:`CheckpointRecord.from_dict`);
    :class:`CheckpointError` (one line naming the file) for a missing, unreadable, foreign,
    corrupt or crafted one."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"a checkpoint path must be text or a path, not {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    if path.exists() and not path.is_file():  # never opened: reading a FIFO would block
        raise CheckpointError(
            f"{path}: is not a regular file (a FIFO, device or socket), not a checkpoint file"
        )
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
                f"{path}: not a readable checkpoint (truncated or corrupt: {first_line(exc, 200)})"
            ) from None
        raise CheckpointError(f"{path}: cannot read it: {describe_os_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001  any failure to parse untrusted bytes means corrupt
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {first_line(exc, 200)})"
        ) from None
    return CheckpointRecord.from_dict(record, path)


def load_model(path: Path | str) -> tuple[GCNNModel, CheckpointRecord]:
    """The model a checkpoint file holds (eval mode, CPU) and its record."""
    record = read_record(path)
    return record.build_model(path), record


# -- validation: a checkpoint is untrusted input -----------------------------------------------
def _bad(path: Path | str, key: str, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: {key} {why}")


def _key(key: Any) -> str:
    """A key read from the file, fit for a one-line message: as it is when it is a plain
    name, else its (bounded) repr, so a crafted key cannot break or flood the line."""
    if isinstance(key, str) and key.isidentifier() and len(key) <= 60:
        return key
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def is_user_model_config(config: Any) -> bool:
    """A ``model_config`` that describes a user's own model (it names the ``spec``)."""
    return isinstance(config, dict) and "spec" in config


_SHA256_DIGITS = frozenset("0123456789abcdef")


def _check_user_model_config(config: dict[str, Any], path: Path | str) -> None:
    """A user model's description: the spec as given, its factory, the sha256 of the file
    that defines it, its name and input size. Its code is not here (never in a checkpoint)."""
    allowed = ("name", "spec", "factory", "sha256", "input_size")
    for key in config:
        if key not in allowed:
            raise _bad(path, f"model_config.{_key(key)}", "is not part of a user model's record")
    for key, limit in (("name", 100), ("spec", 1000), ("factory", 200)):
        value = config.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise _bad(path, f"model_config.{key}", f"must be a text of 1..{limit} characters")
        if "\n" in value or "\r" in value:
            raise _bad(path, f"model_config.{key}", "must be one line")
    digest = config.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _SHA256_DIGITS:
        raise _bad(path, "model_config.sha256", "must be 64 lowercase hex digits")
    size = config.get("input_size")
    if not _is_int(size) or not MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE:
        bounds = f"{MIN_INPUT_SIZE}..{MAX_INPUT_SIZE}"
        raise _bad(path, "model_config.input_size", f"must be an integer {bounds}")


def _check_model_config(config: Any, path: Path | str) -> None:
    if not isinstance(config, dict):
        raise _bad(path, "model_config", "is missing or not a dict")
    if is_user_model_config(config):
        _check_user_model_config(config, path)
        return
    name = config.get("name")
    if not is_model(name):
        raise CheckpointError(
            f"{path}: model_config.name names no known model ({', '.join(model_names())})"
        )
    allowed = model_spec(name).arguments
    for key, value in config.items():
        if key == "name":
            continue
        if key not in allowed:
            raise _bad(path, f"model_config.{_key(key)}", f"is not an argument of {name}")
        if allowed[key] is int:
            if not _is_int(value) or not 1 <= value <= MAX_CHANNELS:
                raise _bad(path, f"model_config.{key}", f"must be an integer 1..{MAX_CHANNELS}")
        elif not _finite(value) or not 0.0 <= value < 1.0:
            raise _bad(path, f"model_config.{key}", "must be a number in [0, 1)")


def _check_data(data: Any, path: Path | str) -> None:
    """The data's description; what ``spec`` holds is judged by the data layer (see the
    module's docstring), here only that it is a dict of named values."""
    if not isinstance(data, dict):
        raise _bad(path, "data", "must be a dict (the data's description)")
    if data.get("name") is not None and not isinstance(data["name"], str):
        raise _bad(path, "data.name", "must be a string")
    content = data.get("content_hash")
    if content is not None and not isinstance(content, str):
        raise _bad(path, "data.content_hash", "must be a string")
    spec = data.get("spec")
    if spec is not None and (
        not isinstance(spec, dict) or not all(isinstance(k, str) for k in spec)
    ):
        raise _bad(path, "data.spec", "must be a dict")


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
        _check_epoch_entry(entry, f"metrics.history[{i}]", path)
    final = metrics.get("final")
    if record.get("complete") and not isinstance(final, dict):
        raise _bad(path, "metrics.final", "is missing from a complete run")
    if final is not None:
        if not isinstance(final, dict):
            raise _bad(path, "metrics.final", "must be a dict or None")
        _check_final(final, "metrics.final", path)
        previous = final.get("previous", [])
        if not isinstance(previous, list) or not all(isinstance(f, dict) for f in previous):
            raise _bad(path, "metrics.final.previous", "must be a list of dicts")
        for i, earlier in enumerate(previous):
            _check_final(earlier, f"metrics.final.previous[{i}]", path)
        if not isinstance(final.get("refinalised_with", ""), str):
            raise _bad(path, "metrics.final.refinalised_with", "must be a string")


# what the training loop writes for each finished epoch (every version so far): read by the
# app's curves (float(h["loss"]), …) when a run is continued, so each must be there and sane
_EPOCH_FRACTIONS = ("error", "valid_error")  # wrong / seen: in [0, 1]
_EPOCH_REQUIRED = ("epoch", "loss", "error")


def _check_epoch_entry(entry: dict[str, Any], where: str, path: Path | str) -> None:
    for key in _EPOCH_REQUIRED:
        if entry.get(key) is None:
            raise _bad(path, f"{where}.{key}", "is missing")
    if not _is_int(entry["epoch"]) or entry["epoch"] < 1:
        raise _bad(path, f"{where}.epoch", "must be an integer >= 1")
    for key, value in entry.items():
        if value is None:
            continue
        if not _finite(value):
            raise _bad(path, f"{where}.{_key(key)}", "must be a finite number")
        if key in _EPOCH_FRACTIONS and not 0.0 <= value <= 1.0:
            raise _bad(path, f"{where}.{key}", "must be a fraction in [0, 1]")
        if key in ("loss", "images_per_s", "elapsed") and value < 0:
            raise _bad(path, f"{where}.{key}", "must be >= 0")


def _check_final(final: dict[str, Any], where: str, path: Path | str) -> None:
    """A final evaluation: error rates are fractions, counts and times non-negative."""
    for key, value in final.items():
        if not isinstance(key, str):
            raise _bad(path, f"{where}.{_key(key)}", "is not a name")
        if value is None:
            continue
        if key.startswith(("test_error", "valid_error")):
            if not _finite(value) or not 0.0 <= value <= 1.0:
                raise _bad(path, f"{where}.{_key(key)}", "must be a fraction in [0, 1]")
        elif key == "n_test":
            if not _is_int(value) or value < 0:
                raise _bad(path, f"{where}.n_test", "must be an integer >= 0")
        elif key in ("elapsed", "finish_seconds"):
            if not _finite(value) or value < 0:
                raise _bad(path, f"{where}.{key}", "must be a finite number >= 0")
        elif key == "bn_recalibration" and not isinstance(value, str):
            raise _bad(path, f"{where}.bn_recalibration", "must be a string")


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
    for key in RNG_STATE_KEYS:
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


def validate(record: Any, path: Path | str = "checkpoint") -> TrainConfig | None:
    """Check every field of a checkpoint dict (see :meth:`CheckpointRecord.from_dict`); the
    run's :class:`TrainConfig` when it records one."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gcnn-viewer checkpoint (foreign file)")
    version = record.get("format_version", 0)
    if not _is_int(version):
        raise _bad(path, "format_version", f"must be an integer, not {type(version).__name__}")
    if not -(10**9) < version < 10**9:  # no writer's: crafted (and maybe too long to print)
        raise _bad(path, "format_version", f"must be 1..{FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer gcnn-viewer (format_version {version}); upgrade"
        )
    if version < 1:
        raise _bad(path, "format_version", f"must be 1..{FORMAT_VERSION}, not {version}")
    versions = record.get("versions")
    if versions is not None and (
        not isinstance(versions, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items())
    ):
        raise _bad(path, "versions", "must be a dict of strings (the writer's versions)")
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
    config = None
    if "train_config" in record:
        if not isinstance(record["train_config"], dict):
            raise _bad(path, "train_config", "must be a dict")
        try:
            config = TrainConfig.from_dict(record["train_config"])
        except (TypeError, ValueError, ConfigError) as exc:
            raise _bad(path, "train_config", f"is invalid ({first_line(exc, 200)})") from None
        model_config = record["model_config"]
        if is_user_model_config(model_config):
            if config.model != model_config["spec"]:
                raise _bad(path, "train_config.model", "differs from model_config.spec")
        elif config.model != model_config["name"]:
            raise _bad(path, "train_config.model", "differs from model_config.name")
    _check_metrics(record, path)
    if "resume" in record and not record.get("complete"):
        _check_resume(record["resume"], path)
    return config


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
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: tensor {key} is not a tensor")
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

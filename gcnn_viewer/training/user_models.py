"""Training a model of your own (``--model FILE.py:FACTORY`` or ``package.module:FACTORY``): what
the loop does with any ``nn.Module`` that is not one of ours (for users: docs/training.md,
"From the command line", **Your own model**).

- It is built by its factory after the run's seed is set (so its initial weights follow the
  seed), and starts from ``weights`` (a state_dict or one of our checkpoints, read
  ``weights_only``) when they are given.
- It takes ``[B, 1, N, N]`` pixels in [0, 1], N its input size, and normalises them itself:
  nothing is set on it (no ``set_normalisation``) and its checkpoint holds no normalisation.
  The 28×28 MNIST-rot digits are padded (cropped) centrally to N×N (:func:`fit_images`).
- It must return logits ``[B, 10]``: checked with one forward pass before training, one line
  otherwise (:func:`check_logits`).
- BN recalibration runs over every ``nn.BatchNorm*`` module it holds; with none, the pass is
  skipped and the run's final record says so.
- The module itself is trained: not wrapped, not frozen. Its checkpoint holds the module's own
  ``state_dict`` (its own keys, so the user can load it into their class) and a
  ``model_config`` that names it: ``{"name", "spec", "factory", "sha256", "input_size"}``,
  ``sha256`` being the file's that defines the factory. A resumed run refuses a changed file;
  opening the checkpoint (:func:`load_user_checkpoint`) loads the code again from ``spec``.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gcnn_viewer.errors import CheckpointError, UserModelError, first_line
from gcnn_viewer.models.record import CheckpointRecord
from gcnn_viewer.models.train_config import MAX_INPUT_SIZE, MIN_INPUT_SIZE, TrainConfig
from gcnn_viewer.models.user import UserModel, load_user_model, pad_to

MNIST_SIZE = 28  # the MNIST-rot arrays' side
CLASSES = 10


def split_spec(spec: str) -> tuple[str, str]:
    """``("FILE.py" | "package.module", "FACTORY")``."""
    source, _, factory = spec.rpartition(":")
    return source, factory


def spec_source_file(spec: str) -> Path:
    """The file that defines the factory: the spec's own ``FILE.py``, or the module's source
    (after the factory was loaded, so the module is importable)."""
    source, _ = split_spec(spec)
    if source.endswith(".py"):
        return Path(source)
    found = importlib.util.find_spec(source)
    if found is None or not found.origin or not Path(found.origin).is_file():
        raise UserModelError(f"{spec}: cannot find the file that defines module {source}")
    return Path(found.origin)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise UserModelError(f"{path}: cannot read it ({first_line(exc)})") from None
    return digest.hexdigest()


def build_user_model(
    config: TrainConfig, *, initial_weights: bool = True
) -> tuple[nn.Module, dict[str, Any]]:
    """The module to train and its ``model_config``; the factory and ``config.weights`` are
    loaded through :func:`gcnn_viewer.models.user.load_user_model` (its one-line errors).
    ``initial_weights=False`` (a resumed run) skips ``config.weights``."""
    user = load_user_model(
        config.model,
        weights=config.weights if initial_weights else None,
        name=config.name,
        input_size=config.input_size,
    )
    module = _trainable(user)
    size = int(getattr(user, "input_size", MNIST_SIZE))
    if not MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE:  # e.g. its input_size attribute
        raise UserModelError(
            f"{config.model}: input size {size}: training draws the digits into "
            f"{MIN_INPUT_SIZE}..{MAX_INPUT_SIZE} pixels square (--input-size N)"
        )
    model_config = {
        "name": config.name or user.name,
        "spec": config.model,
        "factory": split_spec(config.model)[1],
        "sha256": file_sha256(spec_source_file(config.model)),
        "input_size": size,
    }
    check_logits(module, size, config.model)
    return module, model_config


def _trainable(user: nn.Module) -> nn.Module:
    """The user's own module inside the wrapper (a factory that returns one of our models
    gets it as it is: it is trained itself)."""
    if getattr(user, "frozen", False):
        user = user.unfrozen_copy()
    return user.module if isinstance(user, UserModel) else user


def as_logits(out: Any) -> Any:
    """A model's output read as logits, as :class:`~gcnn_viewer.models.user.UserModel` reads
    it: an escnn ``GeometricTensor`` as its tensor, ``[B, K, 1, 1]`` as ``[B, K]``."""
    if not isinstance(out, torch.Tensor) and isinstance(getattr(out, "tensor", None), torch.Tensor):
        out = out.tensor
    if isinstance(out, torch.Tensor) and out.dim() > 2 and all(n == 1 for n in out.shape[2:]):
        out = out.flatten(1)
    return out


class Logits(nn.Module):
    """A user's module whose output is read as logits (:func:`as_logits`): what the training
    passes call. It adds nothing to train or save: the checkpoint holds the module's own
    ``state_dict``."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return as_logits(self.module(x))


def check_logits(module: nn.Module, size: int, spec: str) -> None:
    """One forward pass of two blank ``[2, 1, size, size]`` digits in eval mode: the module
    must return logits ``[2, 10]``; :class:`UserModelError` (one line) otherwise. The random
    state and the module's mode are left as they were."""
    shape = f"[2, 1, {size}, {size}]"
    was_training = module.training
    state = torch.get_rng_state()
    module.eval()
    try:
        with torch.no_grad():
            out = as_logits(module(torch.zeros(2, 1, size, size)))
    except Exception as exc:  # noqa: BLE001  the user's code: any failure is theirs, one line
        raise UserModelError(
            f"{spec}: fails on {shape} digits ({type(exc).__name__}: {first_line(exc, 200)}); "
            "is the input size right (--input-size)?"
        ) from None
    finally:
        module.train(was_training)
        torch.set_rng_state(state)
    if not isinstance(out, torch.Tensor):
        raise UserModelError(
            f"{spec}: returns a {type(out).__name__} for {shape} digits; training needs a "
            f"tensor of logits [B, {CLASSES}]"
        )
    if tuple(out.shape) != (2, CLASSES) or not out.is_floating_point():
        raise UserModelError(
            f"{spec}: returns {list(out.shape)} {str(out.dtype).replace('torch.', '')} for "
            f"{shape} digits; training needs float logits [B, {CLASSES}] (one per digit class)"
        )


def has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def fit_images(x: torch.Tensor, size: int) -> torch.Tensor:
    """Digits ``[B, 1, 28, 28]`` placed centrally in ``size × size`` fields, as a user model
    places a 28×28 input (:func:`gcnn_viewer.models.user.pad_to`): ``(size − 28) // 2`` rows
    and columns of zeros above and left, the rest below and right (cropped likewise when
    ``size`` < 28). ``size`` 28 returns ``x`` as it is."""
    return pad_to(x, size)


def check_same_code(
    record: CheckpointRecord, model_config: dict[str, Any] | None, path: Path | str
) -> None:
    """A resumed run of a user's model goes on with the code it started with: the file that
    defines the factory must hash as recorded; :class:`CheckpointError` naming both
    otherwise. (``model_config`` None: one of ours, nothing to check.)"""
    if model_config is None:
        return
    recorded, now = record.model_config.get("sha256"), model_config["sha256"]
    if recorded != now:
        raise CheckpointError(
            f"{path}: {model_config['spec']} has changed since this run was saved (sha256 "
            f"{str(recorded)[:12]}…, now {now[:12]}…); resuming needs the same code"
        )


def load_user_checkpoint(record: CheckpointRecord, path: Path | str) -> UserModel:
    """The user model a checkpoint of ``train`` holds, its code loaded again from the recorded
    spec and its weights from ``path`` (``weights_only``)."""
    config = record.model_config
    return load_user_model(
        config["spec"], weights=path, name=config["name"], input_size=config["input_size"]
    )

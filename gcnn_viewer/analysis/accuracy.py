"""Test error against the digit's angle (issue 12, "Accuracy vs angle"). Qt-free.

Two measurements, both from per-digit predictions that are cached on disk:

- **MNIST-rot**: the 50,000 test digits, binned by the rotation angle each digit was
  generated with (recorded in the data set, :attr:`gcnn_viewer.data.MnistRot.angles`). The
  predictions come from :func:`gcnn_viewer.training.iter_evaluate` itself — the code path of
  ``gcnn-viewer evaluate`` — through a wrapper that records each batch's argmax, so the bins
  hold exactly the digits and predictions ``evaluate`` counts, and ``error`` is its number.
- **Upright MNIST turned by fixed angles**: the 10,000 MNIST test digits, each turned by the
  same angle (quarter turns exactly with ``rot90``, other angles with the MNIST-rot
  generator's own rotation, :func:`gcnn_viewer.data.rotate_digit`). MNIST-rot drew its digits
  from MNIST train *and* test, so some of these were MNIST-rot training digits
  (:func:`upright_overlap` counts them).

Predictions are cached in ``<data cache>/analysis/`` keyed by the weights' sha256 and the
data's content hash (or the MNIST test files' hash and the angle), written atomically
(:mod:`gcnn_viewer.data.files`): a second look at the same model costs a file read.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gcnn_viewer.data import DataError, MnistRot, cache_dir, load_mnist, mnist_dir, rotate_digit
from gcnn_viewer.data.digits import quarter_turns
from gcnn_viewer.data.files import atomic_file, json_text
from gcnn_viewer.errors import GcnnViewerError, check_numbers
from gcnn_viewer.training import iter_evaluate, to_tensor

Progress = Callable[[int, int], None]  # (done, total), as export's
Cancelled = Callable[[], bool]  # True: stop as soon as possible

DEFAULT_BINS = 36
EVAL_BATCH = 500  # iter_evaluate's default batch, as `gcnn-viewer evaluate` uses it
CACHE_VERSION = "1"  # bump when what a cache file means changes
UPRIGHT_NOTE = (
    "upright MNIST test digits turned by fixed angles; MNIST-rot was drawn from MNIST train "
    "and test, so some of these digits were MNIST-rot training digits"
)


class AnalysisError(GcnnViewerError):
    """An analysis that cannot be done as asked; the message is one line for the user."""


class AnalysisCancelled(AnalysisError):
    """The user cancelled a running analysis; nothing was cached."""


@dataclass(frozen=True)
class AngleBin:
    lo: float  # degrees, inclusive
    hi: float  # degrees, exclusive
    n: int  # test digits whose recorded angle falls in [lo, hi)
    wrong: int  # of them misclassified

    @property
    def error(self) -> float | None:
        return self.wrong / self.n if self.n else None


@dataclass(frozen=True)
class RotAccuracy:
    """Error on MNIST-rot's test split, overall and per angle bin."""

    n: int
    error: float  # iter_evaluate's value: wrong / n, exactly as `evaluate` prints it
    bins: tuple[AngleBin, ...]
    data_hash: str

    def to_json(self, model: str) -> dict:
        """``{"model", "n", "error", "bins": [{"from", "to", "n", "error"}, …]}``."""
        return {
            "model": model,
            "n": self.n,
            "error": self.error,
            "bins": [{"from": b.lo, "to": b.hi, "n": b.n, "error": b.error} for b in self.bins],
        }


@dataclass(frozen=True)
class UprightAccuracy:
    """Error on the upright MNIST test digits turned by each of a few fixed angles."""

    n: int
    angles: tuple[float, ...]
    errors: tuple[float, ...]
    overlap: int | None  # how many were MNIST-rot training digits (None: cache not present)

    def to_json(self, model: str) -> dict:
        """``{"model", "n", "points": [{"angle", "error"}, …]}``."""
        return {
            "model": model,
            "n": self.n,
            "points": [
                {"angle": a, "error": e} for a, e in zip(self.angles, self.errors, strict=True)
            ],
        }

    @property
    def note(self) -> str:
        if self.overlap is None:
            return UPRIGHT_NOTE
        return f"{UPRIGHT_NOTE} ({self.overlap} of these {self.n})"


class _Recorder(nn.Module):
    """``model`` unchanged, keeping each batch's predicted class: lets the analysis run
    through :func:`iter_evaluate` itself rather than a copy of it.

    It takes the model's mode: :func:`iter_evaluate` puts the recorder in eval mode and, at
    the end, back in the mode it found, which must be the model's own. (A new module is in
    training mode: restoring that switched a shared model's dropout on — issue 18.)"""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.training = model.training  # the flag only: a frozen model's mode is not ours
        self.predictions: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)  # [b, 10]
        self.predictions.append(logits.argmax(1).to(torch.int8).cpu())
        return logits


def predict(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[np.ndarray, float]:
    """Predicted classes int8 ``[N]`` of uint8 ``images`` ``[N, 28, 28]`` and the error that
    :func:`iter_evaluate` returns for them (``evaluate``'s number), on the CPU. Raises
    :class:`AnalysisCancelled` when ``cancelled()`` turns true between batches."""
    recorder = _Recorder(model)
    x = to_tensor(images, torch.device("cpu"))  # [N, 1, 28, 28] float32 in [0, 1]
    passes = iter_evaluate(recorder, x, torch.from_numpy(np.asarray(labels, np.int64)))
    try:
        while True:
            try:
                done, total = next(passes)
            except StopIteration as stop:
                error = float(stop.value)
                break
            if progress is not None:
                progress(done, total)
            if cancelled is not None and cancelled():
                raise AnalysisCancelled("accuracy analysis cancelled")
    finally:
        passes.close()  # restores the model's mode when stopped early
    predictions = torch.cat(recorder.predictions).numpy() if recorder.predictions else None
    if predictions is None:
        predictions = np.zeros(0, np.int8)
    return predictions, error


# -- the on-disk cache ---------------------------------------------------------------------
def analysis_cache_dir(create: bool = True) -> Path:
    """``<data cache>/analysis`` (the project's cache folder: ``$GCNN_VIEWER_DATA`` or the
    platform's user cache directory)."""
    path = cache_dir(create=create) / "analysis"
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AnalysisError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def _cache_path(kind: str, weights_sha256: str, data_key: str) -> Path:
    tag = hashlib.sha256(f"{CACHE_VERSION}:{kind}:{data_key}".encode()).hexdigest()[:16]
    return analysis_cache_dir(create=False) / f"{kind}-{weights_sha256[:24]}-{tag}.npz"


def _read_cached(path: Path, labels: np.ndarray, meta: dict) -> tuple[np.ndarray, float] | None:
    """A cached (predictions, error) that holds what it claims, or None: absent, unreadable
    (truncated, not an NPZ), or wrong in any way (another model's weights or data, a shape,
    dtype or size other than ``labels``', a class outside 0–9, a non-finite error, or an error
    that is not the fraction of predictions that are wrong). None means: compute again."""
    n = len(labels)
    try:
        with np.load(path, allow_pickle=False) as npz:
            predictions = np.asarray(npz["predictions"])
            stored = np.asarray(npz["error"])
            claimed = json.loads(str(npz["meta"]))
    except Exception:  # noqa: BLE001  any unreadable cache is rebuilt (BadZipFile, EOF, ...)
        return None
    if not isinstance(claimed, dict) or claimed != meta:
        return None
    if predictions.shape != (n,) or predictions.dtype.kind not in "iu":
        return None
    if n and (int(predictions.min()) < 0 or int(predictions.max()) > 9):
        return None
    if stored.shape != () or stored.dtype.kind != "f" or not math.isfinite(float(stored)):
        return None
    error = float(stored)
    wrong = int(np.count_nonzero(predictions.astype(np.int64) != np.asarray(labels, np.int64)))
    if n and abs(error - wrong / n) > 0.5 / n:
        return None
    return predictions.astype(np.int8), error


def _write_cached(path: Path, predictions: np.ndarray, error: float, meta: dict) -> None:
    """Atomic (:func:`gcnn_viewer.data.files.atomic_file`). A cache that cannot be written is
    not an error (the result is still returned); the next run computes it again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # (a read-only cache: not cached)
        with atomic_file(path) as f:
            np.savez(
                f,
                predictions=predictions,
                error=np.float64(error),
                meta=np.array(json_text(meta)),
            )
    except OSError:
        pass


def cached_predict(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    kind: str,
    weights_sha256: str | None,
    data_key: str,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> tuple[np.ndarray, float]:
    """:func:`predict`, from the disk cache when this model (``weights_sha256``; None: no
    cache) already saw these data (``data_key``)."""
    path = _cache_path(kind, weights_sha256, data_key) if weights_sha256 else None
    meta = {"kind": kind, "weights_sha256": weights_sha256, "data": data_key, "n": len(labels)}
    if path is not None and (hit := _read_cached(path, labels, meta)) is not None:
        if progress is not None:
            progress(1, 1)
        return hit
    predictions, error = predict(model, images, labels, progress=progress, cancelled=cancelled)
    if path is not None:
        _write_cached(path, predictions, error, meta)
    return predictions, error


# -- MNIST-rot ------------------------------------------------------------------------------
def bin_edges(bins: int) -> np.ndarray:
    """``bins + 1`` edges over 0–360°."""
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 360:
        raise AnalysisError(f"--bins must be an integer from 1 to 360, not {bins}")
    return np.linspace(0.0, 360.0, bins + 1)


def bin_errors(
    angles: np.ndarray, wrong: np.ndarray, bins: int = DEFAULT_BINS
) -> tuple[AngleBin, ...]:
    """Bin each digit (its angle in [0, 360), whether it was misclassified) by angle."""
    edges = bin_edges(bins)
    index = np.clip(np.floor(np.asarray(angles, np.float64) / (360.0 / bins)), 0, bins - 1)
    index = index.astype(np.int64)
    n = np.bincount(index, minlength=bins)
    w = np.bincount(index, weights=np.asarray(wrong, np.int64), minlength=bins).astype(np.int64)
    return tuple(
        AngleBin(float(edges[b]), float(edges[b + 1]), int(n[b]), int(w[b])) for b in range(bins)
    )


def _any_model(model: object) -> nn.Module:
    """A shipped model as it is; any other ``nn.Module`` wrapped (its logits, its input
    size); AnalysisError (one line) for anything else."""
    if not isinstance(model, nn.Module):
        raise AnalysisError(f"model must be a torch nn.Module, not {type(model).__name__}")
    from gcnn_viewer.models.user import wrap_model

    return wrap_model(model)


def rot_accuracy(
    model: nn.Module,
    data: MnistRot,
    *,
    bins: int = DEFAULT_BINS,
    weights_sha256: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RotAccuracy:
    """Test error on MNIST-rot, overall (``evaluate``'s value) and in ``bins`` angle bins by
    each test digit's recorded angle. Cached per weights and data content hash. ``model``:
    a shipped model or any ``nn.Module`` taking ``[B, 1, N, N]`` pixels (wrapped, its
    28×28 digits padded to its ``input_size``: :func:`~gcnn_viewer.models.user.wrap_model`)."""
    bin_edges(bins)  # a bad --bins is reported before any work
    model = _any_model(model)
    if not isinstance(data, MnistRot):
        raise AnalysisError(f"data must be MNIST-rot (an MnistRot), not {type(data).__name__}")
    images, labels = data.split("test")
    lo = data.spec.n_train + data.spec.n_valid
    angles = np.asarray(data.angles[lo : lo + len(labels)], np.float64)  # [N] degrees
    predictions, error = cached_predict(
        model,
        images,
        labels,
        kind="mnist-rot-test",
        weights_sha256=weights_sha256,
        data_key=data.content_hash,
        progress=progress,
        cancelled=cancelled,
    )
    wrong = predictions.astype(np.int64) != labels
    return RotAccuracy(int(len(labels)), error, bin_errors(angles, wrong, bins), data.content_hash)


# -- upright MNIST turned by fixed angles ----------------------------------------------------
def turn_digits(images: np.ndarray, angle: float) -> np.ndarray:
    """uint8 ``[N, 28, 28]`` digits turned ``angle`` degrees counter-clockwise: quarter turns
    exactly (``np.rot90``), other angles as MNIST-rot was made (:func:`rotate_digit`)."""
    k = quarter_turns(angle)
    if k is not None:
        return np.ascontiguousarray(np.rot90(images, k, axes=(1, 2)))
    return np.stack([rotate_digit(im, float(angle)) for im in images])


def upright_overlap(root: Path | None = None) -> int | None:
    """How many MNIST test digits are in the standard MNIST-rot's train or valid split (from
    the cache, never generated); None when that cache is absent."""
    from gcnn_viewer.data import MnistRotSpec, mnist_rot_path, read_mnist_rot

    spec = MnistRotSpec()
    path = mnist_rot_path(spec, root)
    if not path.is_file():
        return None
    try:
        data = read_mnist_rot(path)
    except DataError:
        return None
    trainval = data.source_index[: spec.n_train + spec.n_valid]
    return int(np.count_nonzero(trainval >= 60_000))  # indices 60000.. are MNIST test


def upright_accuracy(
    model: nn.Module,
    angles: Sequence[float],
    *,
    weights_sha256: str | None = None,
    mnist: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> UprightAccuracy:
    """Error on the MNIST test digits turned by each angle (``mnist``: (images, labels) to
    use instead of the cached MNIST test split). ``model``: as :func:`rot_accuracy`'s."""
    angles = check_numbers(angles, "angles", error=AnalysisError)  # never "90" read as 9, 0
    model = _any_model(model)
    if not angles:
        raise AnalysisError("give at least one angle")
    if mnist is None:
        try:
            mnist = load_mnist("test", mnist_dir(cache_dir(create=False), create=False))
        except (DataError, OSError):
            raise AnalysisError(
                "the MNIST test digits are not in the data cache; fetch them with: "
                "gcnn-viewer data fetch"
            ) from None
    images, labels = mnist
    data_key = hashlib.sha256(
        np.ascontiguousarray(images).tobytes() + np.ascontiguousarray(labels, "<i8").tobytes()
    ).hexdigest()
    errors = []
    for i, angle in enumerate(angles):

        def step(done: int, total: int, i: int = i) -> None:
            if progress is not None:
                progress(i * total + done, len(angles) * total)

        turned = turn_digits(images, angle)
        _, error = cached_predict(
            model,
            turned,
            labels,
            kind="mnist-upright",
            weights_sha256=weights_sha256,
            data_key=f"{data_key}@{angle!r}",
            progress=step,
            cancelled=cancelled,
        )
        errors.append(error)
    return UprightAccuracy(int(len(labels)), angles, tuple(errors), upright_overlap())

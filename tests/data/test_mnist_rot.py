"""MNIST-rot generation: determinism, rotation geometry, caching, data_info."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gcnn_viewer.data import (
    DataError,
    MnistRotSpec,
    data_info,
    fetch_mnist,
    generate_mnist_rot,
    load_mnist_rot,
    mnist,
    mnist_rot,
    read_mnist_rot,
    rotate_digit,
)

TINY = MnistRotSpec(n_train=10, n_valid=4, n_test=16)


@pytest.fixture
def mnist_in_cache(fake_mnist: dict, cache: Path) -> Path:
    return fetch_mnist(fake_mnist["dir"])


def pool(fake_mnist: dict) -> tuple[np.ndarray, np.ndarray]:
    a = fake_mnist["arrays"]
    images = np.concatenate([a["train-images-idx3-ubyte"], a["t10k-images-idx3-ubyte"]])
    labels = np.concatenate([a["train-labels-idx1-ubyte"], a["t10k-labels-idx1-ubyte"]])
    return images, labels.astype(np.int64)


# --- generation ------------------------------------------------------------------------------


def test_generation_is_deterministic(fake_mnist: dict) -> None:
    a = generate_mnist_rot(TINY, fake_mnist["dir"])
    b = generate_mnist_rot(TINY, fake_mnist["dir"])
    for field in ("images", "labels", "angles", "source_index"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    c = generate_mnist_rot(replace(TINY, seed=1), fake_mnist["dir"])
    assert c.content_hash != a.content_hash
    assert not np.array_equal(c.angles, a.angles)


def test_generated_arrays(fake_mnist: dict) -> None:
    data = generate_mnist_rot(TINY, fake_mnist["dir"])
    n = TINY.n_total
    assert data.images.shape == (n, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64 and data.angles.dtype == np.float32
    assert data.source_index.dtype == np.int64
    assert len(np.unique(data.source_index)) == n  # drawn without replacement
    assert data.source_index.max() >= 30  # train and test digits both eligible (30 + 20 here)
    assert ((data.angles >= 0) & (data.angles < 360)).all()
    images, labels = pool(fake_mnist)
    np.testing.assert_array_equal(data.labels, labels[data.source_index])
    for i in range(3):  # each image is its source digit rotated by its stated angle
        expected = rotate_digit(images[data.source_index[i]], float(data.angles[i]))
        np.testing.assert_array_equal(data.images[i], expected)


def test_splits_and_info(fake_mnist: dict) -> None:
    data = generate_mnist_rot(TINY, fake_mnist["dir"])
    sizes = {"train": 10, "valid": 4, "trainval": 14, "test": 16}
    for name, size in sizes.items():
        images, labels = data.split(name)  # type: ignore[arg-type]
        assert images.shape == (size, 28, 28) and labels.shape == (size,)
        assert np.shares_memory(images, data.images)  # views, not copies
    np.testing.assert_array_equal(data.split("valid")[0], data.images[10:14])
    np.testing.assert_array_equal(data.split("test")[1], data.labels[14:])
    with pytest.raises(ValueError):
        data.split("val")  # type: ignore[arg-type]
    info = json.loads(json.dumps(data.info()))
    assert info["splits"] == sizes
    assert info["spec"]["seed"] == 20160620 and info["content_hash"] == data.content_hash
    assert "regenerated" in info["note"]


def test_too_many_digits_requested(fake_mnist: dict) -> None:
    with pytest.raises(DataError, match="needs 51 distinct digits"):
        generate_mnist_rot(MnistRotSpec(n_train=51, n_valid=0, n_test=0), fake_mnist["dir"])


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        MnistRotSpec(supersample=0)
    with pytest.raises(ValueError):
        MnistRotSpec(interpolation="nearest")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MnistRotSpec(n_train=-1)


def test_default_spec_matches_the_protocol() -> None:
    spec = MnistRotSpec()
    assert (spec.n_train, spec.n_valid, spec.n_test, spec.n_total) == (10000, 2000, 50000, 62000)


# --- rotation geometry -----------------------------------------------------------------------


def smooth_digit() -> np.ndarray:
    """An asymmetric 'L' made of smooth strokes: uint8 [28, 28], zero near the border."""
    yy, xx = np.mgrid[0:28, 0:28].astype(float)
    stroke = np.exp(-((xx - 10) ** 2) / 4) * ((yy > 6) & (yy < 21))
    stroke += np.exp(-((yy - 20) ** 2) / 4) * ((xx > 9) & (xx < 19))
    stroke += np.exp(-((xx - 17) ** 2 + (yy - 8) ** 2) / 3)  # a dot breaks any symmetry
    return (np.clip(stroke, 0, 1) * 255).astype(np.uint8)


SETTINGS = [
    {"supersample": 4, "interpolation": "bilinear"},
    {"supersample": 1, "interpolation": "bicubic"},
]


@pytest.mark.parametrize("kw", SETTINGS)
def test_rotation_by_zero_keeps_the_digit(kw: dict) -> None:
    digit = smooth_digit()
    diff = np.abs(rotate_digit(digit, 0.0, **kw).astype(int) - digit)
    # Supersampling re-averages each pixel over its area, which softens hard edges a little.
    assert diff.mean() < 3 and diff.max() < 40
    if kw["supersample"] == 1:
        assert diff.max() == 0


@pytest.mark.parametrize("kw", SETTINGS)
def test_quarter_turns_commute_exactly(kw: dict) -> None:
    """The rotation centre is the image centre, so quarter turns are exact permutations."""
    digit = smooth_digit()
    zero = rotate_digit(digit, 0.0, **kw)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(rotate_digit(digit, 90.0 * k, **kw), np.rot90(zero, k))


@pytest.mark.parametrize("kw", SETTINGS)
@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_quarter_turns_match_rot90(kw: dict, quarter_turns: int) -> None:
    """Positive angles turn counter-clockwise as displayed: 90 deg == np.rot90(x, 1)."""
    digit = smooth_digit()
    rotated = rotate_digit(digit, 90.0 * quarter_turns, **kw).astype(int)
    inner = (slice(2, -2), slice(2, -2))
    expected = np.rot90(digit, quarter_turns).astype(int)
    assert np.abs(rotated - expected)[inner].max() < 40
    if quarter_turns != 2:
        wrong_way = np.rot90(digit, -quarter_turns).astype(int)
        assert np.abs(rotated - wrong_way)[inner].mean() > 10 * np.abs(rotated - expected).mean()


def test_rotation_is_continuous_in_angle() -> None:
    digit = smooth_digit()
    a, b = rotate_digit(digit, 30.0).astype(int), rotate_digit(digit, 31.0).astype(int)
    c = rotate_digit(digit, 60.0).astype(int)
    assert np.abs(a - b).mean() < np.abs(a - c).mean() / 5


def test_rotation_keeps_ink() -> None:
    digit = smooth_digit()
    for angle in (17.0, 45.0, 123.4, 301.0):
        rotated = rotate_digit(digit, angle)
        assert abs(int(rotated.sum()) - int(digit.sum())) < 0.05 * digit.sum()


# --- cache -----------------------------------------------------------------------------------


def test_cache_round_trip(mnist_in_cache: Path, cache: Path, monkeypatch) -> None:
    first = load_mnist_rot(TINY)
    assert first.path == cache / TINY.cache_name and first.path.is_file()
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []

    def fail(*args, **kwargs):
        raise AssertionError("regenerated although the cache was valid")

    monkeypatch.setattr(mnist_rot, "generate_mnist_rot", fail)
    second = load_mnist_rot(TINY)
    assert second.content_hash == first.content_hash
    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.angles, first.angles)
    np.testing.assert_array_equal(second.source_index, first.source_index)
    assert second.spec == TINY and second.info()["path"] == str(first.path)


def test_spec_parameters_name_the_cache_file(mnist_in_cache: Path, cache: Path) -> None:
    a = load_mnist_rot(TINY)
    b = load_mnist_rot(replace(TINY, seed=7))
    assert a.path != b.path and a.content_hash != b.content_hash


@pytest.mark.parametrize("damage", ["bytes", "content"])
def test_corrupt_cache_is_regenerated(mnist_in_cache: Path, damage: str) -> None:
    good = load_mnist_rot(TINY)
    path = good.path
    assert path is not None
    if damage == "bytes":  # a damaged file: truncated in the middle of the zip
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # a well-formed file whose pixels no longer match the recorded hash
        with np.load(path) as npz:
            arrays = dict(npz)
        arrays["images"] = arrays["images"].copy()
        arrays["images"][0, 14, 14] ^= 1
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    with pytest.raises(DataError):
        read_mnist_rot(path)
    messages: list[str] = []
    again = load_mnist_rot(TINY, progress=messages.append)
    assert any("regenerating" in m for m in messages)
    assert again.content_hash == good.content_hash
    assert read_mnist_rot(path).content_hash == good.content_hash


def test_load_mnist_rot_fetches_mnist(fake_mnist: dict, cache: Path) -> None:
    with pytest.raises(DataError, match="MNIST is not available"):
        load_mnist_rot(TINY, use_network=False, use_npm=False)
    assert not (cache / TINY.cache_name).exists()


# --- data_info -------------------------------------------------------------------------------


def forbid_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("data_info must only look")

    monkeypatch.setattr(mnist, "fetch_mnist", fail)
    monkeypatch.setattr(mnist_rot, "fetch_mnist", fail)
    monkeypatch.setattr(mnist_rot, "generate_mnist_rot", fail)
    monkeypatch.setattr(subprocess, "run", fail)


def test_data_info_on_empty_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_fetching(monkeypatch)
    info = json.loads(json.dumps(data_info()))
    assert info["cache_dir"] == str(cache) and info["env_set"]
    assert not info["mnist"]["complete"] and info["mnist_rot"] == []
    assert all(not f["present"] and not f["verified"] for f in info["mnist"]["files"].values())
    assert not cache.exists()  # looking creates nothing


def test_data_info_reports_files_and_mnist_rot(
    mnist_in_cache: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = load_mnist_rot(TINY)
    (mnist_in_cache / "t10k-labels-idx1-ubyte").write_bytes(b"bad")
    (cache / MnistRotSpec(seed=3).cache_name).write_bytes(b"not a zip")
    forbid_fetching(monkeypatch)
    info = json.loads(json.dumps(data_info(cache)))
    files = info["mnist"]["files"]
    assert files["train-images-idx3-ubyte"]["verified"]
    assert files["t10k-labels-idx1-ubyte"]["present"]
    assert not files["t10k-labels-idx1-ubyte"]["verified"]
    assert not info["mnist"]["complete"]
    good = [r for r in info["mnist_rot"] if "error" not in r]
    bad = [r for r in info["mnist_rot"] if "error" in r]
    assert [r["content_hash"] for r in good] == [made.content_hash]
    assert len(bad) == 1 and "corrupt" in bad[0]["error"]


def test_stale_partial_cache_files_are_removed(cache: Path) -> None:
    """A SIGKILL while writing MNIST-rot leaves up to 50 MB in .mnist_rot-*.part; the next
    load removes it once stale (writer gone), and never a file being written right now."""
    import os
    import time

    from gcnn_viewer.data import DataError, load_mnist_rot

    cache.mkdir(parents=True)
    stale = cache / ".mnist_rot-v1-seed1-1+1+1-ss1-bicubic.npz.999999999.0a1b.part"
    fresh = cache / f".mnist_rot-v1-seed1-1+1+1-ss1-bicubic.npz.{os.getpid()}.0a1c.part"
    for path in (stale, fresh):
        path.write_bytes(b"\0" * 1000)
    two_minutes_ago = time.time() - 120
    os.utime(stale, (two_minutes_ago, two_minutes_ago))
    with pytest.raises(DataError):  # no MNIST here, and no network: only the cleanup runs
        load_mnist_rot(
            MnistRotSpec(n_train=2, n_valid=1, n_test=1), use_network=False, use_npm=False
        )
    assert not stale.exists() and fresh.exists()


def test_spec_values_are_checked_for_type_and_range() -> None:
    from gcnn_viewer.errors import ConfigError

    for bad in (
        {"supersample": 400},
        {"supersample": "4"},
        {"seed": -1},
        {"n_test": 10**6},
        {"interpolation": "nearest"},
        {"version": 2},
        {"colour": "red"},
    ):
        with pytest.raises(ConfigError):
            MnistRotSpec.from_dict(bad)
    assert MnistRotSpec.from_dict({"supersample": 4}) == MnistRotSpec(supersample=4)

"""Accuracy vs angle: the bins hold evaluate's digits and predictions; the cache; cancel;
the quarter-turn identity of P4CNN on upright digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gcnn_viewer.analysis.accuracy import (
    AnalysisCancelled,
    AnalysisError,
    bin_errors,
    rot_accuracy,
    upright_accuracy,
)
from gcnn_viewer.data.mnist_rot import MnistRot, MnistRotSpec, content_hash, generate_mnist_rot
from gcnn_viewer.models.pretrained import load_pretrained
from gcnn_viewer.training import evaluate, to_tensor
from gcnn_viewer.viewer.models import sample_digits
from tests.analysis.conftest import blob_digit, seeded

N_TEST = 1_100  # three of evaluate's 500-digit batches, the last one partial


def synthetic_rot(n_test: int = N_TEST, seed: int = 0) -> MnistRot:
    """An MNIST-rot-format set: blob digits, random labels, recorded angles in [0, 360)."""
    rng = np.random.default_rng(seed)
    spec = MnistRotSpec(n_train=4, n_valid=2, n_test=n_test)
    n = spec.n_total
    base = np.stack([blob_digit(s) for s in range(8)])
    images = (base[rng.integers(0, 8, n)] * 255).astype(np.uint8)
    images = np.ascontiguousarray(np.rot90(images, 1, axes=(1, 2))) if seed % 2 else images
    labels = rng.integers(0, 10, n).astype(np.int64)
    angles = (rng.uniform(0, 360, n).astype(np.float32)) % np.float32(360)
    angles[-3:] = [0.0, 359.99, 180.0]  # the edges
    return MnistRot(
        images, labels, angles, np.arange(n, dtype=np.int64), spec, content_hash(images, labels)
    )


@pytest.mark.parametrize("name", ["z2cnn", "p4cnn"])
def test_bins_hold_evaluates_digits_and_predictions(name, cache):
    model = seeded(name)
    data = synthetic_rot()
    result = rot_accuracy(model, data, bins=36, weights_sha256=None)
    images, labels = data.split("test")
    expected = evaluate(model, to_tensor(images, torch.device("cpu")), torch.from_numpy(labels))
    assert result.error == expected  # exactly evaluate's number
    assert result.n == N_TEST == sum(b.n for b in result.bins)
    wrong = sum(b.wrong for b in result.bins)
    assert wrong == round(expected * N_TEST)  # the same misclassified digits, counted once
    weighted = math.fsum(b.n * b.error for b in result.bins if b.n) / result.n
    assert weighted == pytest.approx(expected, rel=1e-15, abs=0)
    assert 0 < wrong < N_TEST  # a test that can fail: some right, some wrong
    assert [b.lo for b in result.bins] == [10.0 * i for i in range(36)]
    assert result.bins[-1].hi == 360.0


def test_bins_follow_the_recorded_angles():
    angles = np.array([0.0, 9.99, 10.0, 355.0, 359.999, 180.0])
    wrong = np.array([1, 0, 1, 1, 0, 0])
    bins = bin_errors(angles, wrong, 36)
    assert (bins[0].n, bins[0].wrong) == (2, 1)
    assert (bins[1].n, bins[1].wrong) == (1, 1)
    assert (bins[35].n, bins[35].wrong) == (2, 1)
    assert bins[18].n == 1 and bins[18].error == 0.0
    assert bins[5].n == 0 and bins[5].error is None
    with pytest.raises(AnalysisError, match="--bins"):
        bin_errors(angles, wrong, 0)


def test_generated_mnist_rot_records_the_angles_it_rotated_by(fake_mnist_dir):
    """The angles stored with MNIST-rot are the generator's own (seeded) draws."""
    spec = MnistRotSpec(seed=7, n_train=5, n_valid=3, n_test=12)
    data = generate_mnist_rot(spec, fake_mnist_dir)
    rng = np.random.default_rng(spec.seed)
    source = rng.permutation(50)[: spec.n_total]
    angles = rng.uniform(0.0, 360.0, spec.n_total).astype(np.float32) % np.float32(360.0)
    assert np.array_equal(data.source_index, source)
    assert np.array_equal(data.angles, angles)


@pytest.fixture
def fake_mnist_dir(tmp_path, monkeypatch):
    from gcnn_viewer.data import mnist
    from tests.data.conftest import N_TEST as T
    from tests.data.conftest import N_TRAIN, digit_like, write_idx

    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {
        "train-images-idx3-ubyte": digit_like(rng, N_TRAIN),
        "train-labels-idx1-ubyte": rng.integers(0, 10, N_TRAIN).astype(np.uint8),
        "t10k-images-idx3-ubyte": digit_like(rng, T),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, T).astype(np.uint8),
    }
    import hashlib

    for name, array in arrays.items():
        raw = write_idx(src / name, array)
        monkeypatch.setitem(mnist.MNIST_FILES, name, hashlib.sha256(raw).hexdigest())
    return src


def test_cache_is_keyed_by_the_weights(cache):
    model = seeded("p4cnn")
    data = synthetic_rot(200)
    first = rot_accuracy(model, data, weights_sha256="a" * 64)
    files = list((cache / "analysis").glob("*.npz"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("the cached predictions should have been used")

    model.forward = boom
    second = rot_accuracy(model, data, bins=12, weights_sha256="a" * 64)
    assert second.error == first.error and sum(b.wrong for b in second.bins) == sum(
        b.wrong for b in first.bins
    )
    with pytest.raises(AssertionError, match="cached"):
        rot_accuracy(model, data, weights_sha256="b" * 64)  # other weights: computed again


def test_progress_and_cancel(cache):
    model = seeded("z2cnn")
    data = synthetic_rot()
    seen = []
    rot_accuracy(model, data, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    model.train()
    with pytest.raises(AnalysisCancelled):
        rot_accuracy(model, data, weights_sha256="c" * 64, cancelled=lambda: True)
    assert model.training  # evaluate's generator restored the mode
    assert not list((cache / "analysis").glob("*.npz"))  # nothing cached for a cancelled run


def _samples() -> tuple[np.ndarray, np.ndarray]:
    """The shipped sample digits (real MNIST test digits) and their labels."""
    stems, pixels = zip(*sample_digits(), strict=True)
    images = np.stack([np.rint(np.asarray(p) * 255) for p in pixels]).astype(np.uint8)
    return images, np.array([int(s.partition("-")[0]) for s in stems], np.int64)


def test_upright_quarter_turns_identical_for_p4cnn_not_for_z2cnn(cache):
    mnist = _samples()
    angles = [0, 90, 180, 270]
    p4 = upright_accuracy(load_pretrained("p4cnn"), angles, mnist=mnist)
    assert len(set(p4.errors)) == 1
    z2 = upright_accuracy(load_pretrained("z2cnn"), angles, mnist=mnist)
    assert len(set(z2.errors)) > 1
    assert z2.to_json("z2cnn") == {
        "model": "z2cnn",
        "n": len(mnist[1]),
        "points": [{"angle": float(a), "error": e} for a, e in zip(angles, z2.errors, strict=True)],
    }
    assert "MNIST-rot training digits" in p4.note


def test_upright_rejects_bad_angles(cache):
    with pytest.raises(AnalysisError):
        upright_accuracy(seeded("z2cnn"), [], mnist=_samples())
    with pytest.raises(AnalysisError, match="not a number"):
        upright_accuracy(seeded("z2cnn"), [float("nan")], mnist=_samples())
    with pytest.raises(AnalysisError, match="gcnn-viewer data fetch"):
        upright_accuracy(seeded("z2cnn"), [0.0])  # the empty cache has no MNIST

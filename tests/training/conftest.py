import numpy as np
import pytest

from gcnn_viewer.training import Datasets, TrainConfig


def tiny_datasets(n_train=48, n_valid=16, n_test=16, seed=0) -> Datasets:
    """Random digit-sized images with labels tied to a coarse image statistic, so a few epochs
    can lower the loss. uint8 [N, 28, 28], int64 [N]."""
    rng = np.random.default_rng(seed)

    def split(n):
        images = (rng.random((n, 28, 28)) ** 3 * 255).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.int64)
        images[np.arange(n), 4 + 2 * labels, 14] = 255  # a label-dependent bright pixel
        return images, labels

    return Datasets(
        train=split(n_train),
        valid=split(n_valid),
        test=split(n_test),
        description={"name": "tiny", "content_hash": f"tiny-{seed}"},
    )


@pytest.fixture
def tiny():
    return tiny_datasets()


def cfg(**kw) -> TrainConfig:
    """A small CPU run: P4CNN, batch 16, one epoch unless told otherwise."""
    return TrainConfig(**{"model": "p4cnn", "epochs": 1, "batch_size": 16, "device": "cpu", **kw})

"""``--input 0``…``9``: every digit is a shipped sample (the first MNIST test digit of that
class), so the promise holds on a machine without the MNIST cache."""

from __future__ import annotations

import numpy as np
import pytest

from gcnn_viewer.data import ENV_VAR
from gcnn_viewer.export import resolve_input
from gcnn_viewer.viewer.models import sample_digits

# the first MNIST test digit of each class (the test split's labels begin 7 2 1 0 4 1 4 9 5 9)
FIRST_OF_CLASS = {0: 3, 1: 2, 2: 1, 3: 18, 4: 4, 5: 8, 6: 11, 7: 0, 8: 61, 9: 7}


def test_every_digit_is_shipped():
    stems = sorted(stem for stem, _ in sample_digits())
    assert stems == [f"{d}-mnist-test-{i:05d}" for d, i in sorted(FIRST_OF_CLASS.items())]


@pytest.mark.parametrize("digit", range(10))
def test_every_digit_resolves_without_a_data_cache(digit, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-cache"))  # no MNIST to fall back on
    chosen = resolve_input(str(digit))
    assert chosen.source == f"sample {digit} (MNIST test #{FIRST_OF_CLASS[digit]})"
    pixels = chosen.snapshot.digit.pixels  # [28, 28], the model input at 0°
    assert pixels.shape == (28, 28) and pixels.max() > 0.5
    shipped = dict(sample_digits())[f"{digit}-mnist-test-{FIRST_OF_CLASS[digit]:05d}"]
    np.testing.assert_array_equal(pixels, shipped)

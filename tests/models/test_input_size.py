"""The shipped networks at other input sizes (issue 23): N×N for N in 20..64, the logits the
maximum over the top map's positions, and a one-line reason where a map is too small."""

from __future__ import annotations

import pytest
import torch

from gcnn_viewer.analysis.equivariance import assert_equivariant
from gcnn_viewer.models.networks import (
    HIDDEN_LAYERS,
    NETWORKS,
    MapTooSmallError,
    build_model,
    orientation_pool,
)


def seeded(name: str) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_model(name).eval()


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("size", [28, 29, 30, 31, 32, 33])
def test_every_network_gives_logits_the_maximum_over_the_top_map(name, size):
    model = seeded(name)
    x = torch.rand(3, 1, size, size, generator=torch.Generator().manual_seed(size))
    maps = model.feature_maps(x)
    top = maps["top"]
    side = (((size - 4) // 2) - 8) - 3  # l1, l2, pool, l3..l6, top
    assert top.shape[-2:] == (side, side)
    planes = orientation_pool(top) if top.dim() == 5 else top
    expected = planes.reshape(3, 10, -1).max(dim=-1).values
    torch.testing.assert_close(maps["logits"], expected, rtol=0, atol=0)
    assert model(x).shape == (3, 10)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_at_28_the_logits_are_the_top_map_itself(name):
    model = seeded(name)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    maps = model.feature_maps(x)
    top = orientation_pool(maps["top"]) if maps["top"].dim() == 5 else maps["top"]
    assert torch.equal(maps["logits"], top.flatten(1))


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_a_map_smaller_than_the_next_kernel_is_a_one_line_reason(name):
    model = seeded(name)
    computed = []
    with pytest.raises(MapTooSmallError) as info:
        for layer, _ in model.stages(torch.rand(1, 1, 27, 27)):
            computed.append(layer)
    assert computed == ["l1", "l2", "pool", *HIDDEN_LAYERS[2:]]
    err = info.value
    assert err.layer == "top" and "\n" not in str(err)
    assert str(err) == (
        "top cannot be computed at input 27×27: its 4×4 kernel is larger than the 3×3 map it gets"
    )
    with pytest.raises(MapTooSmallError, match="l6 cannot be computed at input 20×20"):
        model(torch.rand(1, 1, 20, 20))


@pytest.mark.parametrize("shape", [(1, 1, 19, 19), (1, 1, 65, 65), (1, 1, 29, 30)])
def test_sizes_outside_the_range_or_not_square_are_refused(shape):
    with pytest.raises(ValueError, match=r"expects \[B, 1, N, N\].*N from 20 to 64"):
        seeded("p4cnn")(torch.rand(*shape))


def test_p4cnn_is_exact_where_the_pool_meets_even_maps_and_not_at_29():
    model = seeded("p4cnn").double()
    for size in (28, 30, 32):  # l2 gives 24, 26, 28: even, the pool keeps the centre
        x = torch.rand(2, 1, size, size, dtype=torch.float64)
        assert_equivariant(model, x, model.group)  # logits invariant to every rot90
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(model, torch.rand(2, 1, 29, 29, dtype=torch.float64), model.group)

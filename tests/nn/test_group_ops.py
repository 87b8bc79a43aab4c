import pytest
import torch

from gcnn_viewer.analysis import assert_equivariant
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.nn import GroupBatchNorm, GroupMaxPool2d, OrientationPool, group_max_pool2d


@pytest.mark.parametrize("G", [P4, P4M], ids=lambda g: g.name)
def test_spatial_pool_is_equivariant_on_even_maps(G, dtype):
    x = torch.randn(2, 3, G.order, 8, 8, dtype=dtype)
    assert_equivariant(GroupMaxPool2d(2), x, G)


def test_spatial_pool_matches_per_plane_pooling():
    x = torch.randn(2, 3, 4, 8, 8)
    y = group_max_pool2d(x, 2)
    for s in range(4):
        torch.testing.assert_close(y[:, :, s], torch.nn.functional.max_pool2d(x[:, :, s], 2))


def test_pool_on_a_single_channels_last_image():
    """The batch-1 channels-last fast path gives the same values as the plain one."""
    x = torch.randn(1, 40, 24, 24).contiguous(memory_format=torch.channels_last)
    five = x.view(1, 10, 4, 24, 24)
    torch.testing.assert_close(group_max_pool2d(five, 2), group_max_pool2d(five.contiguous(), 2))


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_orientation_pool_gives_rotating_planes(mode, dtype):
    x = torch.randn(2, 3, 4, 6, 6, dtype=dtype)
    pooled = OrientationPool(mode)(x)
    assert pooled.shape == (2, 3, 6, 6)
    for r in P4.elements:
        torch.testing.assert_close(
            OrientationPool(mode)(P4.act_on_group_map(r, x)), torch.rot90(pooled, r, (-2, -1))
        )
    with pytest.raises(ValueError, match="mode"):
        OrientationPool("min")(x)


def test_group_batch_norm_shares_statistics_across_orientations(dtype):
    bn = GroupBatchNorm(3).to(dtype)
    assert bn.weight.shape == (3,)
    x = torch.randn(4, 3, 4, 5, 5, dtype=dtype) * 3 + 1
    y = bn(x)
    mean = y.mean(dim=(0, 2, 3, 4))
    torch.testing.assert_close(mean, torch.zeros_like(mean), atol=1e-5, rtol=0)
    assert_equivariant(bn, x, P4)  # train mode (batch statistics)
    bn.eval()
    assert_equivariant(bn, x, P4)  # eval mode (running statistics)
    with pytest.raises(ValueError, match=r"\[B, C, G, H, W\]"):
        bn(torch.randn(2, 3, 5, 5))

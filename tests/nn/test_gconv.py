"""The fast group convolutions against a slow, obviously-correct reference, and their laws."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from gcnn_viewer.analysis import assert_equivariant
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.nn import P4ConvP4, P4ConvZ2, P4MConvP4, P4MConvZ2

LAYERS = [P4ConvZ2, P4ConvP4, P4MConvZ2, P4MConvP4]


def reference_gconv(layer, x):
    """The convolution of docs/ARCHITECTURE.md (“Tensor and group conventions”) literally:
    y[b,o,g] = Σ_i Σ_s corr2d(x[b,i,s], T_g W[o,i,g⁻¹·s]) + bias[o],
    one plain 2-D correlation per (o, g, i, s)."""
    G, H = layer.group, layer.input_group
    W, bias = layer.weight, layer.bias
    if H is None:
        x = x.unsqueeze(2)  # [B, in, 1, H, W]
    out_channels, in_channels, g_in = W.shape[:3]
    outs = []
    for o in range(out_channels):
        planes = []
        for g in G.elements:
            acc = 0
            for i, s in itertools.product(range(in_channels), range(g_in)):
                src = 0 if H is None else G.compose(G.inverse(g), s)
                w = G.act_on_image(g, W[o, i, src])
                acc = acc + F.conv2d(
                    x[:, i : i + 1, s], w[None, None], stride=layer.stride, padding=layer.padding
                )
            if bias is not None:
                acc = acc + bias[o]
            planes.append(acc[:, 0])
        outs.append(torch.stack(planes, dim=1))
    return torch.stack(outs, dim=1)  # [B, out, G, H', W']


def make_input(layer, dtype, size=9, batch=2):
    shape = (batch, layer.in_channels)
    if layer.input_group is not None:
        shape += (layer.input_group.order,)
    return torch.randn(*shape, size, size, dtype=dtype)


TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kernel_size", [3, 4])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_matches_reference(cls, kernel_size, padding, bias, dtype):
    layer = cls(2, 3, kernel_size, padding=padding, bias=bias).to(dtype)
    if bias:
        torch.nn.init.normal_(layer.bias)
    x = make_input(layer, dtype)
    expected = reference_gconv(layer, x)
    got = layer(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=TOL[dtype], atol=TOL[dtype] * 10)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kernel_size", [3, 4])
@pytest.mark.parametrize("padding", [0, 1])
def test_layer_is_equivariant(cls, kernel_size, padding, dtype):
    layer = cls(3, 4, kernel_size, padding=padding).to(dtype)
    torch.nn.init.normal_(layer.bias)
    x = make_input(layer, dtype, size=10)
    errors = assert_equivariant(layer, x, layer.group)
    assert len(errors) == layer.group.order


def test_reference_detects_a_wrong_layer():
    """The reference test can fail: a layer whose filters are not rotated does not match."""
    layer = P4ConvZ2(1, 2, 3)
    x = torch.randn(1, 1, 7, 7)
    naive = F.conv2d(x, layer.weight[:, :, 0]).unsqueeze(2).expand(-1, -1, 4, -1, -1)
    assert not torch.allclose(naive, reference_gconv(layer, x), atol=1e-3)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda t: F.conv2d(t, torch.randn(2, 1, 3, 3)), x, P4)


def test_weight_layout_is_groupy():
    assert P4ConvZ2(3, 5, 3).weight.shape == (5, 3, 1, 3, 3)
    assert P4ConvP4(3, 5, 4).weight.shape == (5, 3, 4, 4, 4)
    assert P4MConvZ2(3, 5, 3).weight.shape == (5, 3, 1, 3, 3)
    assert P4MConvP4(3, 5, 3).weight.shape == (5, 3, 8, 3, 3)
    assert P4ConvP4(3, 5, 3).bias.shape == (5,)


def test_output_shapes_and_bad_input():
    layer = P4ConvP4(2, 3, 3, padding=1)
    assert layer(torch.randn(4, 2, 4, 8, 8)).shape == (4, 3, 4, 8, 8)
    assert P4MConvZ2(2, 3, 3)(torch.randn(1, 2, 8, 8)).shape == (1, 3, 8, 6, 6)
    with pytest.raises(ValueError, match=r"\[B, C, 4, H, W\]"):
        layer(torch.randn(4, 2, 8, 8))


def test_initialisation_is_groupy():
    layer = P4ConvP4(64, 64, 3)  # fan_in = 64·4·9
    assert abs(layer.weight.std().item() - (1 / (64 * 4 * 9)) ** 0.5) < 2e-3
    assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_gradcheck(cls):
    layer = cls(2, 2, 3, padding=1).double()
    x = make_input(layer, torch.float64, size=5, batch=1).requires_grad_()
    w = torch.randn_like(layer.weight, requires_grad=True)
    b = torch.randn_like(layer.bias, requires_grad=True)

    def fn(x, w, b):
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(fn, (x, w, b))


def test_cached_bank_follows_an_optimizer_step():
    layer = P4ConvP4(2, 2, 3)
    x = torch.randn(1, 2, 4, 6, 6)
    layer.eval()
    with torch.no_grad():
        before = layer(x)
        bank_before = layer._cache[1]
        assert layer(x) is not None and layer._cache[1] is bank_before  # reused, not rebuilt
    layer.train()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).square().sum().backward()
    opt.step()
    layer.eval()
    with torch.no_grad():
        after = layer(x)
        fresh, _ = layer.filter_bank()
    assert not torch.allclose(before, after)
    assert torch.equal(layer._cache[1], fresh)


def test_cached_bank_follows_load_state_dict():
    a, b = P4ConvZ2(1, 2, 3).eval(), P4ConvZ2(1, 2, 3).eval()
    x = torch.randn(1, 1, 6, 6)
    with torch.no_grad():
        b(x)  # fill b's cache
        b.load_state_dict(a.state_dict())
        torch.testing.assert_close(b(x), a(x))


def test_no_cache_while_a_weight_gradient_is_wanted():
    layer = P4ConvZ2(1, 2, 3).eval()
    x = torch.randn(1, 1, 6, 6)
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    layer(x).sum().backward()  # a cached graph would fail here ("backward through the graph")


def test_p4m_and_p4_agree_on_rotations():
    """A p4m layer restricted to rotations is equivariant to p4 as well."""
    layer = P4MConvZ2(1, 2, 3)
    x = torch.randn(1, 1, 8, 8)
    y = layer(x)
    for r in P4.elements:
        rotated = layer(torch.rot90(x, r, dims=(-2, -1)))
        torch.testing.assert_close(rotated, P4M.act_on_group_map(r, y), rtol=1e-5, atol=1e-6)

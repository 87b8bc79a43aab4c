import itertools

import pytest
import torch

from gcnn_viewer.group import P4, P4M

GROUPS = [P4, P4M]


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_group_axioms(G):
    els = list(G.elements)
    for g, h in itertools.product(els, els):
        assert G.compose(g, h) in els  # closure
    for g, h, k in itertools.product(els, els, els):
        assert G.compose(G.compose(g, h), k) == G.compose(g, G.compose(h, k))
    for g in els:
        assert G.compose(G.identity, g) == g == G.compose(g, G.identity)
        assert G.compose(g, G.inverse(g)) == G.identity == G.compose(G.inverse(g), g)


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_cayley_table_is_latin_square(G):
    table = G.cayley_table
    assert table.shape == (G.order, G.order)
    for row in table:
        assert sorted(row.tolist()) == list(G.elements)
    for col in table.T:
        assert sorted(col.tolist()) == list(G.elements)


def test_p4m_is_not_abelian_and_mirrors_are_involutions():
    assert P4M.compose(1, 4) != P4M.compose(4, 1)
    for g in range(4, 8):
        assert P4M.inverse(g) == g


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_action_on_images_is_a_group_action(G):
    x = torch.randn(2, 3, 7, 5)  # non-square on purpose: shapes must follow
    for g, h in itertools.product(G.elements, G.elements):
        lhs = G.act_on_image(g, G.act_on_image(h, x))
        assert torch.equal(lhs, G.act_on_image(G.compose(g, h), x))
    assert torch.equal(G.act_on_image(G.identity, x), x)


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_action_on_group_maps_is_a_group_action(G):
    f = torch.randn(2, 3, G.order, 6, 6)
    for g, h in itertools.product(G.elements, G.elements):
        lhs = G.act_on_group_map(g, G.act_on_group_map(h, f))
        assert torch.equal(lhs, G.act_on_group_map(G.compose(g, h), f))


def test_p4_actions_match_the_design_contract():
    x = torch.randn(2, 3, 6, 6)
    f = torch.randn(2, 3, 4, 6, 6)
    for r in range(4):
        assert torch.equal(P4.act_on_image(r, x), torch.rot90(x, r, dims=(-2, -1)))
        expected = torch.roll(torch.rot90(f, r, dims=(-2, -1)), shifts=r, dims=-3)
        assert torch.equal(P4.act_on_group_map(r, f), expected)


def test_p4m_spatial_transform_is_rotation_then_row_flip():
    x = torch.arange(12.0).view(3, 4)
    for m, r in itertools.product(range(2), range(4)):
        expected = torch.rot90(x, r, dims=(-2, -1))
        if m:
            expected = torch.flip(expected, dims=(-2,))
        assert torch.equal(P4M.act_on_image(4 * m + r, x), expected)


def test_labels_and_bad_elements():
    assert [P4.label(g) for g in P4.elements] == ["0°", "90°", "180°", "270°"]
    assert P4M.label(5) == "m90°"
    with pytest.raises(ValueError, match="elements 0..3"):
        P4.act_on_image(4, torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"\[..., 8, H, W\]"):
        P4M.act_on_group_map(0, torch.zeros(1, 4, 3, 3))

"""C_N and D_N beside p4 and p4m: the group laws, the exact action at quarter turns and the
interpolated one at the other elements (gcnn_viewer/group/groups.py)."""

import itertools

import pytest
import torch

from gcnn_viewer.group import P4, P4M, cyclic, dihedral, group_named, rotate_planes

NS = [1, 2, 3, 4, 6, 8, 16]
GROUPS = [cyclic(n) for n in NS] + [dihedral(n) for n in NS]


def quarter_elements(G):
    return [g for g in G.elements if G.is_quarter_turn(g)]


def blob(h=21, w=21, cy=0.0, cx=0.0, sigma=2.5):
    """A smooth bump centred (cy, cx) pixels from the centre (interpolation barely blurs it)."""
    y = torch.arange(h, dtype=torch.float64)[:, None] - (h - 1) / 2
    x = torch.arange(w, dtype=torch.float64)[None, :] - (w - 1) / 2
    return torch.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_group_laws(G):
    els = list(G.elements)
    table = G.cayley_table
    for g, h in itertools.product(els, els):
        assert G.compose(g, h) in els  # closure
        assert table[g, h] == G.compose(g, h)
    for g, h, k in itertools.product(els, els, els):
        assert G.compose(G.compose(g, h), k) == G.compose(g, G.compose(h, k))
    for g in els:
        assert G.compose(G.identity, g) == g == G.compose(g, G.identity)
        assert G.compose(g, G.inverse(g)) == G.identity == G.compose(G.inverse(g), g)
    for row in table:
        assert sorted(row.tolist()) == els


def test_c4_and_d4_are_p4_and_p4m_themselves():
    assert cyclic(4) is P4 and dihedral(4) is P4M
    assert group_named("C4") is P4 and group_named("p4m") is P4M
    assert group_named("C8") is cyclic(8) and group_named("D16") is dihedral(16)
    with pytest.raises(ValueError, match="no group named"):
        group_named("SO2")


def test_rotations_compose_as_angles_and_mirrors_reverse_them():
    C8, D8 = cyclic(8), dihedral(8)
    assert [C8.degrees(g) for g in C8.elements] == [45.0 * r for r in range(8)]
    assert C8.compose(3, 7) == 2  # 135° + 315° = 90°
    assert D8.compose(1, 8) == 15  # 45° after a mirror: the mirror then 315°
    assert D8.compose(8, 1) == 9
    for g in range(8, 16):
        assert D8.inverse(g) == g and D8.mirrored(g)


def test_labels_degrees_and_quarter_turns():
    C8, D8, C16 = cyclic(8), dihedral(8), cyclic(16)
    assert [C8.label(g) for g in C8.elements] == [f"{45 * r}°" for r in range(8)]
    assert D8.label(9) == "m45°" and D8.label(10) == "m90°"
    assert C16.label(1) == "22.5°" and cyclic(3).label(1) == "120°"
    assert quarter_elements(C8) == [0, 2, 4, 6] and quarter_elements(cyclic(6)) == [0, 3]
    assert [C8.quarter_turn_element(t) for t in (0, 1, 2, 3, 5, -1)] == [0, 2, 4, 6, 2, 6]
    assert [P4M.quarter_turn_element(t) for t in range(4)] == [0, 1, 2, 3]
    assert cyclic(6).quarter_turn_element(2) == 3  # 180° is an element of C6, 90° is not
    with pytest.raises(ValueError, match="C6 has no quarter turn"):
        cyclic(6).quarter_turn_element(1)
    assert C8.rotation(6) == 3 and D8.rotation(12) == 2  # m180°
    with pytest.raises(ValueError, match="45° is not a quarter turn"):
        C8.rotation(1)
    assert (P4.interpolated, P4M.interpolated, cyclic(2).interpolated) == (False, False, False)
    assert C8.interpolated and D8.interpolated and C16.interpolated
    assert [P4.label(g) for g in P4.elements] == ["0°", "90°", "180°", "270°"]  # unchanged


def test_nearest_rotation_rounds_halves_up():
    C8 = cyclic(8)
    assert [C8.nearest_rotation(a) for a in (0, 22.4, 22.5, 44, 45, 350, -45, 359.9)] == [
        0, 0, 1, 1, 1, 0, 7, 0,
    ]  # fmt: skip
    assert [P4.nearest_rotation(a) for a in (44.9, 45, 135, 314, 315)] == [0, 1, 2, 3, 0]
    assert P4M.nearest_rotation(90) == 1  # the rotation element, never a mirrored one


@pytest.mark.parametrize("G", GROUPS, ids=lambda g: g.name)
def test_action_is_exact_homomorphism_at_quarter_turns(G):
    x = torch.randn(2, 3, 7, 5)  # non-square on purpose: quarter turns swap the sides
    f = torch.randn(2, 3, G.order, 6, 6)
    quarters = quarter_elements(G)
    for g, h in itertools.product(quarters, quarters):
        gh = G.compose(g, h)
        assert torch.equal(G.act_on_image(g, G.act_on_image(h, x)), G.act_on_image(gh, x))
        lhs = G.act_on_group_map(g, G.act_on_group_map(h, f))
        assert torch.equal(lhs, G.act_on_group_map(gh, f))
    assert torch.equal(G.act_on_image(G.identity, x), x)
    for g in quarters:  # quarter turns (and their mirrors) are rot90 (then the row flip)
        expected = torch.rot90(x, G.rotation(g), dims=(-2, -1))
        expected = torch.flip(expected, dims=(-2,)) if G.mirrored(g) else expected
        assert torch.equal(G.act_on_image(g, x), expected)


def test_c8_45_degrees_turns_the_planes_and_rolls_the_axis_by_one():
    C8 = cyclic(8)
    f = torch.randn(3, 8, 9, 9, dtype=torch.float64)
    expected = torch.roll(rotate_planes(f, 45.0), shifts=1, dims=-3)
    assert torch.equal(C8.act_on_group_map(1, f), expected)
    # the orientation part alone is a roll for every rotation of C_N
    for r in range(8):
        assert torch.equal(C8.permute_orientations(r, f), torch.roll(f, r, dims=-3))


@pytest.mark.parametrize("G", [cyclic(8), dihedral(8), cyclic(16)], ids=lambda g: g.name)
def test_interpolated_elements_are_a_homomorphism_up_to_resampling(G):
    x = blob(cy=3.0, cx=-2.0)
    for g, h in itertools.product(G.elements, G.elements):
        lhs = G.act_on_image(g, G.act_on_image(h, x))
        rhs = G.act_on_image(G.compose(g, h), x)
        assert (lhs - rhs).abs().max() < 0.08, (G.label(g), G.label(h))  # bilinear blur
    # and not by accident: a wrong direction of turn would move the bump far away
    assert (G.act_on_image(1, x) - G.act_on_image(G.inverse(1), x)).abs().max() > 0.3


def test_rotate_planes_turns_counter_clockwise_in_pixel_units():
    # a bump right of the centre of a wide plane goes up-right (row index smaller) at 30°
    x = blob(h=25, w=41, cy=0.0, cx=8.0, sigma=1.5)
    y = rotate_planes(x, 30.0)
    assert y.shape == x.shape
    rows = torch.arange(25, dtype=torch.float64)[:, None] - 12
    cols = torch.arange(41, dtype=torch.float64)[None, :] - 20
    cy, cx = (rows * y).sum() / y.sum(), (cols * y).sum() / y.sum()
    assert abs(cy.item() - (-4.0)) < 0.05 and abs(cx.item() - 8 * 3**0.5 / 2) < 0.05
    # multiples of 90° are rot90, and the rest is added to the nearest quarter turn
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(rotate_planes(x, 270.0), torch.rot90(x, 3, dims=(-2, -1)))
    assert torch.equal(rotate_planes(x, 0.0), x)
    smooth = blob(cy=2.0, cx=1.0)
    twice = rotate_planes(rotate_planes(smooth, 45.0), 45.0)
    assert (twice - torch.rot90(smooth, 1, dims=(-2, -1))).abs().max() < 0.08


def test_cached_tables_made_in_inference_mode_still_serve_autograd():
    """The first use of a group's tables may come from the app's inference thread; a later
    training-mode caller must still be able to backpropagate through the action."""
    import torch

    group = dihedral(2)  # a group no other test has touched: its tables are made here
    with torch.inference_mode():
        group.act_on_group_map(1, torch.zeros(1, 1, group.order, 3, 3))
        _ = group.cayley_table
    f = torch.randn(1, 1, group.order, 3, 3, requires_grad=True)
    group.act_on_group_map(1, f).sum().backward()
    assert f.grad is not None and group.cayley_table.requires_grad is False

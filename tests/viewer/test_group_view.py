"""The group view's geometry (gcnn_viewer/viewer/group_view.py), Qt-free: the planes on their
circles, the arrows of the Cayley graph, and the roll of the planes as the input turns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gcnn_viewer.errors import ConfigError
from gcnn_viewer.group.groups import P4, P4M
from gcnn_viewer.viewer.group_view import (
    element_label,
    group_diagram,
    group_planes,
    roll_text,
    rolled_by,
)
from gcnn_viewer.viewer.layout import stabilise


def angle_of(point) -> float:
    return math.degrees(math.atan2(point[1], point[0])) % 360.0


@pytest.mark.parametrize("group", [P4, P4M])
def test_a_quarter_turn_moves_every_plane_one_step_counter_clockwise(group):
    """Left multiplication by r (the input turned by 90°) takes each plane to the place one
    step counter-clockwise on its own circle, on both circles of p4m."""
    d = group_diagram(group)
    for g, h in enumerate(rolled_by(group, 1)):
        a, b = d.plane(g), d.plane(h)
        assert a.ring == b.ring
        assert math.hypot(*a.centre) == pytest.approx(math.hypot(*b.centre))
        assert (angle_of(b.centre) - angle_of(a.centre)) % 360.0 == pytest.approx(90.0)


def test_the_arrows_are_the_cayley_graph_of_r_and_m():
    d = group_diagram(P4M)
    r = [(a.source, a.target) for a in d.arrows if a.generator == "r"]
    m = [(a.source, a.target) for a in d.arrows if a.generator == "m"]
    assert sorted(r) == sorted((g, P4M.compose(g, 1)) for g in P4M.elements)
    assert sorted(m) == sorted((g, P4M.compose(g, 4)) for g in range(4))
    for a in d.arrows:  # each runs from its source plane's side to its target's
        start, end = a.points[0], a.points[-1]
        assert np.linalg.norm(start - d.plane(a.source).centre) < np.linalg.norm(
            start - d.plane(a.target).centre
        )
        assert np.linalg.norm(end - d.plane(a.target).centre) < np.linalg.norm(
            end - d.plane(a.source).centre
        )
    assert [a.both for a in d.arrows if a.generator == "m"] == [True] * 4
    assert [element_label(P4M, g) for g in P4M.elements] == [
        "e", "r", "r²", "r³", "m", "mr", "mr²", "mr³",
    ]  # fmt: skip
    assert len(group_diagram(P4).arrows) == 4  # p4: the r arrows only


@pytest.mark.parametrize("group", [P4, P4M])
def test_planes_roll_as_the_maps_of_a_turned_input(group):
    """For maps that transform as an equivariant network's do, the planes at r·g after a
    quarter turn are the planes at g before, turned; and a stabilised frame's planes are put
    back as computed."""
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(3, group.order, 5, 5, generator=gen)
    turned = group.act_on_group_map(1, f).numpy()
    before = group_planes(f.numpy(), 2, group)
    after = group_planes(turned, 2, group)
    for g, h in enumerate(rolled_by(group, 1)):
        np.testing.assert_array_equal(after[h], np.rot90(before[g]))
    for turns in range(4):
        raw = group.act_on_group_map(turns, f)
        shown = stabilise(raw, group, turns).numpy()
        np.testing.assert_array_equal(group_planes(shown, 1, group, turns), raw[1].numpy())


def test_bad_maps_and_channels_are_one_line():
    with pytest.raises(ConfigError, match=r"needs maps \[C, 4, h, w\]"):
        group_planes(np.zeros((2, 8, 3, 3)), 0, P4)
    with pytest.raises(ConfigError, match="channel 5 is not one of 0..1"):
        group_planes(np.zeros((2, 4, 3, 3)), 5, P4)


def test_the_status_line_says_what_moved():
    assert "moved 1 step" in roll_text(P4, 90.0, 10, 12)
    assert "moved 2 steps" in roll_text(P4, 180.0, 10, 12) and "r²" in roll_text(P4, 180, 10, 12)
    assert "not a quarter turn" in roll_text(P4M, 45.0, 10, 12)

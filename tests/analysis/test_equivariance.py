"""err_L(θ): exact zeros at quarter turns for every layer of the group CNNs, not for Z2CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnn_viewer.analysis.equivariance import (
    EXACT_TOLERANCE,
    disc_mask,
    equivariance_curve,
    rotate_maps,
    transform_maps,
)
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.models.pretrained import load_pretrained
from tests.analysis.conftest import blob_digit, seeded

ANGLES = [0.0, 20.0, 45.0, 90.0, 135.0, 180.0, 270.0, 300.0]
QUARTERS = [i for i, a in enumerate(ANGLES) if a % 90 == 0]
BETWEEN = [i for i, a in enumerate(ANGLES) if a % 90 != 0]
LAYERS = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top", "logits"]


@pytest.mark.parametrize("name", ["p4cnn", "p4mcnn", "p4cnn_rotpool"])
def test_group_cnns_are_exact_at_quarter_turns(name):
    curve = equivariance_curve(seeded(name), blob_digit(), ANGLES)
    assert list(curve) == LAYERS  # feature_maps order, logits last
    for layer, err in curve.items():
        assert err.shape == (len(ANGLES),)
        assert err[QUARTERS].max() <= EXACT_TOLERANCE, (layer, err)
        # between quarter turns the resampled rotation is only approximate: clearly not 0
        assert err[BETWEEN].min() > 1e-3, (layer, err)


def test_shipped_p4cnn_is_exact_at_quarter_turns():
    model = load_pretrained("p4cnn").eval()
    curve = equivariance_curve(model, blob_digit(1), ANGLES)
    for layer, err in curve.items():
        assert err[QUARTERS].max() <= EXACT_TOLERANCE, layer


def test_z2cnn_is_not_equivariant():
    curve = equivariance_curve(seeded("z2cnn"), blob_digit(), ANGLES)
    for layer, err in curve.items():
        assert err[0] == 0.0  # the same input, the same pass
        assert err[1:].min() > 1e-2, (layer, err)


def test_error_is_the_issues_formula_for_one_layer():
    """err_l1(90°) of a Z2CNN by hand: ‖f(rot90 x) − rot90 f(x)‖ / ‖rot90 f(x)‖ in the disc."""
    model = seeded("z2cnn")
    x = blob_digit(2)
    err = equivariance_curve(model, x, [90.0])["l1"][0]
    with torch.inference_mode():
        t = torch.from_numpy(np.stack([x, np.rot90(x).copy()]))[:, None]
        f = model.feature_maps(t)["l1"].double()  # [2, 20, 26, 26]
    ref = torch.rot90(f[0], 1, dims=(-2, -1))
    mask = disc_mask(26)
    expected = (f[1][:, mask] - ref[:, mask]).norm() / ref[:, mask].norm()
    assert err == pytest.approx(float(expected), rel=1e-12)


def test_disc_mask():
    m = disc_mask(26)
    assert m.shape == (26, 26) and m[13, 13] and m[1, 13] and not m[0, 0]
    assert torch.equal(m, torch.rot90(m, 1)) and torch.equal(m, m.flip(0))
    assert disc_mask(1).tolist() == [[True]]


def test_transform_is_the_group_action_at_quarter_turns():
    for group in (P4, P4M):
        f = torch.randn(3, group.order, 6, 6, dtype=torch.float64)
        out = transform_maps(f, [0.0, 90.0, 180.0, 270.0, 360.0], group)
        for i, k in enumerate([0, 1, 2, 3, 0]):
            assert torch.equal(out[i], group.act_on_group_map(k, f))


def test_transform_between_quarter_turns_cycles_by_the_nearest():
    f = torch.zeros(1, 4, 1, 1, dtype=torch.float64)
    f[0, 0] = 1.0  # a 1×1 map: only the orientation cycle shows
    out = transform_maps(f, [40.0, 50.0, 130.0, 224.0, 226.0], P4)
    assert [int(o[0].flatten().argmax()) for o in out] == [0, 1, 1, 2, 3]


def test_rotate_maps_turns_counter_clockwise():
    t = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    t[0, 0, 4, 7] = 1.0  # right of the centre
    turned = rotate_maps(t, torch.tensor([90.0], dtype=torch.float64))
    assert torch.allclose(turned, torch.rot90(t, 1, dims=(-2, -1)), atol=1e-9)  # now above
    assert rotate_maps(t, torch.tensor([0.0], dtype=torch.float64)) is not None
    assert torch.equal(rotate_maps(t, torch.tensor([0.0], dtype=torch.float64)), t)


def test_model_mode_is_restored():
    model = seeded("p4cnn").train()
    equivariance_curve(model, blob_digit(), [0.0, 90.0])
    assert model.training


def test_transform_maps_follows_the_nearest_element_of_a_finer_group():
    """C8 (issue 22): at 45° the orientation axis rolls by ONE step and the planes turn 45°;
    at 90° by two steps and an exact rot90 (not the 90° element's quarter-turn count)."""
    from gcnn_viewer.analysis.equivariance import transform_maps
    from gcnn_viewer.group import cyclic, rotate_planes

    f = torch.randn(3, 8, 9, 9, dtype=torch.float64)
    out = transform_maps(f, [45.0, 90.0, 100.0], cyclic(8))
    assert torch.allclose(out[0], torch.roll(rotate_planes(f, 45.0), 1, dims=-3), atol=1e-12)
    assert torch.equal(out[1], torch.roll(torch.rot90(f, 1, dims=(-2, -1)), 2, dims=-3))
    assert torch.allclose(out[2], torch.roll(rotate_planes(f, 100.0), 2, dims=-3), atol=1e-12)

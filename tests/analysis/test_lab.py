"""The equivariance lab's Qt-free core (issue 23): settings, curves under each switch, the
readout and its reasons, and the comparison of two sets of weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE, disc_mask, equivariance_curve
from gcnn_viewer.analysis.lab import (
    DEFAULT_SETTINGS,
    LabSettings,
    architecture_mismatch,
    lab_curves,
    lab_inputs,
    lab_readout,
)
from gcnn_viewer.data.digits import Digit, rotate_input
from gcnn_viewer.errors import ConfigError
from tests.analysis.conftest import blob_digit, seeded

LAYERS = ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top", "logits"]
METHODS = ["native", "nearest", "bilinear", "bicubic", "supersample:4"]
POOL_29 = (
    "the 2×2 max-pool meets an odd 25×25 map: it drops a row and a column and moves the "
    "rotation centre"
)


def test_settings_default_to_what_the_app_does_and_echo_every_switch():
    assert DEFAULT_SETTINGS.as_json() == {"input_size": 28, "rotation": "native", "mask": "none"}
    s = LabSettings(29, " Supersample:8 ", "DISC")
    assert s.as_json() == {"input_size": 29, "rotation": "supersample:8", "mask": "disc"}
    assert s.describe() == "input 29×29 · rotation supersample:8 · mask disc"
    assert DEFAULT_SETTINGS.is_default and not s.is_default


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"input_size": 65}, "input size"),
        ({"input_size": "29"}, "input size"),
        ({"rotation": "lanczos"}, "rotation method"),
        ({"mask": "square"}, "mask must be one of none, disc"),
    ],
)
def test_bad_settings_are_one_line(kwargs, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        LabSettings(**kwargs)
    assert "\n" not in str(info.value)


def test_default_settings_give_equivariance_curve_exactly():
    model, x = seeded("p4cnn"), blob_digit()
    angles = [0.0, 30.0, 90.0, 135.0]
    curves = lab_curves(model, x, angles)
    reference = equivariance_curve(model, x, angles)
    assert list(curves.errors) == LAYERS and not curves.unavailable
    for layer in LAYERS:
        assert curves.errors[layer].tobytes() == reference[layer].tobytes(), layer


def test_inputs_follow_the_settings():
    digit = Digit(blob_digit(3))
    x = lab_inputs(digit, [90.0, 45.0], LabSettings(29, "bilinear", "disc"))
    assert x.shape == (3, 29, 29) and x.dtype == np.float32
    outside = ~disc_mask(29).numpy()
    assert not x[:, outside].any()  # the corners are zeroed, upright and turned
    upright = np.where(outside, 0, digit.model_input(29))
    np.testing.assert_array_equal(x[0], upright)
    np.testing.assert_array_equal(x[1], np.rot90(upright))  # the mask commutes with rot90
    np.testing.assert_array_equal(
        x[2], np.where(outside, 0, rotate_input(digit, 45.0, 29, "bilinear"))
    )
    assert lab_inputs(digit, [45.0], LabSettings(29, "nearest"))[1, outside].any()


@pytest.mark.parametrize("mask", ["none", "disc"])
@pytest.mark.parametrize("size", [28, 30, 32])
def test_p4cnn_is_exact_at_90_wherever_the_pool_meets_an_even_map(size, mask):
    curves = lab_curves(seeded("p4cnn"), blob_digit(), [90.0], LabSettings(size, "native", mask))
    assert max(v for v in curves.at(90.0).values()) <= EXACT_TOLERANCE
    readout = lab_readout(None, curves=curves)
    assert readout.first_broken is None and readout.exact_up_to == "logits"
    assert readout.text == "exact up to logits at 90°: every layer"


def test_at_29_the_layers_from_the_pool_on_are_broken_and_the_readout_names_it():
    curves = lab_curves(seeded("p4cnn"), blob_digit(), [0.0, 90.0], LabSettings(29))
    at90 = curves.at(90.0)
    assert max(at90["l1"], at90["l2"]) <= EXACT_TOLERANCE
    assert min(at90[layer] for layer in LAYERS[2:]) > 1e-2
    readout = lab_readout(None, curves=curves)
    assert (readout.exact_up_to, readout.first_broken) == ("l2", "pool")
    assert readout.reason == POOL_29
    assert readout.text == f"exact up to l2 at 90°; first broken: pool ({POOL_29})"


def test_layers_a_small_input_cannot_reach_are_nan_with_their_reason():
    model = seeded("p4cnn")
    curves = lab_curves(model, blob_digit(), [0.0, 90.0, 45.0], LabSettings(27))
    reason = (
        "top cannot be computed at input 27×27: its 4×4 kernel is larger than the 3×3 map it gets"
    )
    assert curves.unavailable == {"top": reason, "logits": reason}
    assert np.isnan(curves.errors["top"]).all() and np.isnan(curves.errors["logits"]).all()
    assert curves.at(90.0)["logits"] is None and curves.at(90.0)["l6"] is not None
    assert curves.as_json()["error"]["top"] is None
    text = lab_readout(model, blob_digit(), LabSettings(27)).text
    assert text.endswith(f"n/a: top, logits ({reason})")
    assert text.startswith("exact up to l2 at 90°; first broken: pool (the 2×2 max-pool meets ")


def test_readout_reasons_planar_layers_and_angles_between_quarter_turns():
    z2 = lab_readout(seeded("z2cnn"), blob_digit())
    assert z2.exact_up_to is None and z2.first_broken == "l1"
    assert z2.text == (
        "not exact at 90° from the first layer on; first broken: l1 (planar layer: not equivariant)"
    )
    tilted = lab_readout(seeded("p4cnn"), blob_digit(), LabSettings(rotation="bilinear"), 45.0)
    assert tilted.first_broken == "l1"
    assert tilted.reason == "not a quarter turn: interpolated input (bilinear rotation)"
    # the rotation-pooling net's planar layers are invariant: exact, not "planar"
    assert lab_readout(seeded("p4cnn_rotpool"), blob_digit()).first_broken is None


@pytest.mark.parametrize("method", METHODS)
def test_methods_change_45_degrees_only(method):
    model = seeded("p4cnn")
    curves = lab_curves(model, blob_digit(), [90.0, 45.0], LabSettings(rotation=method))
    for layer, err in curves.errors.items():
        assert err[0] <= EXACT_TOLERANCE, (method, layer)
        assert err[1] > 1e-3, (method, layer)


def test_a_2x2_top_map_is_compared_on_all_its_pixels():
    """At 30×30 the top map is 2×2, whose central disc holds no pixel centre: compared on
    none, its error was 0 at every angle."""
    curves = lab_curves(seeded("p4cnn"), blob_digit(), [90.0, 45.0], LabSettings(30))
    assert curves.shapes["top"][-2:] == (2, 2)
    assert curves.errors["top"][0] <= EXACT_TOLERANCE < 1e-3 < curves.errors["top"][1]


def test_the_model_is_left_as_it_was():
    model = seeded("p4cnn").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lab_curves(model, blob_digit(), [45.0], LabSettings(29, "supersample:2", "disc"))
    assert model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    frozen = seeded("p4cnn").freeze()
    lab_readout(frozen, blob_digit(), LabSettings(27))
    assert frozen.frozen and not frozen.training


def test_a_second_set_of_weights_must_be_the_same_architecture():
    assert architecture_mismatch(seeded("p4cnn", 0), seeded("p4cnn", 1)) is None
    assert architecture_mismatch(seeded("p4cnn"), seeded("z2cnn")) == "a Z2CNN, not a P4CNN"
    from gcnn_viewer.models.networks import build_model

    wide = build_model("p4cnn", channels=12)
    assert architecture_mismatch(seeded("p4cnn"), wide) == "a P4CNN with other channels"


def test_a_users_module_runs_in_the_lab_at_its_own_input_size():
    from tests.models.user_nets import big_cnn, p4_net

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = p4_net().eval()
    curves = lab_curves(net, blob_digit(), [90.0, 45.0])
    assert max(err[0] for err in curves.errors.values()) <= EXACT_TOLERANCE
    assert lab_readout(None, curves=curves).first_broken is None
    with pytest.raises(ConfigError, match="takes 32×32 inputs: the lab's input size must be 32"):
        lab_curves(big_cnn(), blob_digit(), [90.0])
    assert lab_curves(big_cnn(), blob_digit(), [90.0], LabSettings(32)).settings.input_size == 32


def test_a_users_module_outside_the_drawing_sizes_gets_the_28_digit_it_pads_itself():
    from torch import nn

    class Wide(nn.Module):
        input_size = 96  # more than the drawing makes (64): the wrapper pads the 28×28 digit

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.head = nn.Linear(2, 10)

        def forward(self, x):  # noqa: ANN001, ANN202
            return self.head(self.conv(x).amax(dim=(-2, -1)))

    curves = lab_curves(Wide(), blob_digit(), [0.0, 90.0])
    assert curves.settings.input_size == 28 and curves.shapes["conv"] == (2, 94, 94)

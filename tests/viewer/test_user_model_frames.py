"""A user's model in the one frame pipeline (issue 22): each layer is laid out and
stabilised by its own record (a model may mix p4 and planar layers), and the digit is drawn
into the model's own N×N field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gcnn_viewer.data.digits import rotate_input
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.viewer.inference import SweepRequest, compute_frame, run_sweep
from gcnn_viewer.viewer.state import ViewerState

from .conftest import seven

NETS = Path(__file__).resolve().parents[1] / "models" / "user_nets.py"


def user_state(catalog, factory: str) -> tuple[ViewerState, str]:
    entry = catalog.open_user_model(f"{NETS}:{factory}")
    state = ViewerState(catalog)
    state.drawing.set_image(seven(), "test")
    state.set_panel(0, entry.key)
    return state, entry.key


def test_mixed_p4_and_planar_layers_each_stabilised_by_its_own_group(catalog) -> None:
    state, key = user_state(catalog, "mixed")
    probe = catalog.get(key).probe()
    assert probe.layouts["lift"].group is P4 and probe.layouts["eight"].group is P4M
    assert probe.layouts["invariant"].group is None and probe.layouts["conv"].group is None
    state.angle, state.stabilised = 0, True
    upright = compute_frame(state.frame_request()).panel(key)
    state.angle = 90
    turned = compute_frame(state.frame_request()).panel(key)
    for name in ("lift", "relu", "invariant"):  # equivariant (p4, then invariant planes)
        np.testing.assert_allclose(turned.layers[name].data, upright.layers[name].data, atol=1e-5)
    # a plain convolution of those planes is not: turned back, its maps still differ
    assert np.abs(turned.layers["conv"].data - upright.layers["conv"].data).max() > 1e-3


def test_the_digit_is_drawn_into_the_models_own_field(catalog) -> None:
    state, key = user_state(catalog, "odd33")
    state.angle = 90
    frame = compute_frame(state.frame_request())
    seen = frame.panel(key).layers["seen"].data[0, 0]  # [33, 33]: what the model was given
    drawn = rotate_input(state.drawing.snapshot().digit, 90, size=33)
    np.testing.assert_array_equal(seen, drawn)
    assert frame.input.shape == (28, 28)  # the window still shows the 28×28 digit
    model = catalog.get(key).model
    sweep = run_sweep(
        SweepRequest(1, state.drawing.snapshot(), ((key, model),), angles=np.array([90.0]))
    )
    expected = torch.softmax(model(torch.from_numpy(drawn)[None, None]), 1).numpy()
    np.testing.assert_allclose(sweep.probabilities[key], expected, rtol=1e-5)


def test_two_live_modules_of_one_class_are_two_entries(catalog) -> None:
    from gcnn_viewer.models.user import load_factory, wrap_model

    build, _ = load_factory(f"{NETS}:p4_net")
    first, second = build(), build()
    with torch.no_grad():
        second.lift.weight.mul_(-1)
    a = catalog.add_user_model(wrap_model(first), "view()")
    b = catalog.add_user_model(wrap_model(second), "view()")
    assert a.key != b.key and a.model.module is first and b.model.module is second
    # the same spec opened again is the same entry, with the weights it has now
    c = catalog.open_user_model(f"{NETS}:p4_net")
    assert catalog.open_user_model(f"{NETS}:p4_net").key == c.key

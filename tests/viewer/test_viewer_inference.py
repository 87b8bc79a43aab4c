import threading

import numpy as np
import pytest

from gcnn_viewer.viewer.inference import (
    InferenceScheduler,
    SweepRequest,
    compute_frame,
    run_sweep,
    stabilising_turns,
    work_once,
)
from gcnn_viewer.viewer.state import ViewerState

from .conftest import seven


@pytest.fixture
def state(catalog):
    s = ViewerState(catalog)
    s.drawing.set_image(seven(), "test")
    return s


def frame_at(state, angle, stabilised=False):
    state.angle = angle
    state.stabilised = stabilised
    return compute_frame(state.frame_request())


def test_default_panels_are_z2cnn_and_p4cnn(state):
    assert state.panel_keys == ("untrained:z2cnn", "shipped:p4cnn")


def test_a_frame_has_every_layer_of_both_models(state):
    result = frame_at(state, 0)
    assert [p.key for p in result.panels] == list(state.panel_keys)
    for panel, i in zip(result.panels, range(2), strict=True):
        probe = state.panel_entry(i).probe()
        assert list(panel.layers) == ["l1", "l2", "pool", "l3", "l4", "l5", "l6", "top"]
        assert panel.probabilities.shape == (10,)
        assert panel.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        for name, layer in panel.layers.items():
            assert layer.image.shape == probe.layouts[name].shape
            assert layer.image.dtype == np.uint8 and layer.data.dtype == np.float32
    np.testing.assert_array_equal(result.input, seven())


def test_p4cnn_quarter_turn_keeps_probabilities_and_rolls_orientations(state):
    f0, f90 = frame_at(state, 0), frame_at(state, 90)
    p0, p90 = f0.panels[1], f90.panels[1]
    np.testing.assert_allclose(p90.probabilities, p0.probabilities, atol=1e-5)
    assert p90.prediction == p0.prediction
    l1_0, l1_90 = p0.layers["l1"].data, p90.layers["l1"].data  # [C, 4, h, w]
    for g in range(4):  # column g at 90° is column g−1 at 0°, turned by 90°
        np.testing.assert_allclose(
            l1_90[:, g], np.rot90(l1_0[:, (g - 1) % 4], 1, axes=(-2, -1)), atol=1e-5
        )


def test_stabilised_p4cnn_stands_still_and_z2cnn_does_not(state):
    frames = [frame_at(state, a, stabilised=True) for a in (0, 90, 180, 270)]
    assert [f.turns for f in frames] == [0, 1, 2, 3]
    for f in frames[1:]:
        for name, layer in f.panels[1].layers.items():
            np.testing.assert_allclose(layer.data, frames[0].panels[1].layers[name].data, atol=1e-4)
            diff = np.abs(layer.image.astype(int) - frames[0].panels[1].layers[name].image)
            assert diff.max() <= 1, name  # rounding at a colour boundary at most
    z0, z90 = frames[0].panels[0].layers["l3"].data, frames[1].panels[0].layers["l3"].data
    assert np.abs(z0 - z90).max() > 1e-2


def test_stabilising_turns_rounds_to_the_nearest_quarter():
    assert [stabilising_turns(a) for a in (0, 44, 46, 90, 134, 181, 359)] == [0, 0, 1, 1, 1, 2, 0]


def test_sweep_is_periodic_for_p4cnn(state):
    result = run_sweep(state.sweep_request())
    assert result.angles[0] == 0 and result.angles[-1] == 360
    p4 = result.probabilities["shipped:p4cnn"]
    assert p4.shape == (len(result.angles), 10)
    quarter = [int(np.flatnonzero(result.angles == a)[0]) for a in (0, 90, 180, 270, 360)]
    for i in quarter[1:]:
        np.testing.assert_allclose(p4[i], p4[quarter[0]], atol=1e-5)
    # between the quarter turns too: rotating by θ + 90° is rot90 of rotating by θ, so
    # P4CNN's curve repeats every 90° (Z2CNN's need not)
    for a in (14, 38, 66):
        i, j = (int(np.flatnonzero(result.angles == b)[0]) for b in (a, a + 90))
        np.testing.assert_allclose(p4[j], p4[i], atol=1e-4)
    # the curve at an angle equals the frame's probabilities there
    i45 = int(np.flatnonzero(result.angles == 44)[0])
    np.testing.assert_allclose(p4[i45], frame_at(state, 44).panels[1].probabilities, atol=1e-5)


def test_scheduler_latest_frame_wins_and_frames_go_before_sweeps(state):
    s = InferenceScheduler()
    requests = [state.frame_request() for _ in range(3)]
    s.submit_sweep(state.sweep_request())
    for r in requests:
        s.submit_frame(r)
    kind, payload = s.take()
    assert kind == "frame" and payload is requests[-1]
    assert s.frames_submitted == 3 and s.frames_taken == 1
    kind, steps = s.take()
    assert kind == "sweep"
    s.submit_frame(requests[0])  # arrives mid-sweep: served before the next step
    assert s.take()[0] == "frame"
    assert s.take() == ("sweep", steps)


def test_a_new_sweep_drops_the_one_in_progress(state):
    s = InferenceScheduler()
    s.submit_sweep(SweepRequest(1, state.snapshot(), (("a", state.panel_entry(1).model),)))
    first = s.take()[1]
    next(first)
    s.submit_sweep(SweepRequest(2, state.snapshot(), (("a", state.panel_entry(1).model),)))
    assert not s.finish_sweep(first)  # its result would be stale
    results = []
    while (out := work_once(s, timeout=0.01)) is not None:
        results.append(out)
    assert results[-1].seq == 2 and s.idle()


def test_close_wakes_a_waiting_worker():
    s = InferenceScheduler()
    got = []
    t = threading.Thread(target=lambda: got.append(s.take()))
    t.start()
    s.close()
    t.join(timeout=5)
    assert not t.is_alive() and got == [None]


def test_blank_drawing_gives_a_blank_input(catalog):
    state = ViewerState(catalog)
    assert state.drawing.is_empty
    result = compute_frame(state.frame_request())
    assert not result.input.any()


def test_snapshot_is_shared_while_the_drawing_is_unchanged(catalog):
    state = ViewerState(catalog)
    a, b = state.frame_request(), state.frame_request()
    assert a.snapshot is b.snapshot and b.seq > a.seq
    state.drawing.begin_stroke(0.5, 0.5)
    c, d = state.frame_request(), state.frame_request()
    assert c.snapshot is not a.snapshot and c.snapshot.version > a.snapshot.version
    assert d.snapshot is c.snapshot  # shared again until the next edit
    # the new snapshot holds the stroke; the old one, handed to a worker, still does not
    assert c.snapshot.pixels.any() and not a.snapshot.pixels.any()

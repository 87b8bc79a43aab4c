"""The main window's decisions, tested without Qt: what a change asks of the worker
(viewer/reactions.py), its texts (window_texts), dock sizes (dock_sizes), stored settings
(view_settings)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gcnn_viewer.viewer import dock_sizes as docks
from gcnn_viewer.viewer import reactions
from gcnn_viewer.viewer import view_settings as settings
from gcnn_viewer.viewer import window_texts as texts
from gcnn_viewer.viewer.drawing import DEFAULT_BRUSH, MAX_BRUSH, Drawing
from gcnn_viewer.viewer.layout import MapPixel


def frame(seq: int, keys=("z2cnn", "p4cnn")):
    return SimpleNamespace(seq=seq, panels=[SimpleNamespace(key=k) for k in keys])


def sweep(version: int, keys=("z2cnn", "p4cnn")):
    return SimpleNamespace(version=version, probabilities={k: None for k in keys})


def test_a_stroke_asks_for_frames_and_holds_the_sweep_until_it_ends():
    during = reactions.on_drawing_changed(stroke_in_progress=True)
    assert during.frame and during.cancel_sweep and not (during.sweep or during.live_sweep)
    # undo, clear or an opened image change the drawing with no stroke in progress
    assert reactions.on_drawing_changed(False) == reactions.Reaction(frame=True)
    assert reactions.on_drawing_committed() == reactions.Reaction(sweep=True)
    # the sweep covers every angle: turning the input or the display needs only a frame
    assert reactions.on_angle_changed() == reactions.Reaction(frame=True)
    assert reactions.on_display_changed() == reactions.Reaction(frame=True)
    assert reactions.on_panel_changed() == reactions.Reaction(frame=True, sweep=True)


def test_new_weights_keep_the_sweep_drawn_only_while_every_panel_keeps_its_scales():
    detail, values, measure = reactions.PanelUpdate
    assert reactions.panel_update(probed=True, same_probe=True) is detail
    assert reactions.panel_update(probed=True, same_probe=False) is values
    assert reactions.panel_update(probed=False, same_probe=False) is measure
    assert reactions.on_model_updated([]) == reactions.Reaction()  # a model no panel shows
    Reaction = reactions.Reaction
    assert reactions.on_model_updated([detail, detail]) == Reaction(frame=True, live_sweep=True)
    assert reactions.on_model_updated([detail, measure]) == Reaction(frame=True, sweep=True)
    assert reactions.selectors_need_refresh([["a", "b"], ["a", "b"]], "c")
    assert not reactions.selectors_need_refresh([["a", "b"], ["b", "a"]], "a")


def test_the_gate_shows_only_results_for_what_is_on_screen():
    gate = reactions.ResultGate()
    gate.frame_requested(3)
    assert gate.accept_frame(frame(2, ("z2cnn", "p4mcnn")), ("z2cnn", "p4cnn")) == (False, False)
    assert gate.last_frame is None and not gate.frame_on_screen
    assert gate.accept_frame(frame(2), ("z2cnn", "p4cnn")) == (True, False)
    assert not gate.frame_on_screen  # frame 3 is still to come
    # a failure marks the panels stale until a frame succeeds, which clears the marks
    assert gate.frame_failed("cannot compute") and gate.failed_text == "cannot compute"
    assert gate.accept_frame(frame(3), ("z2cnn", "p4cnn")) == (True, True)
    assert gate.frame_on_screen and gate.failed_text == ""
    # a sweep for an older drawing, or for a model no longer shown, is dropped
    assert not gate.accept_sweep(sweep(4), 5, ("z2cnn", "p4cnn"))
    assert not gate.accept_sweep(sweep(5, ("z2cnn",)), 5, ("z2cnn", "p4cnn"))
    assert gate.accept_sweep(sweep(5), 5, ("z2cnn", "p4cnn")) and gate.last_sweep.version == 5
    gate.closed = True  # after the window closed nothing is shown
    assert gate.accept_frame(frame(4), ("z2cnn", "p4cnn")) == (False, False)
    assert not gate.frame_failed("late") and not gate.accept_sweep(sweep(6), 6, ("z2cnn",))


def test_texts_follow_the_drawing():
    drawing = Drawing()
    assert texts.source_text(drawing) == ""
    edit = texts.EditState.of(drawing)
    assert edit.undo_text == "&Undo" and not (edit.can_undo or edit.can_redo or edit.can_clear)
    image = np.zeros((28, 28), np.float32)
    image[8:20, 12:16] = 1.0
    drawing.set_image(image, "sample 1")
    assert texts.source_text(drawing) == "sample 1"
    edit = texts.EditState.of(drawing)
    assert edit.can_undo and edit.can_clear and not edit.can_redo
    assert edit.undo_text.startswith("&Undo ") and edit.undo_tip.endswith("(Ctrl+Z)")
    drawing.begin_stroke(0.5, 0.5)
    drawing.end_stroke()
    assert texts.source_text(drawing) == "sample 1 + your strokes"
    drawing.undo()
    drawing.undo()
    edit = texts.EditState.of(drawing)
    assert edit.can_redo and edit.redo_text.startswith("&Redo ") and not edit.can_clear


def test_status_texts():
    assert texts.angle_text(90) == "θ = 90° · exact (rot90)"
    assert texts.angle_text(37) == "θ = 37° · interpolated"
    assert texts.window_title(["Z2CNN", "P4CNN"]) == "gcnn-viewer — Z2CNN vs P4CNN"
    assert texts.sweep_titles(["P4CNN", "P4CNN"]) == ("P4CNN (left)", "P4CNN (right)")
    assert texts.sweep_titles(["Z2CNN", "P4CNN"]) == ("Z2CNN", "P4CNN")
    assert reactions.is_blank(np.full((28, 28), 0.01)) and not reactions.is_blank(np.eye(28))
    assert "used as is" in texts.opened_image_text("a.png", (28, 28))
    assert "64×32: fitted into 20×20" in texts.opened_image_text("b.png", (32, 64))


def test_hover_text_names_the_orientation_of_group_maps_only():
    group = SimpleNamespace(name="l1", is_group=True, orientation_label=lambda g: f"{90 * g}°")
    planar = SimpleNamespace(name="l1", is_group=False, orientation_label=None)
    pixel = MapPixel(channel=3, orientation=2, y=4, x=5)
    assert texts.hover_text("P4CNN", group, pixel, 0.25) == (
        "P4CNN l1: channel 3, 180°, pixel (4, 5) = 0.25"
    )
    assert (
        texts.hover_text("Z2CNN", planar, pixel, 1.5) == "Z2CNN l1: channel 3, pixel (4, 5) = 1.5"
    )


def test_dock_sizes_shrink_with_a_small_window_and_come_back():
    sizes = docks.DockSizes()
    big = sizes.fit((1600, 1000), input_minimum=300)
    assert big == (docks.INPUT_DOCK_WIDTH, docks.SWEEP_DOCK_HEIGHT)
    small = sizes.fit((1024, 700), input_minimum=300)
    assert small[0] == max(300, int(docks.INPUT_DOCK_SHARE * 1024)) and small[1] < big[1]
    assert sizes.fit((1600, 1000), input_minimum=300) == big  # enlarging gives it back
    assert sizes.fit((600, 400), input_minimum=300)[0] == 300  # never below the content
    sizes.fitted((1024, 700), now=10.0)
    assert not sizes.is_user_drag((1024, 700), now=10.1)  # Qt's own relayout
    assert sizes.is_user_drag((1024, 700), now=11.0)
    assert not sizes.is_user_drag((1100, 700), now=11.0)  # the window itself changed


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({}, settings.ViewSettings()),
        (
            {"view/stabilised": "true", "input/brush": "0.09", "panels/1": "p4cnn"},
            settings.ViewSettings(True, 0.09, [None, "p4cnn"]),
        ),
        # a hand-edited file: wrong types, out-of-range and unknown values fall back
        (
            {"view/stabilised": "no", "input/brush": "nan", "panels/0": "gone", "panels/1": 3},
            settings.ViewSettings(False, DEFAULT_BRUSH, [None, None]),
        ),
        ({"input/brush": "9"}, settings.ViewSettings(False, MAX_BRUSH, [None, None])),
        ({"panels/0": "file:/tmp/x.pt"}, settings.ViewSettings()),
    ],
)
def test_settings_read_back_from_an_untrusted_store(stored, expected):
    known = ["z2cnn", "p4cnn", "file:/tmp/x.pt"]
    assert settings.ViewSettings.from_values(stored.get, known) == expected


def test_settings_round_trip():
    saved = settings.ViewSettings(True, 0.07, ["p4cnn", "z2cnn"])
    values = saved.to_values()
    assert settings.ViewSettings.from_values(values.get, ["z2cnn", "p4cnn"]) == saved
    assert settings.as_bool("True") and settings.as_bool(1) and not settings.as_bool("off")


class Recorder:
    """An InferenceScheduler that keeps what it is sent."""

    def __init__(self):
        self.sent = []

    def submit_frame(self, request):
        self.sent.append(("frame", request.angle))

    def submit_sweep(self, request):
        self.sent.append(("sweep", request.snapshot.version))

    def cancel_sweep(self):
        self.sent.append(("cancel", None))


def test_the_requester_hears_the_state_and_sends_what_each_change_asks(catalog):
    """A stroke → frames, its end → the sweep; the angle, the stabilised view and the tracked
    class → a frame each: sent by the requester itself, once the models are ready."""
    from gcnn_viewer.viewer.state import ViewerState

    state, scheduler, gate, greyed = ViewerState(catalog), Recorder(), reactions.ResultGate(), []
    requester = reactions.Requester(state, scheduler, gate, lambda: greyed.append(1))
    state.drawing.begin_stroke(0.3, 0.3)
    assert scheduler.sent == [("cancel", None)]  # not ready (models loading): no frame
    requester.ready = True
    state.drawing.extend_stroke(0.6, 0.6)
    assert scheduler.sent[1:] == [("frame", 0.0), ("cancel", None)] and len(greyed) == 2
    state.drawing.end_stroke()
    version = state.drawing.version
    assert scheduler.sent[-1] == ("sweep", version) and len(greyed) == 3
    del scheduler.sent[:]
    state.angle = 45
    state.stabilised = True
    state.tracked_class = 3
    state.brush = 0.1  # the brush draws the next stroke: nothing to compute
    assert scheduler.sent == [("frame", 45.0)] * 3
    assert gate.pending_frame == state._seq
    gate.closed = True
    state.angle = 90
    assert scheduler.sent == [("frame", 45.0)] * 3

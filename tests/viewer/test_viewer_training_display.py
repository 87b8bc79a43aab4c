"""What the app shows about a run and an input, computed without Qt: per-interval training
curves, the data fetch's progress, the end-of-run passes, undo labels, the stabilised view's
note, logits in frames."""

import math

import numpy as np
import pytest

from gcnn_viewer.training.loop import Progress
from gcnn_viewer.viewer.drawing import Drawing
from gcnn_viewer.viewer.inference import stabilised_note
from gcnn_viewer.viewer.training import (
    TrainingCurves,
    fetch_fraction,
    finishing_fraction,
    finishing_text,
)


def record(kind, epoch, step, loss, error=0.5, epochs=2, steps_total=20, valid=None):
    return Progress(
        kind=kind,
        epoch=epoch,
        epochs=epochs,
        step=step,
        steps_total=steps_total,
        loss=loss,
        error=error,
        images_per_s=100.0,
        elapsed=1.0,
        lr=1e-3,
        valid_error=valid,
    )


def test_curves_are_interval_means_continuous_across_epoch_boundaries():
    # per-step losses 10, 9, ..., 1 over two epochs of 10 steps; a record every 2 steps
    # carries the running mean since its epoch began, as Trainer.run does
    losses = np.arange(20, 0, -1, dtype=float) / 2
    curves, running_means = TrainingCurves(), []
    for step in range(2, 21, 2):
        epoch_start = 0 if step <= 10 else 10
        running = losses[epoch_start:step].mean()
        running_means.append(running)
        last = step in (10, 20)
        kind = "epoch" if last else "step"
        assert curves.add(record(kind, step // 10, step, running, valid=0.1 if last else None))
    expected = [losses[s - 2 : s].mean() for s in range(2, 21, 2)]  # each interval's mean
    np.testing.assert_allclose(curves.loss, expected)
    np.testing.assert_allclose(curves.x, np.arange(2, 21, 2) / 10)
    jumps = np.diff(curves.loss)
    assert np.allclose(jumps, jumps[0])  # continuous through epoch 1.0
    assert curves.vx == [1.0, 2.0] and curves.valid == [10.0, 10.0]
    # the running means themselves fall off a cliff at epoch 1.0 (the defect of issue 9)
    assert abs(running_means[5] - running_means[4]) > 2 * abs(jumps[0])


def test_curves_ignore_finishing_and_done_records_and_repeats():
    curves = TrainingCurves()
    assert curves.add(record("step", 0, 4, 2.0))
    assert not curves.add(record("step", 0, 4, 2.0))  # the same steps again
    assert not curves.add(record("done", 2, 20, 1.0))
    finishing = record("finishing", 2, 20, 1.0)
    assert not curves.add(finishing)
    assert curves.loss == [2.0]
    curves.add_history([{"epoch": 1, "loss": 1.5, "error": 0.25, "valid_error": None}])
    assert curves.x[-1] == 1.0 and curves.error[-1] == 25.0 and curves.valid == []


def test_fetch_fraction_reads_the_data_layers_counts():
    assert fetch_fraction("rotating digits 37200/62000") == pytest.approx(0.6)
    assert fetch_fraction("rotating digits 62,000 / 62,000") == 1.0
    assert fetch_fraction("downloading train-images-idx3-ubyte.gz from host") is None
    assert fetch_fraction("odd 3/0") is None


def test_finishing_text_names_the_pass():
    p = record("finishing", 2, 20, 1.0)
    p.phase, p.phase_done, p.phase_total = "test error", 3, 100
    assert finishing_text(p) == "test error: batch 3/100"
    assert finishing_fraction(p) == pytest.approx(0.03)
    assert finishing_text(record("step", 0, 2, 1.0)) is None


def test_undo_says_what_it_undoes():
    drawing = Drawing()
    assert drawing.undo_label == ""
    drawing.begin_stroke(0.2, 0.2)
    drawing.extend_stroke(0.6, 0.6)
    drawing.end_stroke()
    assert drawing.undo_label == "stroke"
    drawing.set_image(np.ones((28, 28), np.float32), "one.png")
    assert drawing.undo_label == "load of one.png"
    drawing.clear()
    assert drawing.undo_label == "clear"
    drawing.undo()
    assert drawing.undo_label == "load of one.png" and drawing.redo_label == "clear"


def test_stabilised_note_says_which_quarter_turn_it_undoes():
    assert stabilised_note(90) == "Stabilised: undoing 90° exactly"
    note = stabilised_note(100)
    assert "undoing 90°" in note and "100°" in note and "+10°" in note
    assert "undoing 180°" in stabilised_note(150)
    assert "undoing 0°" in stabilised_note(350) and "-10°" in stabilised_note(350)


def test_frames_carry_the_logits(catalog):
    from gcnn_viewer.viewer.state import ViewerState

    from .conftest import seven

    state = ViewerState(catalog)
    state.drawing.set_image(seven(), "seven")
    from gcnn_viewer.viewer.inference import compute_frame

    frame = compute_frame(state.frame_request())
    for panel in frame.panels:
        assert panel.logits is not None and panel.logits.shape == (10,)
        e = np.exp(panel.logits - panel.logits.max())
        np.testing.assert_allclose(panel.probabilities, e / e.sum(), rtol=1e-5, atol=1e-7)
        assert all(math.isfinite(v) for v in panel.logits)


def test_stabilised_note_names_the_element_a_finer_group_undoes():
    from types import SimpleNamespace

    from gcnn_viewer.group import P4, cyclic
    from gcnn_viewer.viewer.inference import finer_panels

    C8 = cyclic(8)
    note = stabilised_note(50, [("mine", C8)])
    assert note == "Stabilised: undoing 90° (-40° remain); 45° for mine (C8, +5° remain)"
    assert (
        stabilised_note(45, [("mine", C8)], quarter=False)
        == "Stabilised: undoing 45° for mine (C8)"
    )
    entries = [
        SimpleNamespace(loaded=True, model=SimpleNamespace(group=C8), title="mine"),
        SimpleNamespace(loaded=True, model=SimpleNamespace(group=P4), title="P4CNN"),
    ]
    assert finer_panels(entries) == ([("mine", C8)], True)
    assert finer_panels(entries[:1]) == ([("mine", C8)], False)
    loading = SimpleNamespace(loaded=False, title="later")  # not asked for its model
    assert finer_panels([loading]) == ([], True)

import numpy as np
import pytest

from gcnn_viewer.viewer.drawing import CANVAS_RES, MAX_BRUSH, MIN_BRUSH, Drawing

from .conftest import seven


def draw_line(drawing: Drawing, a, b, n=10, width=0.08):
    drawing.begin_stroke(*a, width)
    for t in np.linspace(0, 1, n)[1:]:
        drawing.extend_stroke(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
    drawing.end_stroke()


def test_a_stroke_inks_the_raster_and_fires_events():
    d = Drawing()
    changed, committed = [], []
    d.changed.connect(lambda: changed.append(d.version))
    d.committed.connect(lambda: committed.append(d.version))
    assert d.is_empty and not d.raster().any()
    draw_line(d, (0.3, 0.2), (0.3, 0.8), n=5)
    assert len(changed) == 5 and len(committed) == 1  # every point; once when released
    raster = d.raster()
    assert raster.shape == (CANVAS_RES, CANVAS_RES)
    assert raster[CANVAS_RES // 2, int(0.3 * CANVAS_RES)] == 1.0
    assert raster[CANVAS_RES // 2, int(0.7 * CANVAS_RES)] == 0.0
    assert len(d.strokes) == 1 and not d.stroke_in_progress and not d.is_empty


def test_strokes_in_progress_are_visible_and_rasterised():
    d = Drawing()
    d.begin_stroke(0.5, 0.5)
    d.extend_stroke(0.6, 0.5)
    assert d.stroke_in_progress and len(d.strokes) == 1 and d.raster().any()


def test_undo_redo_and_clear():
    d = Drawing()
    draw_line(d, (0.2, 0.2), (0.8, 0.2))
    one = d.raster()
    draw_line(d, (0.2, 0.6), (0.8, 0.6))
    two = d.raster()
    assert d.undo()
    np.testing.assert_array_equal(d.raster(), one)
    assert d.redo()
    np.testing.assert_array_equal(d.raster(), two)
    d.clear()
    assert d.is_empty and not d.raster().any()
    assert d.undo()  # clear is undoable
    np.testing.assert_array_equal(d.raster(), two)
    assert d.undo() and d.undo() and not d.undo()
    assert d.is_empty and d.can_redo


def test_a_28x28_image_is_the_model_input_as_is():
    d = Drawing()
    d.set_image(seven(), "sample")
    snap = d.snapshot()
    assert snap.mnist_format and d.source == "sample"
    np.testing.assert_array_equal(snap.digit.image, seven())
    draw_line(d, (0.1, 0.9), (0.3, 0.9))  # strokes on top: preprocessed like a drawing
    snap = d.snapshot()
    assert not snap.mnist_format and snap.digit.factor > 1


def test_a_large_image_is_letterboxed_and_preprocessed():
    d = Drawing()
    wide = np.zeros((50, 200), np.float32)
    wide[10:40, 90:110] = 1.0
    d.set_image(wide)
    assert d.background.shape == (CANVAS_RES, CANVAS_RES)
    image = d.snapshot().digit.image
    ys, xs = np.indices(image.shape)
    assert abs((ys * image).sum() / image.sum() - 13.5) < 0.5
    assert abs((xs * image).sum() / image.sum() - 13.5) < 0.5
    with pytest.raises(ValueError):
        d.set_image(np.zeros((3, 4, 5)))


def test_brush_width_is_clipped():
    d = Drawing()
    d.begin_stroke(0.5, 0.5, width=10)
    d.end_stroke()
    d.begin_stroke(0.5, 0.5, width=0)
    assert d.strokes[0].width == MAX_BRUSH and d.strokes[1].width == MIN_BRUSH


def test_snapshot_is_independent_of_later_edits():
    d = Drawing()
    draw_line(d, (0.2, 0.2), (0.8, 0.8))
    snap = d.snapshot()
    before = snap.pixels.copy()
    draw_line(d, (0.2, 0.8), (0.8, 0.2))
    np.testing.assert_array_equal(snap.pixels, before)
    assert d.snapshot().version > snap.version

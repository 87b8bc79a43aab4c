"""The app's way in: an export built from the viewer's own state shows exactly the maps the
app computes for the screen (same models, input, angle, stabilisation and colour scales)."""

from __future__ import annotations

import numpy as np
import pytest

from gcnn_viewer.export import (
    ExportError,
    ExportInput,
    ExportModel,
    ViewSpec,
    export_data,
    export_figure,
    preview,
)
from gcnn_viewer.viewer.inference import compute_frame
from gcnn_viewer.viewer.state import ViewerState
from tests.export.helpers import seven


def spec_from_state(state: ViewerState) -> ViewSpec:
    models = [ExportModel.from_entry(state.panel_entry(i)) for i in range(2)]
    source = state.drawing.source or "drawing"
    return ViewSpec(
        models,
        ExportInput(state.snapshot(), source),
        angles=(state.angle,),
        stabilised=state.stabilised,
    )


def test_export_shows_what_the_screen_shows(tmp_path):
    state = ViewerState()
    state.drawing.set_image(seven(), "my seven")
    state.angle = 123.0
    state.stabilised = True
    spec = spec_from_state(state)
    assert [m.entry.key for m in spec.models] == list(state.panel_keys)
    screen = compute_frame(state.frame_request())  # what the app's worker computes
    out = tmp_path / "view.npz"
    export_data(spec, out)
    with np.load(out) as data:
        np.testing.assert_array_equal(data["input@123"], screen.input)
        for model, panel in zip(spec.models, screen.panels, strict=True):
            # the same colour scales: the catalog entry's own probe, measured once
            assert (
                model.entry.probe().scales
                == state.panel_entry(spec.models.index(model)).probe().scales
            )
            np.testing.assert_allclose(data[f"{model.name}/probs@123"], panel.probabilities)
            for name, layer in panel.layers.items():
                exported = data[f"{model.name}/{name}@123"]
                np.testing.assert_array_equal(exported.reshape(layer.data.shape), layer.data)
    export_figure(spec, tmp_path / "view.png", dpi=30)
    assert (tmp_path / "view.png").stat().st_size > 0


@pytest.mark.parametrize("kind", ["figure", "rotate-and-cycle", "animation", "sweep"])
def test_preview_thumbnail_writes_nothing(spec, tmp_path, kind, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image = preview(spec, kind, dpi=20)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert 20 < image.shape[0] < 2000 and 20 < image.shape[1] < 2000
    assert image.std() > 0  # not blank
    assert list(tmp_path.iterdir()) == []


def test_preview_of_unknown_kind(spec):
    with pytest.raises(ExportError):
        preview(spec, "hologram")

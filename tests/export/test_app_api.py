"""The app's way in: an export built from the viewer's own state shows exactly the maps the
app computes for the screen (same models, input, angle, stabilisation and colour scales)."""

from __future__ import annotations

import numpy as np

from gcnn_viewer.export import ExportInput, ExportModel, ViewSpec, export_data, export_figure
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

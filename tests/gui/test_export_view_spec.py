"""The export's view of the window is what the screen shows: the real ``Exporter.view_spec``
of a window that was rotated and stabilised through its menus gives data equal to the frame
the window's worker computed and displays (issue 21 §6: this used to check a test-local copy)."""

from __future__ import annotations

import numpy as np

from gcnn_viewer.export import export_data

from .conftest import trigger, wait_frame


def test_export_data_from_the_window_equals_the_frame_on_screen(window, qtbot, tmp_path):
    trigger(window, "Rotate", "Rotate +90°")
    wait_frame(qtbot, window)
    trigger(window, "View", "Stabilised view")
    frame = wait_frame(qtbot, window)
    assert frame.angle == 90.0 and frame.stabilised

    spec = window.exporter.view_spec()
    assert spec.angles == (90.0,) and spec.stabilised
    out = tmp_path / "view.npz"
    export_data(spec, out)
    with np.load(out) as data:
        np.testing.assert_array_equal(data["input@90"], frame.input)
        for model, panel in zip(spec.models, frame.panels, strict=True):
            np.testing.assert_allclose(data[f"{model.name}/probs@90"], panel.probabilities)
            for name, layer in panel.layers.items():
                exported = data[f"{model.name}/{name}@90"]
                np.testing.assert_array_equal(exported.reshape(layer.data.shape), layer.data)

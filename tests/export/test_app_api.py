"""The export API's previews; that an export from the window equals its screen is tested
through the real ``Exporter.view_spec`` in tests/gui/test_export_view_spec.py."""

from __future__ import annotations

import numpy as np
import pytest

from gcnn_viewer.export import (
    ExportError,
    preview,
)


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

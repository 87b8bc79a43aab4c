"""An escnn C8 network in the app (issue 22 §2, §3): 45° cycles its orientation axis by one,
and the stabilised view undoes C8's nearest element and says so. Runs where escnn is
importable (``pip install 'gcnn-viewer[escnn]'``), skipped with that reason elsewhere."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

pytest.importorskip(
    "escnn",
    reason="escnn is not installed: pip install 'gcnn-viewer[escnn]' (needs gfortran, numpy<2)",
)

from gcnn_viewer.group import cyclic  # noqa: E402

from .conftest import click, wait_frame  # noqa: E402
from .test_own_model import launched, user_settings, wait_models  # noqa: E402, F401

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "escnn_c8.py"
LEFT = 0


def type_angle(qtbot, window, text: str) -> None:
    spin = window.rotation.spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def test_c8_columns_stabilised_view_and_its_note(launched, qtbot):  # noqa: F811
    status, window = launched(["--model", f"{EXAMPLE}:build"])
    assert status == 0 and window is not None
    wait_models(qtbot, window)
    layout = window.panels[LEFT].maps.layers["block1"].layout
    assert layout.orientations == 8 and layout.column_labels[:3] == ("0°", "45°", "90°")
    upright = wait_frame(qtbot, window).panels[LEFT].layers["block1"].data  # [4, 8, 25, 25]

    type_angle(qtbot, window, "45")
    assert window.state.angle == 45
    turned = wait_frame(qtbot, window).panels[LEFT].layers["block1"].data
    click(qtbot, window.rotation.stabilised)
    note = window.rotation.stabilised_note.text()
    assert "45° for build (C8)" in note, note
    still = wait_frame(qtbot, window).panels[LEFT].layers["block1"].data

    def off(a: np.ndarray) -> float:  # relative difference inside the maps' central disc
        r = np.arange(25) - 12.0
        disc = r[:, None] ** 2 + r[None, :] ** 2 <= 10.5**2
        return float(np.abs(a - upright)[..., disc].max() / np.abs(upright[..., disc]).max())

    assert off(still) < 0.25 < off(turned)  # C8's 45° undone: the maps stand still

    # unstabilised, 45° turned every map 45° and moved it ONE orientation column on
    maps = torch.from_numpy(upright)
    cycled = cyclic(8).act_on_group_map(1, maps).numpy()  # 45°, rolled by one
    turned_only = cyclic(8).act_on_image(1, maps).numpy()  # 45°, not rolled
    r = np.arange(25) - 12.0
    disc = r[:, None] ** 2 + r[None, :] ** 2 <= 10.5**2

    def away(a: np.ndarray) -> float:
        return float(np.abs(turned - a)[..., disc].max() / np.abs(a[..., disc]).max())

    assert away(cycled) < 0.25 < away(turned_only)

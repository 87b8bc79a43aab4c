"""A window in a second (issue 20, section 3): the window is built and shown before torch is
imported, the models load on a thread of their own, and a stroke drawn meanwhile is kept."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from gcnn_viewer.gui.main_window import MainWindow
from gcnn_viewer.gui.startup import LOADING_TEXT
from gcnn_viewer.viewer.models import ModelCatalog
from gcnn_viewer.viewer.state import ViewerState
from tests.gui.conftest import SEVEN, canvas_points, drag, wait_frame, wait_sweep

TIMEOUT_MS = 30_000


def test_the_window_is_built_without_importing_torch():
    """Everything the launch imports before the window is on screen is torch-free; torch
    comes with the models, on the start-up thread."""
    code = (
        "import sys\n"
        "import gcnn_viewer.gui.app, gcnn_viewer.gui.main_window\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(len(loaded), loaded[:3])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.startswith("0 "), out.stdout


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_no_heavy_library(flag):
    """`gcnn-viewer --version` and `--help` stay well under 0.2 s: they import neither numpy
    nor torch nor Qt (numpy alone costs about 0.15 s here)."""
    code = (
        "import sys\n"
        "import gcnn_viewer.cli as cli\n"
        "try:\n"
        f"    cli.main([{flag!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'numpy', 'torch', 'PySide6', 'pyqtgraph', 'matplotlib', 'PIL'}\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "LOADED []" in out.stdout, out.stdout[-300:]


def test_a_stroke_drawn_while_the_models_load_is_kept_and_then_shown(
    qtbot, weights_dir, settings, monkeypatch
):
    catalog = ModelCatalog(weights_dir)
    release = threading.Event()
    prepare = catalog.prepare

    def held(keys):  # the start-up thread waits here: the models are "still loading"
        assert release.wait(TIMEOUT_MS / 1000)
        return prepare(keys)

    monkeypatch.setattr(catalog, "prepare", held)
    window = MainWindow(ViewerState(catalog), settings, load_sample=False)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    try:
        # on screen, models not loaded: both panels say so, and nothing was computed
        assert all(p.prediction.text() == LOADING_TEXT for p in window.panels)
        assert all(p.detail.text() == LOADING_TEXT for p in window.panels)
        assert " vs " in window.windowTitle()
        assert not any(e.loaded for e in catalog)
        # a stroke through real mouse events, while the models load
        drag(window.canvas, canvas_points(window.canvas, SEVEN))
        drawing = window.state.drawing
        assert len(drawing.strokes) == 1 and not drawing.is_empty
        assert window.last_frame is None and not window.models_ready
    finally:
        release.set()
    frame = wait_frame(qtbot, window, timeout=TIMEOUT_MS)
    # the stroke was kept, and the first frame is of it
    assert len(window.state.drawing.strokes) == 1
    assert frame.version == window.state.drawing.version
    np.testing.assert_array_equal(frame.input, window.state.snapshot().digit.image)
    assert frame.input.max() > 0.5  # ink
    assert all(p.prediction.text().startswith("predicts") for p in window.panels)
    assert wait_sweep(qtbot, window).version == window.state.drawing.version
    window.close()
    assert not window.loader.isRunning()

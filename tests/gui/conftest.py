"""GUI fixtures: an offscreen main window with deterministic models, settings and data.

Models: the shipped P4CNN plus seeded untrained stand-ins for the rest, whatever else ships.
Settings live in a temporary INI file; the data cache is an empty temporary folder; error
dialogs are recorded instead of shown, so no test can block on a modal dialog.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.models.pretrained import pretrained_path  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from gcnn_viewer.viewer.state import ViewerState  # noqa: E402

FRAME_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    shutil.copy(pretrained_path("p4cnn"), folder / "p4cnn.pt")
    return folder


@pytest.fixture(scope="session")
def shared_catalog(weights_dir):
    """Loaded and probed once for the session (tests that add models make their own)."""
    return ModelCatalog(weights_dir)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "empty-cache"))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # the probe runs in this thread; keep it off OpenMP contention
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def errors(monkeypatch):
    """Every QMessageBox.critical call as (title, text), instead of a blocking dialog."""
    calls = []

    def critical(parent, title, text, *args, **kwargs):
        calls.append((title, text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", staticmethod(critical))
    return calls


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


def wait_frame(qtbot, window, timeout=FRAME_TIMEOUT_MS):
    """Wait until the newest frame requested is on screen; return it."""
    qtbot.waitUntil(
        lambda: window.last_frame is not None and window.last_frame.seq == window.pending_frame,
        timeout=timeout,
    )
    return window.last_frame


def wait_sweep(qtbot, window, timeout=FRAME_TIMEOUT_MS):
    qtbot.waitUntil(
        lambda: (
            window.last_sweep is not None
            and window.last_sweep.version == window.state.drawing.version
            and window.sweep.status.text() == ""
        ),
        timeout=timeout,
    )
    return window.last_sweep


@pytest.fixture
def make_window(qtbot, settings, shared_catalog, errors):
    windows = []

    def make(catalog=None, settings_=None, resize=True):
        state = ViewerState(catalog if catalog is not None else shared_catalog)
        window = MainWindow(state, settings_ if settings_ is not None else settings)
        qtbot.addWidget(window)
        if resize:
            window.resize(1400, 900)
        window.show()
        wait_frame(qtbot, window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.worker.isRunning()


@pytest.fixture
def window(make_window):
    return make_window()


def displayed(window, panel: int, layer: str) -> np.ndarray:
    """The mosaic a layer's ImageItem shows right now (uint8 colour indices)."""
    return np.array(window.panels[panel].maps.layers[layer].image.mosaic, copy=True)

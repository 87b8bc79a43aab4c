"""Reliability of the app's inputs (issue 19): an image never runs code, whichever way it comes
in (File ▸ Open image…, drag and drop); a FIFO or folder dropped as an image says what it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_reliability_inputs import EPS, install_fake_gs

from .conftest import drop_file, trigger


@pytest.fixture
def fake_gs(tmp_path, monkeypatch):
    return install_fake_gs(tmp_path, monkeypatch)


def test_an_eps_digit_is_refused_from_the_menu_and_by_drop_without_running_gs(
    window, errors, tmp_path, file_dialog, fake_gs
):
    evil = tmp_path / "digit.png"
    evil.write_bytes(EPS)
    version = window.state.drawing.version
    file_dialog.append(str(evil))
    trigger(window, "File", "Open image…")
    drop_file(window.canvas, evil)
    assert [t for t, _ in errors] == ["Cannot open image", "Cannot open image"]
    for _, text in errors:
        assert "\n" not in text and "digit.png" in text and "not an image" in text
    assert not fake_gs.exists()
    assert window.state.drawing.version == version


def test_a_fifo_or_folder_dropped_as_an_image_says_what_it_is(window, errors, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.png"
    folder.mkdir()
    drop_file(window.canvas, fifo)  # never opened for reading: that would block the app
    drop_file(window.canvas, folder)
    texts = [text for _, text in errors]
    assert len(texts) == 2
    assert "pipe.png" in texts[0] and "not a regular file" in texts[0]
    assert "folder.png" in texts[1] and "is a directory" in texts[1]


# -- stored settings are untrusted input ---------------------------------------------------------
LAUNCH = """
import sys
from PySide6 import QtCore, QtWidgets

app = QtWidgets.QApplication([sys.argv[0]])


def close_when_shown():  # the user closes the window as soon as it is up
    for widget in app.topLevelWidgets():
        if type(widget).__name__ == "MainWindow" and widget.isVisible():
            print("main window shown", file=sys.stderr, flush=True)
            widget.close()


timer = QtCore.QTimer()
timer.timeout.connect(close_when_shown)
timer.start(50)
from gcnn_viewer.cli import main  # the real entry point: gcnn-viewer with no command

sys.exit(main([]))
"""

BAD_SETTINGS = {  # key: a value as a hand edit, a crash or another program leaves it
    "window/state": "not a layout",
    "window/geometry": "12",
    "window/splitter": "@Variant(garbage)",
    "input/brush": "1e999",
    "panels/0": "@ByteArray(p4cnn)",
    "view/stabilised": "maybe",
}


def test_bad_stored_settings_are_dropped_with_one_line_each_and_the_app_starts(tmp_path):
    folder = tmp_path / "config" / "gcnn-viewer"
    folder.mkdir(parents=True)
    store = folder / "gcnn-viewer.conf"  # where QSettings(ORGANISATION, APPLICATION) reads
    sections: dict[str, list[str]] = {}
    for key, value in BAD_SETTINGS.items():
        section, name = key.split("/")
        sections.setdefault(section, []).append(f"{name}={value}")
    store.write_text("".join(f"[{s}]\n" + "\n".join(v) + "\n\n" for s, v in sections.items()))
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "GCNN_VIEWER_DATA": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert "main window shown" in result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("gcnn-viewer")]
    for key in BAD_SETTINGS:
        said = [line for line in ours if f"({key} in " in line]
        assert len(said) == 1 and "ignoring the saved" in said[0], (key, result.stderr)
    assert len(ours) == len(BAD_SETTINGS), result.stderr
    # dropped from the store: the next launch is quiet
    kept = store.read_text()
    for value in BAD_SETTINGS.values():
        assert f"={value}\n" not in kept, kept

"""Reliability of the app's inputs (issue 19): an image never runs code, whichever way it comes
in (File ▸ Open image…, drag and drop); a FIFO or folder dropped as an image says what it is."""

from __future__ import annotations

import os

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

"""Desktop integration: the entry and metainfo validate, the per-user install writes a
working entry with an absolute Exec and every icon, and uninstall removes them again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gcnn_viewer import desktop

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop")


def _validator(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} not installed (Debian: desktop-file-utils, appstream)")
    return tool


def test_packaging_entry_is_the_shipped_one():
    shipped = desktop.shipped_files() / desktop.DESKTOP_ID
    assert (ROOT / "packaging" / "gcnn-viewer.desktop").read_text() == shipped.read_text()


def test_shipped_icons_every_size_and_square():
    icons = dict(desktop._icons())
    assert {"16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "scalable"} <= set(icons)
    for size, icon in icons.items():
        if size == "scalable":
            assert icon.name.endswith(".svg")
            continue
        with Image.open(icon) as image:
            side = int(size.split("x")[0])
            assert image.size == (side, side)
            assert image.mode == "RGBA"  # transparent corners, not a white square


def test_desktop_entry_validates():
    tool = _validator("desktop-file-validate")
    result = subprocess.run([tool, str(ROOT / "packaging" / "gcnn-viewer.desktop")], text=True)
    assert result.returncode == 0


def test_metainfo_validates():
    tool = _validator("appstreamcli")
    metainfo = ROOT / "packaging" / "io.github.gcnn_viewer.metainfo.xml"
    result = subprocess.run(
        [tool, "validate", "--no-net", str(metainfo)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exec_value_quotes_as_the_spec_says():
    assert desktop.exec_value(["/opt/gcnn/bin/gcnn-viewer"]) == "/opt/gcnn/bin/gcnn-viewer"
    # a space forces double quotes; then the string escaping doubles the backslash before $
    assert desktop.exec_value(["/home/a b/$x", "-m"]) == '"/home/a b/\\\\$x" -m'
    assert desktop.exec_value(["/tmp/100%"]) == "/tmp/100%%"


@linux_only
def test_install_for_user_then_uninstall(tmp_path: Path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"))
    run = dict(env=env, capture_output=True, text=True, timeout=60)
    result = subprocess.run([sys.executable, "-m", "gcnn_viewer.desktop"], **run)
    assert result.returncode == 0, result.stderr
    entry = tmp_path / "share" / "applications" / "gcnn-viewer.desktop"
    assert entry.is_file()
    assert str(entry) in result.stdout
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    command = fields["Exec"].split()[0]
    assert Path(command).is_absolute() and os.access(command, os.X_OK), fields["Exec"]
    assert fields["Icon"] == "gcnn-viewer"
    icons = sorted((tmp_path / "share" / "icons" / "hicolor").glob("*/apps/gcnn-viewer.*"))
    assert len(icons) == len(desktop._icons())
    if shutil.which("desktop-file-validate"):
        assert subprocess.run(["desktop-file-validate", str(entry)]).returncode == 0
    # The entry's command starts this install: ask it for its version.
    version = subprocess.run([command, "--version"], **run)
    assert version.stdout.startswith("gcnn-viewer "), version

    result = subprocess.run([sys.executable, "-m", "gcnn_viewer.desktop", "--uninstall"], **run)
    assert result.returncode == 0, result.stderr
    assert not entry.exists()
    assert not list((tmp_path / "share" / "icons").rglob("gcnn-viewer.*"))


@linux_only
def test_unwritable_data_home_is_one_line(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "gcnn_viewer.desktop", "--data-home", str(blocker)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("gcnn-viewer: error: cannot install the desktop entry")


def test_the_command_line_flag_installs_and_removes_the_entry(tmp_path, monkeypatch):
    from gcnn_viewer.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop"]) == 0
    entry = tmp_path / "applications" / "gcnn-viewer.desktop"
    assert entry.is_file() and "Exec=" in entry.read_text()
    assert main(["--uninstall-desktop"]) == 0
    assert not entry.exists()

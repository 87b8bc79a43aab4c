"""Without a usable display the app says so in one line instead of aborting inside Qt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gcnn_viewer.gui import platform_check
from gcnn_viewer.gui.platform_check import (
    debian_package,
    display_problem,
    missing_library,
    requested_platform,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check")


def _launch(env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "gcnn_viewer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    # Qt's own failure is signal 6 (returncode -6) after five lines about xcb.
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gcnn-viewer: error: ")
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    for needle in needles:
        assert needle in lines[0]


@linux_only
def test_no_display_one_line_and_nonzero_exit():
    _assert_one_line_error(_launch({}), "DISPLAY and WAYLAND_DISPLAY are unset")


def _xcb_plugin_loads() -> bool:
    plugin = platform_check.xcb_plugin_path()
    return plugin is not None and platform_check.load_error(plugin) is None


@linux_only
@pytest.mark.skipif(
    not _xcb_plugin_loads(), reason="the xcb plugin's libraries are missing: the check names them"
)
def test_display_without_x_server_one_line():
    # A display number nothing listens on: Qt would abort with "could not connect to display".
    _assert_one_line_error(_launch({"DISPLAY": ":4711"}), "cannot connect to the X display")


@linux_only
def test_wayland_requested_without_compositor_one_line():
    _assert_one_line_error(_launch({"QT_QPA_PLATFORM": "wayland"}), "WAYLAND_DISPLAY is unset")


@linux_only
def test_offscreen_needs_no_display():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({}, argv=["-platform", "offscreen"]) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_requested_platform_strips_options_and_fallbacks():
    assert requested_platform({}) is None
    assert requested_platform({"QT_QPA_PLATFORM": "xcb:nograb"}) == "xcb"
    assert requested_platform({"QT_QPA_PLATFORM": "wayland;xcb"}) == "wayland"
    assert requested_platform({"QT_QPA_PLATFORM": "xcb"}, ["-platform", "vnc"]) == "vnc"


def test_debian_package_names():
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libxcb-render-util.so.0") == "libxcb-render-util0"


def test_missing_library_read_off_the_loader_message():
    message = "libxcb-cursor.so.0: cannot open shared object file: No such file or directory"
    assert missing_library(message) == "libxcb-cursor.so.0"
    assert missing_library("undefined symbol: xcb_foo") is None


@linux_only
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a C compiler")
def test_plugin_with_a_missing_library_is_named(tmp_path: Path, monkeypatch):
    """A stand-in platform plugin that needs a library the loader cannot find: the check
    names that library and its package, as it would for a missing libxcb-cursor0."""
    (tmp_path / "dep.c").write_text("int gcnn_dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text(
        "int gcnn_dep(void);\nint plugin(void) { return gcnn_dep(); }\n"
    )
    dep = tmp_path / "libgcnnmissing-x11.so.0"
    run = dict(check=True, cwd=tmp_path, capture_output=True)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(dep), "-Wl,-soname," + dep.name, "dep.c"], **run
    )
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", "libqxcb.so", "plugin.c", str(dep)], **run)
    dep.unlink()  # now the plugin's dependency is missing, as libxcb-cursor.so.0 would be
    monkeypatch.setattr(platform_check, "xcb_connects", lambda display: True)
    problem = display_problem({"DISPLAY": ":0"}, plugin=tmp_path / "libqxcb.so")
    assert problem is not None
    assert "libgcnnmissing-x11.so.0 is missing" in problem
    assert "sudo apt install libgcnnmissing-x11-0" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem


@linux_only
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_no_complaint_where_qt_can_start(tmp_path: Path):
    """With an X server and the xcb libraries present the check must not cry wolf."""
    plugin = platform_check.xcb_plugin_path()
    if plugin is None or platform_check.load_error(plugin) is not None:
        pytest.skip("the xcb plugin's libraries are not installed here")
    # -displayfd: Xvfb picks a free display number and writes it once it accepts clients.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        display = f":{number}"
        assert display_problem({"DISPLAY": display}) is None
        assert server.poll() is None  # it was our server that answered
    finally:
        server.terminate()
        server.wait(timeout=10)

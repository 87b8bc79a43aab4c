"""Can Qt open a window here? Checked before the QApplication exists.

Without a usable platform plugin, Qt does not raise: it prints five lines about xcb and
aborts the interpreter (signal 6), so nothing after ``QApplication(...)`` gets a say. This
module asks the same questions Qt is about to ask (which platform plugin, does its shared
library load, is there a display to connect to) and returns one line a user can act on.

Only Linux (and the other X11/Wayland systems) are checked: on macOS and Windows Qt's
platform plugin has no system libraries to miss. No Qt import happens here except QtCore
to find the plugin folder, so the check costs a few milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

OFFSCREEN_HINT = "without a screen: QT_QPA_PLATFORM=offscreen gcnn-viewer (or xvfb-run gcnn-viewer)"

# What Debian/Ubuntu call the libraries Qt >= 6.5's xcb plugin needs beyond libxcb itself
# (docs/index.md, "Troubleshooting"); named when the failing library cannot be read off.
XCB_PACKAGES = (
    "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
    "libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1"
)

_MISSING = re.compile(r"(\S+\.so(?:\.\d+)*): cannot open shared object file")


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a shared library, by Debian's naming policy:
    ``libxcb-cursor.so.0`` -> ``libxcb-cursor0``, ``libxkbcommon-x11.so.0`` ->
    ``libxkbcommon-x11-0`` (a hyphen when the name ends in a digit), lower case."""
    name, _, version = soname.partition(".so")
    name, version = name.lower(), version.lstrip(".").split(".")[0]
    if not version:
        return name
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_library(loader_error: str) -> str | None:
    """The shared library a dlopen error names as missing, e.g. ``libxcb-cursor.so.0``."""
    match = _MISSING.search(loader_error)
    return match.group(1) if match else None


def requested_platform(environ: Mapping[str, str], argv: Sequence[str] = ()) -> str | None:
    """The platform plugin the user asked for (``-platform NAME`` or $QT_QPA_PLATFORM),
    without its options (``xcb:option`` -> ``xcb``); the first of a ``wayland;xcb`` list."""
    value = None
    for flag, following in zip(argv, argv[1:], strict=False):
        if flag in ("-platform", "--platform"):
            value = following
    value = value or environ.get("QT_QPA_PLATFORM", "").strip()
    if not value:
        return None
    return value.split(";")[0].split(":")[0].strip() or None


def xcb_plugin_path() -> Path | None:
    """The xcb platform plugin Qt would load, or None where it cannot be found."""
    from PySide6 import QtCore

    folders = [p for p in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders.append(QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath))
    for folder in folders:
        candidate = Path(folder) / "platforms" / "libqxcb.so"
        if candidate.is_file():
            return candidate
    return None


def load_error(library: Path | str) -> str | None:
    """None if the dynamic loader can load ``library`` (and everything it needs), else the
    loader's message. Qt loads the plugin the same way, so this is the check Qt fails."""
    try:
        ctypes.CDLL(str(library), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as exc:
        return str(exc)
    return None


_PROBES: list[int] = []  # open probe connections (see xcb_connects)


def xcb_connects(display: str) -> bool:
    """Whether an X server answers on ``display`` (what Qt's xcb plugin does first)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # cannot tell; Qt will report the missing library itself
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    if xcb.xcb_connection_has_error(connection) == 0:
        # Keep a good connection open for the process's lifetime: an X server whose last client
        # disconnects resets (Xvfb without -noreset), and Qt's own connection, made a moment
        # later, then fails ("could not connect to display") in about 2 launches out of 5.
        _PROBES.append(connection)
        return True
    xcb.xcb_disconnect(connection)  # also frees the error object xcb_connect returns
    return False


def display_problem(
    environ: Mapping[str, str] | None = None,
    argv: Sequence[str] = (),
    plugin: Path | None = None,
) -> str | None:
    """One line saying why Qt would abort at start here, or None if it should start.

    ``environ`` defaults to os.environ; ``plugin`` to the xcb plugin Qt would load.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    environ = os.environ if environ is None else environ
    platform = requested_platform(environ, argv)
    wayland = bool(environ.get("WAYLAND_DISPLAY"))
    display = environ.get("DISPLAY", "")
    if platform is None and wayland:
        return None  # Qt tries Wayland first in a Wayland session, then XWayland
    if platform is not None and platform != "xcb":
        if platform.startswith("wayland") and not wayland:
            return f"QT_QPA_PLATFORM={platform} but WAYLAND_DISPLAY is unset; {OFFSCREEN_HINT}"
        return None  # offscreen, minimal, vnc, eglfs...: nothing to check cheaply
    if not display:
        return (
            "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset): "
            f"start it from a desktop session; {OFFSCREEN_HINT}"
        )
    plugin = plugin if plugin is not None else xcb_plugin_path()
    error = load_error(plugin) if plugin is not None else None
    if error is not None:
        soname = missing_library(error)
        if soname:
            return (
                f"Qt's xcb platform plugin cannot load: {soname} is missing; install it "
                f"(Debian/Ubuntu: sudo apt install {debian_package(soname)}); {OFFSCREEN_HINT}"
            )
        return (
            f"Qt's xcb platform plugin cannot load ({error.strip()}); Debian/Ubuntu need "
            f"{XCB_PACKAGES}; {OFFSCREEN_HINT}"
        )
    if not xcb_connects(display):
        return f"cannot connect to the X display {display!r} (DISPLAY); {OFFSCREEN_HINT}"
    return None

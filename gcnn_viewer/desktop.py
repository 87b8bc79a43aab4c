"""Put gcnn-viewer in the desktop's application menu, for the current user (Linux).

    python -m gcnn_viewer.desktop              # install the entry and icons
    python -m gcnn_viewer.desktop --uninstall  # remove them again

Follows the freedesktop.org specs: the entry goes to ``$XDG_DATA_HOME/applications`` and the
icons to the hicolor theme in ``$XDG_DATA_HOME/icons`` (``~/.local/share`` when the variable
is unset), where desktop environments pick them up without root. The entry and icons ship in
the wheel under ``gcnn_viewer.resources/desktop``; the installed entry's ``Exec`` is the
absolute path of the launcher that is running now (a venv's ``bin/gcnn-viewer`` or the frozen
bundle's executable), so the menu works without the venv being activated.

Qt-free: it only copies files.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from gcnn_viewer.data.files import write_bytes, write_text
from gcnn_viewer.errors import GcnnViewerError, describe_os_error
from gcnn_viewer.models.registry import RESOURCE_PACKAGE

if TYPE_CHECKING:  # importlib.resources.abc is Python >= 3.11
    from importlib.resources.abc import Traversable

DESKTOP_ID = "gcnn-viewer.desktop"  # the app calls setDesktopFileName("gcnn-viewer")
ICON_NAME = "gcnn-viewer"
# Characters that force an Exec argument into double quotes (Desktop Entry spec, "Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopInstallError(GcnnViewerError):
    """The entry or icons could not be installed (unsupported system, unwritable folder)."""


def shipped_files() -> Traversable:
    """The folder with the template entry and ``icons/hicolor/SIZE/apps/gcnn-viewer.*``."""
    return resources.files(RESOURCE_PACKAGE) / "desktop"


def data_home() -> Path:
    """$XDG_DATA_HOME, else ~/.local/share (platformdirs honours the variable)."""
    return platformdirs.user_data_path()


def launcher_command() -> list[str]:
    """The command that starts the app as it is installed now, with absolute paths."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: its executable is the app
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / "gcnn-viewer"  # the console script of this env
    if script.is_file():
        return [str(script.absolute())]
    found = shutil.which("gcnn-viewer")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "gcnn_viewer"]


def exec_value(command: Sequence[str]) -> str:
    """``command`` as the value of an Exec key: quoted and escaped as the spec asks (first
    the quoting of arguments, then the general string escaping of backslashes)."""
    parts = []
    for arg in command:
        if any(ch in _RESERVED for ch in arg):
            arg = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
        parts.append(arg.replace("%", "%%"))
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(command: Sequence[str]) -> str:
    """The shipped entry with Exec and TryExec pointing at ``command``."""
    lines = []
    for line in (shipped_files() / DESKTOP_ID).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + exec_value(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + exec_value(command[:1])
        lines.append(line)
    return "\n".join(lines) + "\n"


def _icons() -> list[tuple[str, Traversable]]:
    """(SIZE, file) for every shipped icon, e.g. ("48x48", .../48x48/apps/gcnn-viewer.png)."""
    hicolor = shipped_files() / "icons" / "hicolor"
    found = []
    for size in sorted(hicolor.iterdir(), key=lambda p: p.name):
        for icon in (size / "apps").iterdir():
            if icon.name.startswith(ICON_NAME + "."):
                found.append((size.name, icon))
    return found


def _check_system() -> None:
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        raise DesktopInstallError(
            "desktop entries are for Linux desktops (freedesktop.org); on this system start "
            "the app with the gcnn-viewer command"
        )


def _refresh_icon_cache(hicolor: Path) -> None:
    # Only where a theme cache already exists: a stale one would hide the new icons.
    tool = shutil.which("gtk-update-icon-cache")
    if tool and (hicolor / "icon-theme.cache").exists():
        subprocess.run([tool, "-q", "-t", "-f", str(hicolor)], check=False)


def install_desktop(home: Path | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the desktop entry and the icons under ``home`` (default: :func:`data_home`);
    return the files written. Re-running replaces them (e.g. after moving the venv)."""
    _check_system()
    home = data_home() if home is None else Path(home)
    command = launcher_command() if command is None else list(command)
    written = []
    try:
        entry = home / "applications" / DESKTOP_ID
        entry.parent.mkdir(parents=True, exist_ok=True)
        write_text(entry, desktop_entry(command))  # atomic: a failure keeps the old entry
        written.append(entry)
        for size, icon in _icons():
            target = home / "icons" / "hicolor" / size / "apps" / icon.name
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(target, icon.read_bytes())
            written.append(target)
    except OSError as exc:
        raise DesktopInstallError(
            f"cannot install the desktop entry in {home}: {exc.filename}: {describe_os_error(exc)}"
        ) from None
    _refresh_icon_cache(home / "icons" / "hicolor")
    return written


def uninstall_desktop(home: Path | None = None) -> list[Path]:
    """Remove what :func:`install_desktop` wrote; return the files removed."""
    _check_system()
    home = data_home() if home is None else Path(home)
    candidates = [home / "applications" / DESKTOP_ID]
    candidates += [home / "icons" / "hicolor" / s / "apps" / i.name for s, i in _icons()]
    removed = []
    try:
        for path in candidates:
            if path.is_file():
                path.unlink()
                removed.append(path)
    except OSError as exc:
        raise DesktopInstallError(f"cannot remove the desktop entry from {home}: {exc}") from None
    _refresh_icon_cache(home / "icons" / "hicolor")
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gcnn_viewer.desktop [--uninstall] [--data-home DIR]``."""
    parser = argparse.ArgumentParser(
        prog="gcnn-viewer-desktop",
        description="Add gcnn-viewer to the application menu of this user's Linux desktop.",
    )
    parser.add_argument("--uninstall", action="store_true", help="remove the entry and icons")
    parser.add_argument(
        "--data-home", metavar="DIR", type=Path, help="instead of $XDG_DATA_HOME (~/.local/share)"
    )
    args = parser.parse_args(argv)
    try:
        if args.uninstall:
            removed = uninstall_desktop(args.data_home)
            print(f"removed {len(removed)} files" if removed else "nothing to remove")
            return 0
        written = install_desktop(args.data_home)
    except DesktopInstallError as exc:
        print(f"gcnn-viewer: error: {exc}", file=sys.stderr)
        return 2
    entry = written[0]
    exec_line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
    print(f"desktop entry: {entry} ({exec_line})")
    print(f"icons: {len(written) - 1} sizes in {entry.parent.parent / 'icons' / 'hicolor'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

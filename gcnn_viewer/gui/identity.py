"""The app's name and icon, shared by the launcher (:mod:`gcnn_viewer.gui.app`) and the main
window, so that neither imports the other. Torch-free, as everything the window is built
from: it is shown before torch is imported."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6 import QtGui

from gcnn_viewer.models.registry import RESOURCE_PACKAGE

ORGANISATION = APPLICATION = "gcnn-viewer"  # QSettings' names: where the settings live
DISPLAY_NAME = "gcnn-viewer"  # window titles' suffix and the desktop file's name
ICON_FILES = ("icon.svg", "icon.png")  # in the shipped resources


def resource_path(name: str) -> Path:
    """A file shipped in the package's resources (whether or not it exists)."""
    return Path(str(resources.files(RESOURCE_PACKAGE) / name))


def app_icon() -> QtGui.QIcon:
    """The window and application icon (every size the resources hold)."""
    icon = QtGui.QIcon()
    for name in ICON_FILES:
        path = resource_path(name)
        if path.is_file():
            icon.addFile(str(path))
    return icon

"""What the window keeps between sessions: its geometry and dock layout (see
:class:`~gcnn_viewer.gui.docks.Docks`), the stabilised view, the brush and the models shown.
The stored values are untrusted (a hand-edited settings file):
:class:`~gcnn_viewer.viewer.view_settings.ViewSettings` keeps only usable ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.stored_settings import drop_setting
from gcnn_viewer.viewer.state import N_PANELS, ViewerState
from gcnn_viewer.viewer.view_settings import ViewSettings

if TYPE_CHECKING:
    from gcnn_viewer.gui.docks import Docks


def restore_session(
    settings: QtCore.QSettings,
    docks: Docks,
    splitter: QtWidgets.QSplitter,
    state: ViewerState,
    models: bool = True,
) -> None:
    """Apply ``settings``: the window's geometry and docks, the panels' split, the view
    options and (unless ``models`` is False: the models were named at launch) the models in
    ``state`` (the widgets that show them follow its events)."""
    docks.restore(settings, splitter)
    dropped: list[str] = []
    saved = ViewSettings.from_values(settings.value, state.catalog.keys(), dropped)
    for key in dropped:  # a hand-edited or damaged value: one line, then the default
        drop_setting(settings, key, "view option")
    state.stabilised = saved.stabilised
    state.brush = saved.brush
    for i, key in enumerate(saved.panels):
        if key is not None and models:
            state.set_panel(i, key)


def save_session(
    settings: QtCore.QSettings, docks: Docks, splitter: QtWidgets.QSplitter, state: ViewerState
) -> None:
    docks.save(settings, splitter)
    panels = [state.panel_key(i) for i in range(N_PANELS)]
    for name, value in ViewSettings(state.stabilised, state.brush, panels).to_values().items():
        settings.setValue(name, value)
    settings.sync()

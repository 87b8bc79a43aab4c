"""What the window keeps between sessions: its geometry and dock layout (see
:class:`~gcnn_viewer.gui.docks.Docks`), the stabilised view, the brush and the models shown.
The stored values are untrusted (a hand-edited settings file):
:class:`~gcnn_viewer.viewer.window_policy.ViewSettings` keeps only usable ones."""

from __future__ import annotations

from gcnn_viewer.gui.stored_settings import drop_setting
from gcnn_viewer.viewer.window_policy import ViewSettings


def restore_session(window) -> None:
    """Apply ``window.settings`` to a :class:`~gcnn_viewer.gui.main_window.MainWindow`."""
    state = window.state
    window.docks.restore(window.settings, window.splitter)
    dropped: list[str] = []
    saved = ViewSettings.from_values(window.settings.value, state.catalog.keys(), dropped)
    for key in dropped:  # a hand-edited or damaged value: one line, then the default
        drop_setting(window.settings, key, "view option")
    state.stabilised = saved.stabilised
    state.brush = saved.brush
    window.brush.size.setValue(round(state.brush * 100))
    for i, key in enumerate(saved.panels):
        if key is not None:
            state.set_panel(i, key)


def save_session(window) -> None:
    state = window.state
    window.docks.save(window.settings, window.splitter)
    panels = [state.panel_key(i) for i in range(len(window.panels))]
    for name, value in ViewSettings(state.stabilised, state.brush, panels).to_values().items():
        window.settings.setValue(name, value)
    window.settings.sync()

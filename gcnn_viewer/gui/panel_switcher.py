"""A panel's model changes: another model picked, new weights for a model shown, a model
added to the catalog, the start-up's models loaded.

:class:`PanelSwitcher` brings the panels and the views that depend on the models shown up to
date first (a model shown for the first time is loaded and probed under a wait cursor; an
error is said in the status bar), then the :class:`~gcnn_viewer.viewer.reactions.Requester`
asks for the frame and sweep. What each change asks for is Qt-free
(:mod:`gcnn_viewer.viewer.reactions`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.analysis_docks import AnalysisDocks
from gcnn_viewer.gui.dialogs import show_error
from gcnn_viewer.gui.focus import Focus
from gcnn_viewer.gui.inspector import HoverTracker
from gcnn_viewer.gui.model_panel import ModelPanel
from gcnn_viewer.viewer import reactions
from gcnn_viewer.viewer.reactions import Requester
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.window_texts import window_title


class PanelSwitcher(QtCore.QObject):
    """Keeps the panels on the state's models and the catalog's weights.

    ``window``: the title that names the models, the status bar, the error dialogs' parent.
    ``closed()``: the window has closed (the start-up's models then arrive to no one).
    ``modelsShown()`` fires once the start-up's models are on screen, before the first
    request goes out.
    """

    modelsShown = QtCore.Signal()

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        state: ViewerState,
        panels: Sequence[ModelPanel],
        requests: Requester,
        hover: HoverTracker,
        analysis: AnalysisDocks,
        focus: Focus,
        closed: Callable[[], bool],
    ) -> None:
        super().__init__(window)
        self.window, self.state, self.panels, self.requests = window, state, list(panels), requests
        self.hover, self.analysis, self.focus, self.closed = hover, analysis, focus, closed
        for panel in self.panels:
            panel.modelChosen.connect(lambda key, i=panel.index: self.set_panel_model(i, key))
        state.panel_changed.connect(self.panel_changed)
        state.catalog.added.connect(self.refresh_selectors)
        state.catalog.changed.connect(self.model_updated)

    def show_title(self) -> None:
        titles = [self.state.catalog.get(k).title for k in self.state.panel_keys]
        self.window.setWindowTitle(window_title(titles))

    def set_panel_model(self, index: int, key: str) -> None:
        """The user picked ``key`` for panel ``index`` (its selector, Train ▸ Follow)."""
        try:
            self.state.set_panel(index, key)
        except Exception as exc:  # noqa: BLE001  a model that cannot be shown: say so, go on
            show_error(self.window, "Cannot show model", str(exc))
            self.panels[index].refresh_selector()

    def models_loaded(self) -> None:
        """The start-up thread is done: show the panels' models, then the first frame and
        sweep of whatever is drawn by now."""
        if self.closed() or self.requests.ready:
            return
        self.requests.ready = True
        for i in range(len(self.panels)):
            self.panel_changed(i, request=False)
        self.modelsShown.emit()
        self.requests.react(reactions.on_panel_changed())

    def panel_changed(self, index: int, request: bool = True) -> None:
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:  # a model shown for the first time is loaded and probed (its colour scales)
            entry = self.state.panel_entry(index)
            self.panels[index].set_entry(entry)
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if entry.error:
            self.window.statusBar().showMessage(
                f"{entry.title}: {entry.error}; showing it untrained", 10000
            )
        self.show_title()
        self.hover.clear()
        self.refresh_selectors()
        self.analysis.models_changed()
        self.focus.models_changed()
        if request:
            self.requests.react(reactions.on_panel_changed())

    def model_updated(self, entry) -> None:
        """An entry got new weights: a reloaded file, or a snapshot of a model in training.
        A snapshot keeps its colour scales: then only the texts that changed are set and the
        old sweep stays drawn until the new one arrives, so that following a training run
        costs the event loop little (no relayout, no repaint of every plot)."""
        labels = [[p.selector.itemText(j) for j in range(p.selector.count())] for p in self.panels]
        if reactions.selectors_need_refresh(labels, entry.label):
            self.refresh_selectors()  # its label changed (a run in the app ended)
        updates = []
        for i, panel in enumerate(self.panels):
            if self.state.panel_key(i) != entry.key:
                continue
            same = panel.entry is entry and panel.maps.probe is entry.probe()
            update = reactions.panel_update(entry.probed, entry.probed and same)
            if update is reactions.PanelUpdate.DETAIL:
                panel.update_detail(entry)
            elif update is reactions.PanelUpdate.VALUES:  # same colour scales: values change
                panel.set_entry(entry)
            else:
                self.panel_changed(i, request=False)
            updates.append(update)
        self.requests.react(reactions.on_model_updated(updates))

    def refresh_selectors(self, _entry=None) -> None:
        for panel in self.panels:
            panel.refresh_selector()

    def shutdown(self) -> None:
        """Stop listening to the model catalog, which may outlive the window."""
        self.state.catalog.added.disconnect(self.refresh_selectors)
        self.state.catalog.changed.disconnect(self.model_updated)

"""The analysis views (:mod:`gcnn_viewer.gui.analysis_views`) as docks of the main window.

Three tabs beside the probability-vs-angle plot: **Equivariance** (err_L(θ) for every layer
of both panels' models and the current drawing), **Accuracy vs angle** (MNIST-rot test error
against the digit's angle; a click turns the input there) and **Filters** (a layer's stored
filter and the copies it applies; a click on a feature map opens that map's filter).

The views follow the window's state: the models shown, the drawing (once a stroke ends, like
the sweep) and the angle. They share one analysis thread, apart from the inference worker,
and the equivariance curves are recomputed only while their tab is visible, so that a hidden
view never takes CPU from the frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.analysis_views import (
    AccuracyView,
    AnalysisModel,
    AnalysisWorker,
    EquivariancePanel,
    FiltersView,
)
from gcnn_viewer.gui.docks import Area
from gcnn_viewer.gui.group_view import GroupView
from gcnn_viewer.gui.lab_panel import LabPanel
from gcnn_viewer.viewer.dock_sizes import analysis_swaps
from gcnn_viewer.viewer.layout import MapPixel
from gcnn_viewer.viewer.models import ModelEntry

if TYPE_CHECKING:
    from gcnn_viewer.gui.docks import Docks
    from gcnn_viewer.gui.focus import MapsArea
    from gcnn_viewer.gui.model_panel import ModelPanel
    from gcnn_viewer.viewer.state import ViewerState

ANALYSIS_SHARE = 0.4  # of the window's height, for an analysis tab brought forward


def analysis_model(entry: ModelEntry) -> AnalysisModel:
    """A catalog entry as the views take it. Only weights read from a file are cached by
    their sha256 (a model in training changes with every snapshot: never cached)."""
    from gcnn_viewer.export.common import ExportModel  # (torch: loaded after the window)

    digest = ExportModel.from_entry(entry).sha256 if entry.path is not None else None
    return AnalysisModel(entry.key, entry.title, entry.model, digest)


class AnalysisDocks(QtCore.QObject):
    """Makes the three docks in ``window`` (through ``docks``, as tabs beside ``sweep_dock``)
    and keeps them in step with ``state``. A tab brought forward in a short window takes the
    place of ``maps_area``; a click on a map of one of ``panels`` opens its filter."""

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        state: ViewerState,
        docks: Docks,
        sweep_dock: QtWidgets.QDockWidget,
        maps_area: MapsArea,
        panels: Sequence[ModelPanel],
    ) -> None:
        super().__init__(window)
        self.window, self.state, self.window_docks = window, state, docks
        self.sweep_dock, self.maps_area = sweep_dock, maps_area
        self.worker = AnalysisWorker(self)
        self.equivariance = EquivariancePanel(self.worker)
        self.accuracy = AccuracyView(self.worker)
        self.filters = FiltersView()
        self.group_view = GroupView(self._panel_probes, lambda: state.colours)
        self.lab = LabPanel(self.worker, self._catalog_models)

        # Hidden until asked for (View menu, or a click on a feature map for Filters): their
        # tab bar would take its height from the feature maps. Shown, each is a tab beside
        # the sweep.
        def add(title: str, name: str, view: QtWidgets.QWidget) -> QtWidgets.QDockWidget:
            return docks.add(
                title, name, view, Area.BottomDockWidgetArea, tab_with=sweep_dock,
                hidden=True,
            )  # fmt: skip

        self.equivariance_dock = add("Equivariance", "equivarianceDock", self.equivariance)
        self.accuracy_dock = add("Accuracy vs angle", "accuracyDock", self.accuracy)
        self.filters_dock = add("Filters", "filtersDock", self.filters)
        self.group_dock = add("Group view", "groupViewDock", self.group_view)
        self.lab_dock = add("Lab", "labDock", self.lab)
        for dock in (
            self.equivariance_dock, self.accuracy_dock, self.filters_dock, self.group_dock,
            self.lab_dock,
        ):  # fmt: skip
            # shown from the View menu: in front, not behind the sweep's tab
            # ... and one open behind another tab comes forward, rather than closing unseen
            dock.toggleViewAction().triggered.connect(
                lambda checked, d=dock: self._view_entry(d, checked)
            )
        self._models: list[AnalysisModel] = []
        self._models_key: tuple = ()  # (catalog key, id of the network) per model shown
        self._equivariance_key: tuple = ()  # ... the models the equivariance plots are for
        self._equivariance_stale = True  # its curves are for another drawing or models

        state.drawing.committed.connect(self._drawing_committed)
        # (the window calls models_changed when a panel changes: it loads the model first)
        state.catalog.changed.connect(self._model_updated)
        state.angle_changed.connect(self.accuracy.set_angle)
        self.accuracy.angleChosen.connect(lambda angle: setattr(state, "angle", angle))
        self.equivariance_dock.visibilityChanged.connect(self._equivariance_visible)
        # The sweep needs a strip; the analysis plots and filter mosaics need height: a tab
        # brought forward takes a larger share of the window, the sweep's tab gives it back.
        # In a short window the tab brought forward takes the maps' place instead (M, or
        # the sweep's tab, brings them back): a share left the maps as slivers at 1024×700.
        self.docks = (
            self.equivariance_dock, self.accuracy_dock, self.filters_dock, self.group_dock,
            self.lab_dock,
        )  # fmt: skip
        self._in_front: set[QtWidgets.QDockWidget] = set()
        for dock in self.docks:
            dock.visibilityChanged.connect(lambda shown, d=dock: self._front_changed(d, shown))
            dock.visibilityChanged.connect(
                lambda shown, d=dock: self._grow(d) if shown else self._maybe_unswap()
            )
        sweep_dock.visibilityChanged.connect(lambda shown: shown and self._unswap())
        maps_area.swapped_note.clicked.connect(self.show_maps)
        for panel in panels:
            panel.maps.clicked.connect(lambda hit, i=panel.index: self.open_filter(i, hit))
            panel.maps.groupViewRequested.connect(
                lambda layer, channel, i=panel.index: self.open_group_view(i, layer, channel)
            )

    # -- state -> views ---------------------------------------------------------------------
    def models_changed(self) -> None:
        """The panels' models (or a model's weights) changed: every view gets them."""
        state = self.state
        indices = [i for i, k in enumerate(state.panel_keys) if k not in state.panel_keys[:i]]
        models = [analysis_model(state.panel_entry(i)) for i in indices]  # each model once
        # a model is the same while its network object is (new weights come as a new one)
        key = tuple((m.key, id(m.model)) for m in models)
        if key == self._models_key:
            return
        self._models_key, self._models = key, models
        self.accuracy.set_models(models)
        # first the right panel's model (P4CNN by default: its filters are shared)
        self.filters.set_models(models, prefer=len(models) - 1)
        self.group_view.models_changed()
        if self.lab.digit is None and not self.state.drawing.is_empty:
            self.lab.digit = self.state.snapshot().digit
        # the lab compares weights of one network: each named by its weights
        titled = [
            replace(m, title=state.panel_entry(i).weights_title)
            for i, m in zip(indices, models, strict=True)
        ]
        self.lab.set_models(titled)
        self._equivariance_stale = True
        self._refresh_equivariance()

    def _model_updated(self, _entry) -> None:
        self.models_changed()

    def _drawing_committed(self) -> None:
        if not self.state.drawing.is_empty:
            self.lab.set_input(self.state.snapshot().digit)
        self._equivariance_stale = True
        self._refresh_equivariance()

    def _equivariance_visible(self, visible: bool) -> None:
        if visible:
            self._refresh_equivariance()

    def _refresh_equivariance(self) -> None:
        """Recompute the curves for the current drawing and models, if they are stale and
        on screen (the analysis thread computes; the old curves stay until then)."""
        if not self._equivariance_stale or not is_visible_tab(self.equivariance_dock):
            return
        state, view = self.state, self.equivariance
        if state.drawing.is_empty or not self._models:
            return
        self._equivariance_stale = False
        view.digit = state.snapshot().digit
        if self._equivariance_key != self._models_key:
            self._equivariance_key = self._models_key
            view.set_models(self._models)  # new plots, then the curves
        else:
            view.recompute()

    def _grow(self, dock: QtWidgets.QDockWidget) -> None:
        def grow() -> None:
            window = self.window
            if not is_visible_tab(dock) or dock.isFloating():
                return
            if analysis_swaps(window.height()):
                self.maps_area.set_swapped(True)
                self.window_docks.fill = dock
                window.resizeDocks([dock], [window.height()], QtCore.Qt.Orientation.Vertical)
            else:
                height = max(dock.height(), int(ANALYSIS_SHARE * window.height()))
                window.resizeDocks([dock], [height], QtCore.Qt.Orientation.Vertical)

        QtCore.QTimer.singleShot(0, grow)  # after Qt has switched the tabs

    def _front_changed(self, dock: QtWidgets.QDockWidget, shown: bool) -> None:
        """Which analysis tabs are in front: a tab switch says so; a dock being hidden (its
        View entry unticked) leaves the note as it was, for :meth:`_view_entry`."""
        if shown:
            self._in_front.add(dock)
        elif not dock.isHidden():
            self._in_front.discard(dock)  # behind another tab

    def _view_entry(self, dock: QtWidgets.QDockWidget, checked: bool) -> None:
        if not checked and dock not in self._in_front:
            dock.show()  # it was open behind another tab: the entry brings it forward
            checked = True
        if checked:
            dock.raise_()
            self._in_front.add(dock)
        else:
            self._in_front.discard(dock)

    def _unswap(self) -> None:
        """The maps back in their place, the sweep at its own height."""
        self.window_docks.fill = None
        if self.maps_area.swapped:
            self.maps_area.set_swapped(False)
        QtCore.QTimer.singleShot(0, self.window_docks.fit)

    def _maybe_unswap(self) -> None:
        def check() -> None:  # once Qt has switched tabs: is an analysis view still in front?
            in_front = any(is_visible_tab(d) and not d.isFloating() for d in self.docks)
            if not in_front and (self.maps_area.swapped or self.window_docks.fill is not None):
                self._unswap()

        QtCore.QTimer.singleShot(0, check)

    def show_maps(self) -> None:
        """View ▸ Feature maps in front (M): the sweep's tab forward, the maps in place."""
        sweep = self.sweep_dock
        sweep.show()
        sweep.raise_()
        self._unswap()

    # -- frames -> the group view ---------------------------------------------------------------
    def _panel_probes(self) -> list[tuple[str, object]]:
        """Each panel's ``(title, probe)``; the probe None while its model loads."""
        out = []
        for key in self.state.panel_keys:
            entry = self.state.catalog.get(key)  # (never loads: the start-up thread does)
            out.append((entry.title, entry.probe() if entry.probed else None))
        return out

    def _catalog_models(self) -> list[tuple[str, str, object]]:
        """The catalog's models for the Lab's *Compare with*: key, title, and a loader (run
        on the analysis thread)."""
        return [(e.key, e.weights_title, lambda e=e: e.model) for e in self.state.catalog]

    def frame_shown(self, frame) -> None:
        """A frame is on screen (the presenter's ``frameShown``): the group view draws it."""
        self.group_view.show_frame(frame)

    def open_group_view(self, index: int, layer: str, channel: int) -> bool:
        """A layer's context menu: *Group view of this channel…* (panel ``index``)."""
        if not self.group_view.choose(index, layer, channel):
            self.window.statusBar().showMessage(f"{layer} is not a p4 or p4m layer", 5000)
            return False
        self.group_dock.show()
        self.group_dock.raise_()
        return True

    # -- feature map -> filter --------------------------------------------------------------
    def open_filter(self, index: int, hit: tuple[str, MapPixel]) -> bool:
        """A click on a map of panel ``index``: show the filter that makes it (layers with
        no filter of their own, like ``pool``, say so in the status bar)."""
        layer, pixel = hit
        key = self.state.panel_key(index)
        if not self.filters.show_filter(key, layer, pixel.channel, pixel.orientation):
            self.window.statusBar().showMessage(f"{layer} has no filters of its own", 5000)
            return False
        self.filters_dock.show()
        self.filters_dock.raise_()
        return True

    def shutdown(self) -> None:
        """Stop the analysis thread and stop listening to the catalog (which may outlive the
        window)."""
        self.state.catalog.changed.disconnect(self._model_updated)
        self.worker.stop()


def is_visible_tab(dock: QtWidgets.QDockWidget) -> bool:
    """The dock is shown and its tab is the one raised (tests and the layout use it)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()

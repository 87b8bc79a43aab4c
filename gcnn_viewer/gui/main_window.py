"""The main window: input on the left, two models side by side, the rotation sweep below.

The window builds its parts and connects them; it routes nothing itself. Widgets change a
:class:`~gcnn_viewer.viewer.state.ViewerState`; the views subscribe to the state's fields they
show; a :class:`~gcnn_viewer.viewer.reactions.Requester` hears the state and sends the worker
thread what each change asks for; results come back as numpy arrays that a
:class:`~gcnn_viewer.gui.frame_presenter.FramePresenter` hands to the views; a
:class:`~gcnn_viewer.gui.panel_switcher.PanelSwitcher` keeps the panels on their models. The
other parts live in their own modules: actions and menus (:mod:`~gcnn_viewer.gui.actions`),
the Input dock (:mod:`~gcnn_viewer.gui.input_dock`), files (:mod:`~gcnn_viewer.gui.files`),
docks and layout (:mod:`~gcnn_viewer.gui.docks`).
"""

from __future__ import annotations

import sys

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.actions import (
    DOCKS,
    EXAMPLES,
    build_menus,
    edit_actions,
    file_actions,
    follow_edits,
    help_actions,
    make_actions,
    rotate_actions,
    set_checked,
    show_browser,
    view_actions,
)
from gcnn_viewer.gui.analysis_docks import AnalysisDocks
from gcnn_viewer.gui.dialogs import ask
from gcnn_viewer.gui.docks import Area, Docks
from gcnn_viewer.gui.export_dialog import Exporter
from gcnn_viewer.gui.files import Files
from gcnn_viewer.gui.focus import Focus, MapsArea
from gcnn_viewer.gui.frame_presenter import FramePresenter
from gcnn_viewer.gui.identity import APPLICATION, ORGANISATION, app_icon
from gcnn_viewer.gui.input_dock import InputPanel, scrolling
from gcnn_viewer.gui.inspector import HoverTracker, MapInspector
from gcnn_viewer.gui.model_panel import ModelPanel
from gcnn_viewer.gui.panel_switcher import PanelSwitcher
from gcnn_viewer.gui.session import restore_session, save_session
from gcnn_viewer.gui.startup import ModelLoader, StartWhenShown, show_loading
from gcnn_viewer.gui.style import PANEL_COLOURS, colour_tables, configure_pyqtgraph
from gcnn_viewer.gui.sweep_plot import SweepPlot
from gcnn_viewer.gui.train_panel import TrainPanel
from gcnn_viewer.gui.widgets import fixed_label
from gcnn_viewer.gui.worker import InferenceWorker
from gcnn_viewer.viewer.inference import InferenceScheduler
from gcnn_viewer.viewer.models import sample_digits, sample_title
from gcnn_viewer.viewer.reactions import Requester, ResultGate
from gcnn_viewer.viewer.state import ViewerState

DEFAULT_SAMPLE = "7"
SWITCH_INTERVAL_S = 0.0005
STOP_TRAINING = (
    "Stop training?",
    "A model is training. Stop it and quit? Its weights so far are saved as a checkpoint.",
)


class MainWindow(QtWidgets.QMainWindow):
    """``frameShown(FrameResult)`` / ``sweepShown(SweepResult)`` fire after a result is on
    screen (tests and the interaction benchmark wait on them): the presenter's signals."""

    def __init__(
        self,
        state: ViewerState | None = None,
        settings: QtCore.QSettings | None = None,
        *,
        load_sample: bool = True,
        session_models: bool = True,
    ) -> None:
        configure_pyqtgraph()
        super().__init__()
        self.setObjectName("mainWindow")
        self.state = state if state is not None else ViewerState()
        self.state.colours = colour_tables()  # the worker colours the mosaics
        self.settings = (
            settings if settings is not None else QtCore.QSettings(ORGANISATION, APPLICATION)
        )
        self.samples = dict(sample_digits())
        self.gate = ResultGate()  # which results are still wanted; stale panels
        self.setWindowIcon(app_icon())
        self.setDockOptions(
            QtWidgets.QMainWindow.DockOption.AnimatedDocks
            | QtWidgets.QMainWindow.DockOption.AllowTabbedDocks
        )
        self.docks = Docks(self, closed=lambda: self.gate.closed)
        # File ▸ Export… and the context menus' exports
        self.exporter = Exporter(self, self.state, self.settings)
        self._make_panels()
        self.files = Files(self, self.state, self.settings, left_panel=self.panels[0])
        self._make_docks()
        # one layer large: View ▸ Focus on one layer (F)
        self.focus = Focus(self, self.panels, self.maps_area, self.docks)
        self._make_status_bar()
        self._make_actions()
        self._make_routes()  # the worker, and what carries changes to it and results back
        # (session_models=False: the state's models were named at launch, --model / view())
        restore_session(self.settings, self.docks, self.splitter, self.state, session_models)
        # The window is shown before torch is imported: the models load on a thread of their
        # own (gui/startup.py); until then the panels say so, and the canvas takes strokes,
        # which are shown as soon as the models are there.
        for i, panel in enumerate(self.panels):
            show_loading(panel, self.state.panel_keys[i])
        self.switcher.show_title()
        if load_sample and self.state.drawing.is_empty and self.samples:
            default = next((n for n in self.samples if n.startswith(DEFAULT_SAMPLE)), None)
            self.load_sample(default or next(iter(self.samples)))
        self.loader = ModelLoader(self.state.catalog, self.state.panel_keys, self)
        self.loader.finished.connect(self.switcher.models_loaded)  # loaded or failed: carry on
        self.switcher.modelsShown.connect(self.train_panel.refresh_devices)
        StartWhenShown(self, self.loader, closed=lambda: self.gate.closed)  # once on screen
        self.canvas.setFocus()
        self.statusBar().showMessage(
            "Draw a digit, then turn the dial. Double-click a layer (or press F) to see it "
            "large. F1 explains the panels.",
            15000,
        )

    # -- construction ------------------------------------------------------------------------
    def _make_panels(self) -> None:
        self.panels = [ModelPanel(i, self.state.catalog, PANEL_COLOURS[i]) for i in range(2)]
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.setObjectName("panelSplitter")
        self.splitter.setChildrenCollapsible(False)
        for panel in self.panels:
            self.splitter.addWidget(panel)
            # (a model picked in its selector: PanelSwitcher, gui/panel_switcher.py)
            panel.openRequested.connect(lambda i=panel.index: self.files.open_model(panel=i))
            panel.maps.exportRequested.connect(
                lambda layer, i=panel.index: self.exporter.open_layer(i, layer)
            )
            # (a map's hover: HoverTracker in gui/inspector.py; a map's click: the Filters
            # view, gui/analysis_docks.py)
        # the panels, the focus-mode bar over them, their place while an analysis view has it
        self.maps_area = MapsArea(self.splitter)
        self.setCentralWidget(self.maps_area)

    def _make_docks(self) -> None:
        self.input_panel = InputPanel(self.state, self.samples, self.statusBar())
        panel = self.input_panel  # its parts, by name, for the window and the tests
        self.canvas, self.preview, self.brush = panel.canvas, panel.preview, panel.brush
        self.rotation, self.browser, self.source_label = (
            panel.rotation,
            panel.browser,
            panel.source_label,
        )
        input_scroll = scrolling(self.input_panel)
        self.input_dock = self.docks.add("Input", "inputDock", input_scroll, sizing="column")
        self.inspector = MapInspector()
        self.inspector_dock = self.docks.add("Hovered map", "inspectorDock", self.inspector)
        self.hover = HoverTracker(
            self.panels, self.inspector, lambda: self.gate.last_frame, self.statusBar()
        )
        self.sweep = SweepPlot(PANEL_COLOURS)
        self.sweep.exportRequested.connect(self.exporter.open_sweep)
        self.sweep_dock = self.docks.add(
            "Probability vs angle", "sweepDock", self.sweep, Area.BottomDockWidgetArea,
            sizing="bottom",
        )  # fmt: skip
        # Equivariance, Accuracy, Filters: tabs beside the sweep
        self.analysis = AnalysisDocks(
            self, self.state, self.docks, self.sweep_dock, self.maps_area, self.panels
        )
        self.setCorner(QtCore.Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
        self.train_panel = TrainPanel(self.state.catalog)
        self.train_panel.dataReady.connect(self.input_panel.data_ready)
        train_scroll = scrolling(self.train_panel)
        # A scroll area's own minimum is tiny: the column could shrink below its content and
        # clip it (Clear and +90° were cut off at 1024×700). Both tabs get the wider of the
        # two minimums, so that showing Train does not take width from the feature maps.
        bar = input_scroll.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        column = max(w.minimumSizeHint().width() for w in (self.input_panel, self.train_panel))
        for area in (input_scroll, train_scroll):
            area.setMinimumWidth(column + bar + 2)
        # A tab beside the Input dock: training takes the input column's room, never the
        # feature maps' (a dock of its own squeezed the two model panels to ~210 px).
        # View ▸ Train, or File ▸ Train a model… (Ctrl+T) shows it.
        self.train_dock = self.docks.add(
            "Train", "trainDock", train_scroll, tab_with=self.input_dock, hidden=True,
            sizing="column",
        )  # fmt: skip

    def _make_actions(self) -> None:
        """The menus' actions, in a registry keyed by id (``actions_by_id["export"]``)."""
        state = self.state
        self.actions_by_id = make_actions(
            self,
            [
                *file_actions(
                    self.files,
                    self.exporter,
                    self.show_training,
                    lambda: show_browser(self.input_dock, self.browser, self.statusBar()),
                    self.close,
                ),
                *edit_actions(state.drawing),
                *view_actions(state, self.focus, self.analysis.show_maps, self.docks.reset_layout),
                *rotate_actions(state, self.rotation.set_spinning, self.input_panel.step_digit),
                *help_actions(self),
            ],
        )
        actions = self.actions_by_id
        fillers = {EXAMPLES: self._fill_examples, DOCKS: self.docks.fill_view_menu}
        build_menus(self, actions, fillers)
        # Undo / Redo / Clear: menu entries and buttons follow the drawing
        follow_edits(state.drawing, actions, self.brush)
        state.stabilised_changed.connect(lambda on: set_checked(actions["stabilisedView"], on))
        # checkable entries follow changes made elsewhere (the Spin button, a double click)
        self.rotation.play.toggled.connect(lambda on: set_checked(actions["spin"], on))
        self.focus.changed.connect(lambda: set_checked(actions["focusLayer"], self.focus.active))

    def _make_routes(self) -> None:
        """The inference worker, and the parts that carry changes to it and results back."""
        self.scheduler = InferenceScheduler()
        self.worker = InferenceWorker(self.scheduler, self)
        # Both threads run Python: hand the GIL over within 0.5 ms, not CPython's default 5 ms,
        # so a paint never waits long for the worker's Python (or the worker for a paint).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        # the state's changes -> what they ask of the worker (nothing until the models load)
        self.requests = Requester(
            self.state, self.scheduler, self.gate, lambda: self.sweep.set_stale(True)
        )
        # the worker's results -> the panels, the sweep, the status bar
        self.presenter = FramePresenter(
            self.worker, self.state, self.gate, self.panels, self.preview, self.sweep,
            self.hover, self.statusBar(), self.angle_status, self.timing_status, parent=self,
        )  # fmt: skip
        self.presenter.frameShown.connect(self.analysis.frame_shown)  # the group view
        self.analysis.group_view.exportRequested.connect(self.exporter.open_group_view)
        self.worker.start()
        # a panel's new model or new weights -> the panels, then the requests
        self.switcher = PanelSwitcher(
            self, self.state, self.panels, self.requests, self.hover, self.analysis, self.focus,
            closed=lambda: self.gate.closed,
        )  # fmt: skip
        self.train_panel.followRequested.connect(lambda key: self.switcher.set_panel_model(1, key))

    def _make_status_bar(self) -> None:
        self.angle_status = fixed_label("angleStatus", 175)
        self.timing_status = fixed_label(
            "timingStatus", 95, "Time the worker thread took for the last frame"
        )
        self.statusBar().addPermanentWidget(self.angle_status)
        self.statusBar().addPermanentWidget(self.timing_status)

    def _fill_examples(self, menu: QtWidgets.QMenu) -> None:
        examples = menu.addMenu("&Examples")
        for name in self.samples:
            action = examples.addAction(f"Digit {sample_title(name)}")
            action.setObjectName(f"example_{name}")
            # triggered(bool) passes `checked`: a lambda with a default parameter would get it
            action.triggered.connect(lambda _checked=False, n=name: self.input_panel.load_sample(n))

    # -- results, as the tests and benchmarks see them ---------------------------------------
    last_frame = property(lambda self: self.gate.last_frame)
    last_sweep = property(lambda self: self.gate.last_sweep)
    pending_frame = property(lambda self: self.gate.pending_frame)
    failed_text = property(lambda self: self.gate.failed_text)
    frameShown = property(lambda self: self.presenter.frameShown)
    sweepShown = property(lambda self: self.presenter.sweepShown)

    @property
    def models_ready(self) -> bool:
        """The start-up thread has loaded the panels' models: requests go out from now."""
        return self.requests.ready

    # -- user commands -----------------------------------------------------------------------
    def load_sample(self, name: str) -> None:
        self.input_panel.load_sample(name)

    def show_training(self) -> None:
        self.train_dock.show()
        self.train_dock.raise_()

    # -- teardown ----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the spin timer and every thread (training, export, analysis, inference), and
        stop listening to the model catalog, which may outlive the window (idempotent)."""
        if self.gate.closed:
            return
        self.gate.closed = True
        self.switcher.shutdown()
        self.rotation.set_spinning(False)
        self.train_panel.shutdown()
        self.exporter.shutdown()
        self.analysis.shutdown()
        self.worker.stop()
        self.loader.wait()  # (an import of torch cannot be interrupted)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        closed = self.gate.closed
        if not closed and self.train_panel.running and not ask(self, *STOP_TRAINING):
            event.ignore()
            return
        if not closed:
            save_session(self.settings, self.docks, self.splitter, self.state)
        self.shutdown()
        super().closeEvent(event)

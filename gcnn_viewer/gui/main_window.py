"""The main window: input on the left, two models side by side, the rotation sweep below.

The window composes its parts: widgets change a
:class:`~gcnn_viewer.viewer.state.ViewerState`; the views subscribe to the state's fields they
show; a :class:`~gcnn_viewer.viewer.reactions.Requester` hears the state and sends the worker
thread what each change asks for; results come back as numpy arrays that the window hands to
the views. The parts live in their own modules: actions and menus
(:mod:`~gcnn_viewer.gui.actions`), the Input dock (:mod:`~gcnn_viewer.gui.input_dock`), files
(:mod:`~gcnn_viewer.gui.files`), docks and layout (:mod:`~gcnn_viewer.gui.docks`).
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
from gcnn_viewer.gui.dialogs import ask, show_error
from gcnn_viewer.gui.docks import Area, Docks
from gcnn_viewer.gui.export_dialog import Exporter
from gcnn_viewer.gui.files import Files
from gcnn_viewer.gui.focus import Focus, MapsArea
from gcnn_viewer.gui.identity import APPLICATION, ORGANISATION, app_icon
from gcnn_viewer.gui.input_dock import InputPanel, scrolling
from gcnn_viewer.gui.inspector import HoverTracker, MapInspector
from gcnn_viewer.gui.model_panel import ModelPanel
from gcnn_viewer.gui.session import restore_session, save_session
from gcnn_viewer.gui.startup import ModelLoader, StartWhenShown, show_loading
from gcnn_viewer.gui.style import PANEL_COLOURS, colour_tables, configure_pyqtgraph
from gcnn_viewer.gui.sweep_plot import AUTO, SweepPlot
from gcnn_viewer.gui.train_panel import TrainPanel
from gcnn_viewer.gui.widgets import fixed_label
from gcnn_viewer.gui.worker import InferenceWorker
from gcnn_viewer.viewer import reactions
from gcnn_viewer.viewer.inference import FrameResult, InferenceScheduler, SweepResult
from gcnn_viewer.viewer.models import sample_digits, sample_title
from gcnn_viewer.viewer.reactions import Requester, ResultGate, is_blank
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.window_texts import angle_text, sweep_titles, window_title

DEFAULT_SAMPLE = "7"
SWITCH_INTERVAL_S = 0.0005
STOP_TRAINING = (
    "Stop training?",
    "A model is training. Stop it and quit? Its weights so far are saved as a checkpoint.",
)


class MainWindow(QtWidgets.QMainWindow):
    """``frameShown(FrameResult)`` / ``sweepShown(SweepResult)`` fire after a result is on
    screen (tests and the interaction benchmark wait on them)."""

    frameShown = QtCore.Signal(object)
    sweepShown = QtCore.Signal(object)

    def __init__(
        self,
        state: ViewerState | None = None,
        settings: QtCore.QSettings | None = None,
        *,
        load_sample: bool = True,
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

        # -- inference worker ------------------------------------------------------------------
        self.scheduler = InferenceScheduler()
        self.worker = InferenceWorker(self.scheduler, self)
        # Both threads run Python: hand the GIL over within 0.5 ms, not CPython's default 5 ms,
        # so a paint never waits long for the worker's Python (or the worker for a paint).
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.worker.frameReady.connect(self._show_frame)
        self.worker.sweepReady.connect(self._show_sweep)
        self.worker.failed.connect(self._frame_failed)
        self.worker.start()
        # the state's changes -> what they ask of the worker (nothing until the models load)
        self.requests = Requester(
            self.state, self.scheduler, self.gate, lambda: self.sweep.set_stale(True)
        )

        # -- state -> views --------------------------------------------------------------------
        self.state.angle_changed.connect(self._angle_changed)
        self.state.tracked_class_changed.connect(self._tracked_class_changed)
        self.state.panel_changed.connect(self._panel_changed)
        self.state.catalog.added.connect(self._refresh_selectors)
        self.state.catalog.changed.connect(self._model_updated)

        restore_session(self.settings, self.docks, self.splitter, self.state)
        # The window is shown before torch is imported: the models load on a thread of their
        # own (gui/startup.py); until then the panels say so, and the canvas takes strokes,
        # which are shown as soon as the models are there.
        for i, panel in enumerate(self.panels):
            show_loading(panel, self.state.panel_keys[i])
        titles = [self.state.catalog.get(k).title for k in self.state.panel_keys]
        self.setWindowTitle(window_title(titles))
        self._angle_changed(self.state.angle)
        if load_sample and self.state.drawing.is_empty and self.samples:
            default = next((n for n in self.samples if n.startswith(DEFAULT_SAMPLE)), None)
            self.load_sample(default or next(iter(self.samples)))
        self.loader = ModelLoader(self.state.catalog, self.state.panel_keys, self)
        self.loader.finished.connect(self._models_loaded)  # loaded or failed: carry on
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
            panel.modelChosen.connect(lambda key, i=panel.index: self.set_panel_model(i, key))
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
        self.input_panel = InputPanel(self.state, self.samples)
        self.input_panel.sampleChosen.connect(self.load_sample)
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
        self.sweep.classChosen.connect(
            lambda c: setattr(self.state, "tracked_class", None if c == AUTO else c)
        )
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
        self.train_panel.followRequested.connect(lambda key: self.set_panel_model(1, key))
        self.train_panel.dataReady.connect(self._data_ready)
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
                *rotate_actions(state, self.rotation.set_spinning, self.step_digit),
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
            action.triggered.connect(lambda _checked=False, n=name: self.load_sample(n))

    # -- results, as the tests and benchmarks see them ---------------------------------------
    last_frame = property(lambda self: self.gate.last_frame)
    last_sweep = property(lambda self: self.gate.last_sweep)
    pending_frame = property(lambda self: self.gate.pending_frame)
    failed_text = property(lambda self: self.gate.failed_text)

    # -- requests ----------------------------------------------------------------------------
    @property
    def models_ready(self) -> bool:
        """The start-up thread has loaded the panels' models: requests go out from now."""
        return self.requests.ready

    def _models_loaded(self) -> None:
        """The start-up thread is done: show the panels' models, then the first frame and
        sweep of whatever is drawn by now."""
        if self.gate.closed or self.requests.ready:
            return
        self.requests.ready = True
        for i in range(len(self.panels)):
            self._panel_changed(i, request=False)
        self.train_panel.refresh_devices()
        self.requests.react(reactions.on_panel_changed())

    # -- state events ------------------------------------------------------------------------
    def _angle_changed(self, angle: float) -> None:
        # The sweep's angle marker moves with the frame, not before it: repainting a plot
        # holds the GIL and would only delay the worker computing that frame.
        self.angle_status.setText(angle_text(angle))

    def _tracked_class_changed(self, tracked: int | None) -> None:
        index = self.sweep.class_box.findData(AUTO if tracked is None else tracked)
        if self.sweep.class_box.currentIndex() != index:
            with QtCore.QSignalBlocker(self.sweep.class_box):
                self.sweep.class_box.setCurrentIndex(index)
        self.sweep.set_tracked(tracked)

    def _panel_changed(self, index: int, request: bool = True) -> None:
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:  # a model shown for the first time is loaded and probed (its colour scales)
            entry = self.state.panel_entry(index)
            self.panels[index].set_entry(entry)
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if entry.error:
            self.statusBar().showMessage(
                f"{entry.title}: {entry.error}; showing it untrained", 10000
            )
        titles = [self.state.catalog.get(k).title for k in self.state.panel_keys]
        self.setWindowTitle(window_title(titles))
        self.hover.clear()
        self._refresh_selectors()
        self.analysis.models_changed()
        self.focus.models_changed()
        if request:
            self.requests.react(reactions.on_panel_changed())

    def _model_updated(self, entry) -> None:
        """An entry got new weights: a reloaded file, or a snapshot of a model in training.
        A snapshot keeps its colour scales: then only the texts that changed are set and the
        old sweep stays drawn until the new one arrives, so that following a training run
        costs the event loop little (no relayout, no repaint of every plot)."""
        labels = [[p.selector.itemText(j) for j in range(p.selector.count())] for p in self.panels]
        if reactions.selectors_need_refresh(labels, entry.label):
            self._refresh_selectors()  # its label changed (a run in the app ended)
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
                self._panel_changed(i, request=False)
            updates.append(update)
        self.requests.react(reactions.on_model_updated(updates))

    def _refresh_selectors(self, _entry=None) -> None:
        for panel in self.panels:
            panel.refresh_selector()

    # -- results -----------------------------------------------------------------------------
    def _frame_failed(self, text: str) -> None:
        """A frame could not be computed: the maps on screen belong to an older input, so
        they are marked stale (greyed, with the reason) until a frame succeeds."""
        if self.gate.frame_failed(text):
            for panel in self.panels:
                panel.set_stale(text)
            self.sweep.set_stale(True)
            self.statusBar().showMessage(text, 8000)

    def _show_frame(self, result: FrameResult) -> None:
        show, recovered = self.gate.accept_frame(result, self.state.panel_keys)
        if not show:
            return  # made for models no longer shown; a newer request is on its way
        for panel in self.panels if recovered else ():
            panel.set_stale("")
        self.preview.set_pixels(result.input)
        blank = is_blank(result.input)
        for panel, frame in zip(self.panels, result.panels, strict=True):
            panel.show_frame(frame, blank)
        self.sweep.set_angle(result.angle, [p.probabilities for p in result.panels])
        self.hover.refresh()
        self.timing_status.setText(f"frame {result.compute_ms:.1f} ms")
        self.frameShown.emit(result)

    def _show_sweep(self, result: SweepResult) -> None:
        keys = self.state.panel_keys
        if not self.gate.accept_sweep(result, self.state.drawing.version, keys):
            return
        titles = sweep_titles([self.state.catalog.get(k).title for k in keys])
        frame = self.gate.last_frame
        blank = self.state.drawing.is_empty or (frame is not None and is_blank(frame.input))
        self.sweep.set_sweep(result, keys, titles, self.state.tracked_class, blank)
        if (frame := self.gate.last_frame) is not None:
            self.sweep.set_angle(frame.angle, [p.probabilities for p in frame.panels])
        self.sweepShown.emit(result)

    # -- user commands -----------------------------------------------------------------------
    def set_panel_model(self, index: int, key: str) -> None:
        try:
            self.state.set_panel(index, key)
        except Exception as exc:  # noqa: BLE001  a model that cannot be shown: say so, go on
            show_error(self, "Cannot show model", str(exc))
            self.panels[index].refresh_selector()

    def load_sample(self, name: str) -> None:
        image = self.samples.get(name)
        if image is not None:
            self.state.drawing.set_image(image, f"sample {sample_title(name)}")
            self.statusBar().showMessage(f"Loaded the sample digit {sample_title(name)}", 5000)

    def show_training(self) -> None:
        self.train_dock.show()
        self.train_dock.raise_()

    def step_digit(self, delta: int) -> None:
        """PgUp / PgDown: the previous / next MNIST-rot test digit, or why there is none."""
        if not self.browser.step(delta):
            self.statusBar().showMessage(self.browser.unavailable_reason(), 10000)

    def _data_ready(self) -> None:
        """MNIST-rot was fetched (Train panel): the test-digit browser can use it now."""
        if self.browser.refresh():
            self.statusBar().showMessage(
                "MNIST-rot is in the cache: PgUp / PgDown browse its test digits", 8000
            )

    # -- teardown ----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the spin timer and every thread (training, export, analysis, inference), and
        stop listening to the model catalog, which may outlive the window (idempotent)."""
        if self.gate.closed:
            return
        self.gate.closed = True
        self.state.catalog.added.disconnect(self._refresh_selectors)
        self.state.catalog.changed.disconnect(self._model_updated)
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

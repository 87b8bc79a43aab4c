"""The main window: input on the left, two models side by side, the rotation sweep below.

A thin layer over :class:`~gcnn_viewer.viewer.state.ViewerState`: widgets change the state,
state events become inference requests for the worker thread, and results come back as
numpy arrays that the views display. Nothing here runs a forward pass except measuring a
model's colour scales once, when it is first shown.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.data.digits import DigitImageError, load_image_file, quarter_turns
from gcnn_viewer.gui.app import APPLICATION, ORGANISATION
from gcnn_viewer.gui.canvas import DrawingCanvas, InputPreview
from gcnn_viewer.gui.controls import BrushControls, RotationControls, TestDigitBrowser
from gcnn_viewer.gui.dialogs import ask, show_about, show_error, show_help
from gcnn_viewer.gui.inspector import MapInspector
from gcnn_viewer.gui.model_panel import ModelPanel
from gcnn_viewer.gui.style import PANEL_COLOURS, colour_tables, configure_pyqtgraph, small_font
from gcnn_viewer.gui.sweep_plot import AUTO, SweepPlot
from gcnn_viewer.gui.train_panel import TrainPanel
from gcnn_viewer.gui.worker import InferenceWorker
from gcnn_viewer.training.checkpoint import CheckpointError
from gcnn_viewer.viewer.inference import (
    FrameResult,
    InferenceScheduler,
    SweepResult,
    stabilised_note,
)
from gcnn_viewer.viewer.layout import MapPixel
from gcnn_viewer.viewer.models import (
    CHECKPOINT_SUFFIXES,
    sample_digits,
    sample_title,
    shipped_dir,
)
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.training import save_model_file

DEFAULT_SAMPLE = "7"
IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm);;All files (*)"
)
MODEL_FILTER = "gcnn-viewer checkpoints (*.pt *.pth *.ckpt);;All files (*)"
SWITCH_INTERVAL_S = 0.0005
BLANK_INPUT = 0.05  # an input whose brightest pixel is below this holds no digit
SETTINGS_VERSION = 2  # bump when the dock layout changes incompatibly (2: Train is a tab)
INPUT_DOCK_WIDTH = 390  # the Input / Train column's width when the window has room for it
INPUT_DOCK_SHARE = 0.34  # ... and its largest share of a narrow window's width
SWEEP_DOCK_HEIGHT = 190  # the probability-vs-angle plot's height, room permitting
SWEEP_DOCK_SHARE = 0.21  # ... and its largest share of a short window's height
FIT_SETTLE_S = 0.5  # dock resizes this soon after fitting them are Qt's relayout, not a drag


def app_icon() -> QtGui.QIcon:
    icon = QtGui.QIcon()
    for name in ("icon.svg", "icon.png"):
        path = shipped_dir() / name
        if path.is_file():
            icon.addFile(str(path))
    return icon


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
        self.last_frame: FrameResult | None = None
        self.pending_frame = 0  # seq of the newest frame requested
        self.last_sweep: SweepResult | None = None
        self._hover: tuple[int, str, MapPixel] | None = None
        self._closed = False
        self.failed_text = ""  # the last frame failed: the panels are marked stale
        self._fitting = False  # fit_docks is resizing docks (not the user)
        self._input_width, self._sweep_height = INPUT_DOCK_WIDTH, SWEEP_DOCK_HEIGHT
        self._fitted_size = QtCore.QSize()
        self._fitted_at = 0.0
        self._restored = False  # the dock layout came from the settings
        self._laid_out = False  # shown and its docks sized once: user drags count from now
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(
            QtWidgets.QMainWindow.DockOption.AnimatedDocks
            | QtWidgets.QMainWindow.DockOption.AllowTabbedDocks
        )

        # -- models, side by side --------------------------------------------------------------
        self.panels = [ModelPanel(i, self.state.catalog, PANEL_COLOURS[i]) for i in range(2)]
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.setObjectName("panelSplitter")
        splitter.setChildrenCollapsible(False)
        for panel in self.panels:
            splitter.addWidget(panel)
            panel.modelChosen.connect(lambda key, i=panel.index: self.set_panel_model(i, key))
            panel.openRequested.connect(lambda i=panel.index: self.open_model(panel=i))
            panel.maps.hovered.connect(lambda hit, i=panel.index: self._hovered(i, hit))
        self.setCentralWidget(splitter)
        self.splitter = splitter

        # -- input dock ------------------------------------------------------------------------
        self.canvas = DrawingCanvas(self.state)
        self.preview = InputPreview()
        self.brush = BrushControls(self.state)
        self.rotation = RotationControls(self.state)
        self.browser = TestDigitBrowser()
        self.browser.digitChosen.connect(lambda img, text: self.state.drawing.set_image(img, text))
        preview_title = QtWidgets.QLabel("<b>Model input</b><br>28×28, as the models see it")
        preview_title.setFont(small_font(-1))
        preview_title.setWordWrap(True)
        preview_title.setFixedWidth(self.preview.width())
        self.source_label = QtWidgets.QLabel("")
        self.source_label.setObjectName("sourceLabel")
        self.source_label.setWordWrap(True)
        self.source_label.setFont(small_font(-1.5))
        self.source_label.setStyleSheet("color:#606060")
        preview_col = QtWidgets.QVBoxLayout()
        preview_col.addWidget(preview_title)
        preview_col.addWidget(self.preview)
        preview_col.addWidget(self.source_label)
        preview_col.addStretch(1)
        draw_row = QtWidgets.QHBoxLayout()
        draw_row.addWidget(self.canvas, 1)
        draw_row.addLayout(preview_col)
        examples = QtWidgets.QHBoxLayout()
        examples.addWidget(QtWidgets.QLabel("Examples:"))
        for name in self.samples:
            button = QtWidgets.QToolButton()
            button.setText(name.split("-")[0])
            button.setToolTip(f"Load the MNIST test digit {sample_title(name)}")
            button.setObjectName(f"sample_{name}")
            button.clicked.connect(lambda _=False, n=name: self.load_sample(n))
            examples.addWidget(button)
        examples.addStretch(1)
        input_widget = QtWidgets.QWidget()
        input_widget.setObjectName("inputPanel")
        col = QtWidgets.QVBoxLayout(input_widget)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(6)
        col.addLayout(draw_row)
        col.addWidget(self.brush)
        col.addLayout(examples)
        col.addWidget(self.rotation)
        col.addWidget(self.browser)
        col.addStretch(1)
        scroll = QtWidgets.QScrollArea()  # small screens: scroll rather than clip
        scroll.setWidget(input_widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.input_scroll = scroll
        self.input_dock = self._dock("Input", "inputDock", scroll)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.input_dock)

        self.inspector = MapInspector()
        self.inspector_dock = self._dock("Hovered map", "inspectorDock", self.inspector)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.inspector_dock)

        self.sweep = SweepPlot(PANEL_COLOURS)
        self.sweep.classChosen.connect(
            lambda c: setattr(self.state, "tracked_class", None if c == AUTO else c)
        )
        self.sweep_dock = self._dock("Probability vs angle", "sweepDock", self.sweep)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.sweep_dock)
        self.setCorner(
            QtCore.Qt.Corner.BottomLeftCorner, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea
        )

        self.train_panel = TrainPanel(self.state.catalog)
        self.train_panel.followRequested.connect(lambda key: self.set_panel_model(1, key))
        self.train_panel.dataReady.connect(self._data_ready)
        train_scroll = QtWidgets.QScrollArea()  # short windows: scroll rather than clip
        train_scroll.setWidget(self.train_panel)
        train_scroll.setWidgetResizable(True)
        train_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        train_scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A scroll area's own minimum is tiny: the column could shrink below its content and
        # clip it (Clear and +90° were cut off at 1024×700). Both tabs get the wider of the
        # two minimums, so that showing Train does not take width from the feature maps.
        scrollbar = scroll.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        column = max(
            input_widget.minimumSizeHint().width(), self.train_panel.minimumSizeHint().width()
        )
        for area in (scroll, train_scroll):
            area.setMinimumWidth(column + scrollbar + 2)
        self.train_dock = self._dock("Train", "trainDock", train_scroll)
        # A tab beside the Input dock: training takes the input column's room, never the
        # feature maps' (a dock of its own squeezed the two model panels to ~210 px).
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.train_dock)
        self.tabifyDockWidget(self.input_dock, self.train_dock)
        self.train_dock.hide()  # View ▸ Train, or File ▸ Train a model… (Ctrl+T)

        # -- status bar ------------------------------------------------------------------------
        self.angle_status = QtWidgets.QLabel("")
        self.angle_status.setObjectName("angleStatus")
        # fixed sizes: a label whose text changes every frame must not relayout the window
        self.angle_status.setFixedSize(175, self.angle_status.sizeHint().height())
        self.timing_status = QtWidgets.QLabel("")
        self.timing_status.setObjectName("timingStatus")
        self.timing_status.setFixedSize(95, self.timing_status.sizeHint().height())
        self.timing_status.setToolTip("Time the worker thread took for the last frame")
        self.statusBar().addPermanentWidget(self.angle_status)
        self.statusBar().addPermanentWidget(self.timing_status)

        for dock in (self.input_dock, self.train_dock, self.sweep_dock):
            dock.installEventFilter(self)
        self._make_actions()
        self._make_menus()

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

        # -- state -> views --------------------------------------------------------------------
        drawing = self.state.drawing
        drawing.changed.connect(self._drawing_changed)
        drawing.committed.connect(self._drawing_committed)
        self.state.angle_changed.connect(self._angle_changed)
        self.state.display_changed.connect(self._display_changed)
        self.state.panel_changed.connect(self._panel_changed)
        self.state.catalog.added.connect(lambda _entry: self._refresh_selectors())
        self.state.catalog.changed.connect(self._model_updated)

        self._restore_settings()
        for i in range(2):
            self._panel_changed(i, request=False)
        self._angle_changed(self.state.angle, request=False)
        self._update_edit_actions()
        if load_sample and self.state.drawing.is_empty and self.samples:
            default = next((n for n in self.samples if n.startswith(DEFAULT_SAMPLE)), None)
            self.load_sample(default or next(iter(self.samples)))
        else:
            self.request_frame()
            self.request_sweep()
        self.canvas.setFocus()
        self.statusBar().showMessage(
            "Draw a digit, then turn the dial. Hover a feature map to enlarge it. "
            "F1 explains the panels.",
            15000,
        )

    # -- construction helpers ----------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QtWidgets.QWidget) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        return dock

    def _action(
        self,
        text: str,
        slot,
        shortcuts: tuple = (),
        tip: str = "",
        checkable: bool = False,
        name: str = "",
    ) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcuts:
            # a platform's standard key may equal the explicit one (Quit is Ctrl+Q on Linux):
            # the same key twice on one action would make it ambiguous, and dead
            keys: list[QtGui.QKeySequence] = []
            for shortcut in shortcuts:
                for key in (
                    QtGui.QKeySequence.keyBindings(shortcut)
                    if isinstance(shortcut, QtGui.QKeySequence.StandardKey)
                    else [QtGui.QKeySequence(shortcut)]
                ):
                    if not key.isEmpty() and key not in keys:
                        keys.append(key)
            action.setShortcuts(keys)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        action.setObjectName(name)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even when a dock is floating
        return action

    def _make_actions(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        self.act_open_image = self._action(
            "Open &image…",
            lambda: self.open_image(),
            (K.Open,),
            "Load a digit from an image file (it is centred and scaled like MNIST)",
            name="openImage",
        )
        self.act_open_model = self._action(
            "Open &model…",
            lambda: self.open_model(),
            ("Ctrl+Shift+O",),
            "Load a checkpoint written by gcnn-viewer train into the right-hand panel",
            name="openModel",
        )
        self.act_save_model = self._action(
            "&Save model…",
            lambda: self.save_model(),
            (K.Save,),
            "Write the right-hand panel's model as a gcnn-viewer checkpoint",
            name="saveModel",
        )
        self.act_train = self._action(
            "&Train a model…",
            self.show_training,
            ("Ctrl+T",),
            "Train a model from scratch on MNIST-rot, with live curves",
            name="train",
        )
        self.act_quit = self._action("&Quit", self.close, (K.Quit, "Ctrl+Q"), name="quit")
        self.act_undo = self._action(
            "&Undo stroke",
            self.state.drawing.undo,
            (K.Undo,),
            "Undo the last stroke or load",
            name="undo",
        )
        self.act_redo = self._action(
            "&Redo", self.state.drawing.redo, (K.Redo, "Ctrl+Shift+Z", "Ctrl+Y"), name="redo"
        )
        self.act_clear = self._action(
            "&Clear canvas",
            self.state.drawing.clear,
            ("Delete", "Ctrl+Backspace"),
            "Erase the drawing (undoable)",
            name="clear",
        )
        # The buttons trigger the menu's actions but keep their short texts: a default action
        # would copy "Undo load of …" into the button and widen the Input dock.
        for button, action, text in (
            (self.brush.undo, self.act_undo, "Undo"),
            (self.brush.clear, self.act_clear, "Clear"),
        ):
            button.setText(text)
            button.clicked.connect(lambda _checked=False, a=action: a.trigger())
        self.act_stabilised = self._action(
            "&Stabilised view",
            self._stabilised_toggled,
            ("S",),
            "Rotate every map back and undo the orientation shift: equivariant maps stand still",
            checkable=True,
            name="stabilisedView",
        )
        self.act_plus = self._action(
            "Rotate +90°",
            lambda: self.state.rotate_quarter(+1),
            ("]", "Ctrl+Right"),
            "On to the next multiple of 90° (exact)",
            name="rotatePlus",
        )
        self.act_minus = self._action(
            "Rotate −90°",
            lambda: self.state.rotate_quarter(-1),
            ("[", "Ctrl+Left"),
            "Back to the previous multiple of 90° (exact)",
            name="rotateMinus",
        )
        self.act_zero = self._action(
            "Upright (0°)", lambda: setattr(self.state, "angle", 0.0), ("Home",), name="rotateZero"
        )
        self.act_spin = self._action(
            "S&pin",
            self.rotation.set_spinning,
            ("P",),
            "Turn the input continuously",
            checkable=True,
            name="spin",
        )
        self.rotation.play.toggled.connect(self._spin_toggled)
        self.act_prev_digit = self._action(
            "Previous test digit", lambda: self.step_digit(-1), ("PgUp",), name="previousDigit"
        )
        self.act_next_digit = self._action(
            "Next test digit", lambda: self.step_digit(+1), ("PgDown",), name="nextDigit"
        )
        self.act_help = self._action(
            "&What am I looking at?", lambda: show_help(self), (K.HelpContents, "F1"), name="help"
        )
        self.act_about = self._action("&About gcnn-viewer", lambda: show_about(self), name="about")
        self.act_about_qt = self._action(
            "About &Qt", lambda: QtWidgets.QMessageBox.aboutQt(self), name="aboutQt"
        )
        self.act_reset_layout = self._action(
            "Reset window layout", self.reset_layout, name="resetLayout"
        )

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self.act_open_image)
        file.addAction(self.act_open_model)
        file.addAction(self.act_save_model)
        file.addSeparator()
        file.addAction(self.act_train)
        examples = file.addMenu("&Examples")
        for name in self.samples:
            action = examples.addAction(f"Digit {sample_title(name)}")
            action.setObjectName(f"example_{name}")
            # triggered(bool) passes `checked`: a lambda with a default parameter would get it
            action.triggered.connect(lambda _checked=False, n=name: self.load_sample(n))
        file.addSeparator()
        file.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        edit.addAction(self.act_undo)
        edit.addAction(self.act_redo)
        edit.addSeparator()
        edit.addAction(self.act_clear)
        view = bar.addMenu("&View")
        view.addAction(self.act_stabilised)
        view.addSeparator()
        for dock in (self.input_dock, self.inspector_dock, self.sweep_dock, self.train_dock):
            view.addAction(dock.toggleViewAction())
        view.addAction(self.act_reset_layout)
        rotate = bar.addMenu("&Rotate")
        for act in (self.act_plus, self.act_minus, self.act_zero, self.act_spin):
            rotate.addAction(act)
        rotate.addSeparator()
        rotate.addAction(self.act_prev_digit)
        rotate.addAction(self.act_next_digit)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_help)
        help_menu.addSeparator()
        help_menu.addAction(self.act_about)
        help_menu.addAction(self.act_about_qt)

    # -- settings ------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        self._default_state = self.saveState(SETTINGS_VERSION)
        geometry = s.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        state = s.value("window/state")
        if state is not None:
            self._restored = self.restoreState(state, SETTINGS_VERSION)
        splitter = s.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self.state.stabilised = _as_bool(s.value("view/stabilised", False))
        with contextlib.suppress(TypeError, ValueError):  # a hand-edited settings file
            self.state.brush = float(s.value("input/brush", self.state.brush))
        self.brush.size.setValue(round(self.state.brush * 100))
        keys = set(self.state.catalog.keys())
        for i in range(2):
            key = s.value(f"panels/{i}")
            if isinstance(key, str) and key in keys and not key.startswith("file:"):
                self.state.set_panel(i, key)

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("view/stabilised", self.state.stabilised)
        s.setValue("input/brush", self.state.brush)
        for i in range(2):
            s.setValue(f"panels/{i}", self.state.panel_key(i))
        s.sync()

    def _default_geometry(self) -> None:
        screen = QtGui.QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
        width = min(1600, int(avail.width() * 0.95))
        height = min(1000, int(avail.height() * 0.95))
        self.resize(width, height)
        self.move(avail.center() - QtCore.QPoint(width // 2, height // 2))
        self._input_width, self._sweep_height = INPUT_DOCK_WIDTH, SWEEP_DOCK_HEIGHT
        self.fit_docks()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in (self.input_dock, self.inspector_dock, self.sweep_dock):
            dock.setFloating(False)
            dock.show()
        self.train_dock.setFloating(False)
        self._input_width, self._sweep_height = INPUT_DOCK_WIDTH, SWEEP_DOCK_HEIGHT
        self.fit_docks()

    # -- dock sizes ----------------------------------------------------------------------------
    def fit_docks(self) -> None:
        """Give the Input column and the sweep their preferred sizes, as far as the window
        allows: a narrow window keeps room for the feature maps, and enlarging it again gives
        the docks their space back (Qt alone hands all new space to the central widget)."""
        if self._fitting:
            return
        self._fitting = True
        try:
            width = min(self._input_width, max(1, int(INPUT_DOCK_SHARE * self.width())))
            width = max(width, self.input_dock.minimumSizeHint().width())
            height = min(self._sweep_height, max(1, int(SWEEP_DOCK_SHARE * self.height())))
            left = [d for d in (self.input_dock, self.train_dock) if d.isVisible()]
            if left and not left[0].isFloating():
                self.resizeDocks(left[:1], [width], QtCore.Qt.Orientation.Horizontal)
            if self.sweep_dock.isVisible() and not self.sweep_dock.isFloating():
                self.resizeDocks([self.sweep_dock], [height], QtCore.Qt.Orientation.Vertical)
        finally:
            self._fitting = False
        self._fitted_size = self.size()
        self._fitted_at = time.monotonic()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self._laid_out:
            # Qt lays the docks out when the window is first shown: size them then (a first
            # launch), or take the sizes the user left them at as the preferred ones
            QtCore.QTimer.singleShot(0, self._first_layout)

    def _first_layout(self) -> None:
        if self._closed:
            return
        if self._restored:
            left = self.train_dock if self.train_dock.isVisible() else self.input_dock
            self._input_width = left.width() if left.isVisible() else INPUT_DOCK_WIDTH
            visible = self.sweep_dock.isVisible()
            self._sweep_height = self.sweep_dock.height() if visible else SWEEP_DOCK_HEIGHT
            self._fitted_size, self._fitted_at = self.size(), time.monotonic()
        else:
            self.fit_docks()
        self._laid_out = True

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().isValid() and event.oldSize() != event.size():
            self.fit_docks()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # A dock resized while the window keeps its size: the user dragged a separator.
        # Remember the new size as the preferred one (fit_docks keeps to it).
        if (
            event.type() == QtCore.QEvent.Type.Resize
            and self._laid_out
            and not self._fitting
            and self.size() == self._fitted_size
            and time.monotonic() - self._fitted_at > FIT_SETTLE_S
            and isinstance(watched, QtWidgets.QDockWidget)
            and watched.isVisible()
            and not watched.isFloating()
        ):
            if watched in (self.input_dock, self.train_dock):
                self._input_width = watched.width()
            elif watched is self.sweep_dock:
                self._sweep_height = watched.height()
        return super().eventFilter(watched, event)

    # -- requests ------------------------------------------------------------------------------
    def request_frame(self) -> None:
        if not self._closed:
            request = self.state.frame_request()
            self.pending_frame = request.seq
            self.scheduler.submit_frame(request)

    def request_sweep(self) -> None:
        if not self._closed:
            self.sweep.set_stale(True)
            self.scheduler.submit_sweep(self.state.sweep_request())

    # -- state events --------------------------------------------------------------------------
    def _drawing_changed(self) -> None:
        self._update_edit_actions()
        self.request_frame()
        if self.state.drawing.stroke_in_progress:
            self.scheduler.cancel_sweep()  # recomputed once the stroke is finished
            self.sweep.set_stale(True)

    def _drawing_committed(self) -> None:
        self._update_edit_actions()
        source = self.state.drawing.source
        if self.state.drawing.is_empty:
            self.source_label.setText("")
        elif source and not self.state.drawing.strokes:
            self.source_label.setText(source)
        elif source:
            self.source_label.setText(f"{source} + your strokes")
        else:
            self.source_label.setText("your drawing")
        self.request_sweep()

    def _update_edit_actions(self) -> None:
        drawing = self.state.drawing
        undo, redo = drawing.undo_label, drawing.redo_label
        self.act_undo.setText(f"&Undo {undo}" if undo else "&Undo")
        self.act_redo.setText(f"&Redo {redo}" if redo else "&Redo")
        self.brush.undo.setToolTip(f"Undo {undo} (Ctrl+Z)" if undo else "Nothing to undo")
        self.act_undo.setEnabled(drawing.can_undo)
        self.brush.undo.setEnabled(drawing.can_undo)
        self.act_redo.setEnabled(drawing.can_redo)
        self.act_clear.setEnabled(not drawing.is_empty)
        self.brush.clear.setEnabled(not drawing.is_empty)

    def _angle_changed(self, angle: float, request: bool = True) -> None:
        exact = quarter_turns(angle) is not None
        self.angle_status.setText(
            f"θ = {angle:.0f}° · " + ("exact (rot90)" if exact else "interpolated")
        )
        self._update_stabilised_note()
        # The sweep's angle marker moves with the frame, not before it: repainting a plot
        # holds the GIL and would only delay the worker computing that frame.
        if request:
            self.request_frame()

    def _display_changed(self) -> None:
        if self.act_stabilised.isChecked() != self.state.stabilised:
            self.act_stabilised.blockSignals(True)
            self.act_stabilised.setChecked(self.state.stabilised)
            self.act_stabilised.blockSignals(False)
        tracked = self.state.tracked_class
        index = self.sweep.class_box.findData(AUTO if tracked is None else tracked)
        if self.sweep.class_box.currentIndex() != index:
            self.sweep.class_box.blockSignals(True)
            self.sweep.class_box.setCurrentIndex(index)
            self.sweep.class_box.blockSignals(False)
        self.sweep.set_tracked(tracked)
        self._update_stabilised_note()
        self.request_frame()

    def _stabilised_toggled(self, on: bool) -> None:
        self.state.stabilised = on

    def _update_stabilised_note(self) -> None:
        self.rotation.set_stabilised_note(
            stabilised_note(self.state.angle) if self.state.stabilised else ""
        )

    def _spin_toggled(self, on: bool) -> None:
        if self.act_spin.isChecked() != on:
            self.act_spin.blockSignals(True)
            self.act_spin.setChecked(on)
            self.act_spin.blockSignals(False)

    def _panel_changed(self, index: int, request: bool = True) -> None:
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            entry = self.state.panel_entry(index)
            self.panels[index].set_entry(entry)
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if entry.error:
            self.statusBar().showMessage(
                f"{entry.title}: {entry.error}; showing it untrained", 10000
            )
        titles = [self.state.catalog.get(k).title for k in self.state.panel_keys]
        self.setWindowTitle(f"gcnn-viewer — {titles[0]} vs {titles[1]}")
        self._hover = None
        self.inspector.clear()
        self._refresh_selectors()
        if request:
            self.request_frame()
            self.request_sweep()

    def _model_updated(self, entry) -> None:
        """An entry got new weights: a reloaded file, or a snapshot of a model in training.

        A snapshot keeps the colour scales (same probe): then only the texts that changed
        are set and the old sweep stays drawn until the new one arrives, so that following a
        training run costs the event loop little (no relayout, no repaint of every plot)."""
        showing = [i for i in range(2) if self.state.panel_key(i) == entry.key]
        if any(p.selector.findText(entry.label) < 0 for p in self.panels):
            self._refresh_selectors()  # its label changed (a run in the app ended)
        live = True
        for i in showing:
            panel = self.panels[i]
            if entry.probed and panel.entry is entry and panel.maps.probe is entry.probe():
                panel.update_detail(entry)
            elif entry.probed:  # same colour scales: only the values change
                panel.set_entry(entry)
                live = False
            else:
                self._panel_changed(i, request=False)
                live = False
        if showing:
            self.request_frame()
            if live and not self._closed:
                self.scheduler.submit_sweep(self.state.sweep_request())
            else:
                self.request_sweep()

    def _refresh_selectors(self) -> None:
        for panel in self.panels:
            panel.refresh_selector()

    # -- results -------------------------------------------------------------------------------
    def _frame_failed(self, text: str) -> None:
        """A frame could not be computed: the maps on screen belong to an older input, so
        they are marked stale (greyed, with the reason) until a frame succeeds."""
        if self._closed:
            return
        self.failed_text = text
        for panel in self.panels:
            panel.set_stale(text)
        self.sweep.set_stale(True)
        self.statusBar().showMessage(text, 8000)

    def _show_frame(self, result: FrameResult) -> None:
        if self._closed or tuple(p.key for p in result.panels) != self.state.panel_keys:
            return  # made for models no longer shown; a newer request is on its way
        if self.failed_text:
            self.failed_text = ""
            for panel in self.panels:
                panel.set_stale("")
        self.last_frame = result
        self.preview.set_pixels(result.input)
        blank = float(result.input.max()) < BLANK_INPUT
        for panel, frame in zip(self.panels, result.panels, strict=True):
            panel.show_frame(frame, blank)
        self.sweep.set_angle(result.angle, [p.probabilities for p in result.panels])
        self._refresh_inspector()
        self.timing_status.setText(f"frame {result.compute_ms:.1f} ms")
        self.frameShown.emit(result)

    def _show_sweep(self, result: SweepResult) -> None:
        if self._closed or result.version != self.state.drawing.version:
            return
        keys = self.state.panel_keys
        if any(k not in result.probabilities for k in keys):
            return
        self.last_sweep = result
        titles = tuple(self.state.catalog.get(k).title for k in keys)
        if titles[0] == titles[1]:
            titles = (f"{titles[0]} (left)", f"{titles[1]} (right)")
        self.sweep.set_sweep(result, keys, titles, self.state.tracked_class)
        if self.last_frame is not None:
            self.sweep.set_angle(
                self.last_frame.angle, [p.probabilities for p in self.last_frame.panels]
            )
        self.sweepShown.emit(result)

    # -- hover ---------------------------------------------------------------------------------
    def _hovered(self, index: int, hit) -> None:
        if hit is None:
            return
        other = self.panels[1 - index].maps
        other.set_hover(None)
        layer, pixel = hit
        self._hover = (index, layer, pixel)
        self._refresh_inspector()

    def _refresh_inspector(self) -> None:
        if self._hover is None or self.last_frame is None:
            return
        index, layer, pixel = self._hover
        panel = self.panels[index]
        probe = panel.maps.probe
        frame = self.last_frame.panels[index].layers.get(layer)
        if probe is None or frame is None or layer not in probe.layouts:
            return
        self.inspector.show_map(
            panel.entry.title,
            probe.layouts[layer],
            probe.scales[layer],
            frame,
            pixel,
            self.last_frame.stabilised,
        )
        self.statusBar().showMessage(
            f"{panel.entry.title} {layer}: channel {pixel.channel}"
            + (
                f", {probe.layouts[layer].orientation_label(pixel.orientation)}"
                if probe.layouts[layer].is_group
                else ""
            )
            + f", pixel ({pixel.y}, {pixel.x}) = "
            f"{float(frame.data[pixel.channel, pixel.orientation, pixel.y, pixel.x]):.3g}",
            4000,
        )

    # -- user commands ---------------------------------------------------------------------------
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

    def open_image(self, path: str | Path | None = None) -> bool:
        """Load a digit image (dialog when ``path`` is None); a bad file gets a one-line
        message and changes nothing."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Open a digit image", self._last_dir(), IMAGE_FILTER
            )
            if not path:
                return False
        path = Path(path)
        try:
            image = load_image_file(path)
        except DigitImageError as exc:
            show_error(self, "Cannot open image", str(exc))
            return False
        self.settings.setValue("files/last_dir", str(path.parent))
        self.state.drawing.set_image(image, path.name)
        how = (
            "28×28: used as is (MNIST format)"
            if image.shape == (28, 28)
            else f"{image.shape[1]}×{image.shape[0]}: fitted into 20×20 and centred like MNIST"
        )
        self.statusBar().showMessage(f"Opened {path.name} ({how}). Ctrl+Z goes back.", 8000)
        return True

    def open_model(self, path: str | Path | None = None, panel: int = 1) -> bool:
        """Load a checkpoint our CLI wrote into ``panel`` (dialog when ``path`` is None); a
        corrupt, foreign or mismatched file gets a one-line dialog and changes nothing."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Open a model checkpoint", self._last_dir(), MODEL_FILTER
            )
            if not path:
                return False
        path = Path(path)
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            entry = self.state.catalog.open_checkpoint(path)
        except CheckpointError as exc:
            QtWidgets.QApplication.restoreOverrideCursor()
            show_error(self, "Cannot open model", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001  anything else a file can do: one line, go on
            QtWidgets.QApplication.restoreOverrideCursor()
            show_error(self, "Cannot open model", f"{path.name}: {exc}")
            return False
        QtWidgets.QApplication.restoreOverrideCursor()
        self.settings.setValue("files/last_dir", str(path.parent))
        if self.state.panel_key(panel) != entry.key:  # (reopened: shown via catalog.changed)
            self.state.set_panel(panel, entry.key)
        side = "left" if panel == 0 else "right"
        self.statusBar().showMessage(f"Opened {entry.title} from {path.name} ({side} panel)", 8000)
        return True

    def save_model(self, path: str | Path | None = None, panel: int = 1) -> bool:
        """Write ``panel``'s model as a checkpoint in our format (dialog when ``path`` is
        None); a model opened from or trained to a file is copied with its metadata."""
        entry = self.state.panel_entry(panel)
        if path is None:
            suggested = entry.path.name if entry.path is not None else f"{entry.arch}.pt"
            start = str(Path(self._last_dir() or ".") / suggested)
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Save the model as a checkpoint", start, MODEL_FILTER
            )
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
            path = path.with_suffix(".pt")
        try:
            save_model_file(entry.model, path, source=entry.path)
        except Exception as exc:  # noqa: BLE001  disk full, no permission…: one line, go on
            show_error(self, "Cannot save model", f"{path.name}: {exc}")
            return False
        self.settings.setValue("files/last_dir", str(path.parent))
        self.statusBar().showMessage(f"Saved {entry.title} to {path}", 8000)
        return True

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

    def _last_dir(self) -> str:
        value = self.settings.value("files/last_dir", "")
        return value if isinstance(value, str) else ""

    # -- drag and drop -------------------------------------------------------------------------
    @staticmethod
    def _dropped_path(event) -> Path | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        urls = [u for u in mime.urls() if u.isLocalFile()]
        return Path(urls[0].toLocalFile()) if urls else None

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        path = self._dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        if path.suffix.lower() in CHECKPOINT_SUFFIXES:
            pos = event.position().toPoint()
            over_left = (
                self.panels[0].geometry().contains(self.panels[0].parentWidget().mapFrom(self, pos))
            )
            self.open_model(path, panel=0 if over_left else 1)
        else:
            self.open_image(path)

    # -- teardown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the spin timer and the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.rotation.set_spinning(False)
        self.train_panel.shutdown()
        self.worker.stop()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if (
            not self._closed
            and self.train_panel.running
            and not ask(
                self,
                "Stop training?",
                "A model is training. Stop it and quit? Its weights so far are saved as a "
                "checkpoint.",
            )
        ):
            event.ignore()
            return
        if not self._closed:
            self._save_settings()
        self.shutdown()
        super().closeEvent(event)


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)

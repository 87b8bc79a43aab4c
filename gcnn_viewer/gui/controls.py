"""Input-side controls: rotation (dial, slider, ±90°, spin), brush, test-digit browser."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.data import DataError
from gcnn_viewer.data.digits import quarter_turns
from gcnn_viewer.gui.style import small_font
from gcnn_viewer.viewer.browser import DigitBrowser, cached_mnist_rot
from gcnn_viewer.viewer.drawing import MAX_BRUSH, MIN_BRUSH
from gcnn_viewer.viewer.inference import finer_panels, stabilised_note
from gcnn_viewer.viewer.state import ViewerState

SPIN_STEP = 2  # degrees per tick while spinning (a divisor of 90: every quarter turn is hit)
SPIN_INTERVAL_MS = 30
ANGLE_TYPED_LIMIT = 999  # the angle box takes −999 … 999 and shows it modulo 360
EXACT_NOTE = (
    "Only multiples of 90° are exact symmetries of the pixel grid (a pure rot90, no "
    "interpolation). Other angles are resampled from a 4× finer digit, so they are close "
    "to — not exactly — a rotation."
)


class AngleSpinBox(QtWidgets.QSpinBox):
    """The angle box: any whole angle from −999° to 999° may be typed (−30, 400); the angle
    follows as it is typed, and the box shows it in 0…359° once editing ends (Enter, focus
    out) or an arrow steps it (359 → 0). A range of 0…359 dropped the minus sign of −30
    and turned 400 into 40."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(-ANGLE_TYPED_LIMIT, ANGLE_TYPED_LIMIT)
        self.editingFinished.connect(self.normalise)

    def normalise(self) -> None:
        if self.value() != self.value() % 360:
            self.setValue(self.value() % 360)  # the same angle: the state does not change

    def stepBy(self, steps: int) -> None:  # noqa: N802
        super().stepBy(steps)
        self.normalise()


class RotationControls(QtWidgets.QGroupBox):
    """Dial, slider and spin box for any angle in 1° steps; ±90° buttons; a spin toggle."""

    def __init__(self, state: ViewerState, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Rotate the input", parent)
        self.state = state
        self.setObjectName("rotationControls")
        self._make_angle_inputs()
        self._make_buttons()
        self._make_stabilised()
        # why only quarter turns are exact: on the "exact / interpolated" label, the dial and
        # the slider (three lines under the controls pushed the browser below the fold)
        for widget in (self.exact, self.dial, self.slider):
            widget.setToolTip(f"{widget.toolTip()}\n{EXACT_NOTE}".strip())
        self._lay_out()

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(SPIN_INTERVAL_MS)
        self.timer.timeout.connect(self._tick)

        self.dial.valueChanged.connect(lambda v: self._set_angle(self._from_dial(v)))
        self.slider.valueChanged.connect(self._set_angle)
        self.spin.valueChanged.connect(self._set_angle)
        self.minus.clicked.connect(lambda: state.rotate_quarter(-1))
        self.plus.clicked.connect(lambda: state.rotate_quarter(+1))
        self.play.toggled.connect(lambda on: self.set_spinning(bool(on)))
        self.stabilised.toggled.connect(lambda on: setattr(state, "stabilised", bool(on)))
        self._exact: bool | None = None
        state.angle_changed.connect(self.sync)
        state.stabilised_changed.connect(self._stabilised_changed)
        state.panel_changed.connect(lambda _index: self._update_note())
        self.sync(state.angle)

    def _make_angle_inputs(self) -> None:
        """Dial, slider and angle box: three ways to the same angle."""
        self.dial = QtWidgets.QDial()
        self.dial.setObjectName("angleDial")
        self.dial.setRange(0, 359)
        self.dial.setWrapping(True)
        self.dial.setNotchesVisible(True)
        self.dial.setNotchTarget(15)
        self.dial.setFixedSize(92, 92)
        self.dial.setToolTip("Drag to turn the digit (counter-clockwise is positive)")
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("angleSlider")
        self.slider.setRange(0, 359)
        self.slider.setTickInterval(90)
        self.slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(90)
        self.slider.setToolTip("Angle θ in 1° steps")
        self.spin = AngleSpinBox()
        self.spin.setObjectName("angleSpin")
        self.spin.setSuffix("°")
        self.spin.setPrefix("θ = ")
        self.spin.setToolTip(
            "Type an angle and press Enter; negative angles and angles of 360° or more "
            "are turned into 0…359° (−30 → 330)"
        )

    def _make_buttons(self) -> None:
        """±90°, Spin, and whether the angle is exact (a quarter turn) or interpolated."""
        self.minus = QtWidgets.QPushButton("⟲ −90°")
        self.minus.setObjectName("minus90")
        self.minus.setToolTip("Back to the previous multiple of 90° (exact: rot90)  [ [ ]")
        self.plus = QtWidgets.QPushButton("+90° ⟳")
        self.plus.setObjectName("plus90")
        self.plus.setToolTip("On to the next multiple of 90° (exact: rot90)  [ ] ]")
        self.play = QtWidgets.QPushButton("▶ Spin")
        self.play.setObjectName("spin")
        self.play.setCheckable(True)
        self.play.setToolTip("Turn the digit continuously  [P]")
        self.exact = QtWidgets.QLabel("")
        self.exact.setObjectName("exactness")
        self.exact.setFont(small_font(-1))
        metrics = QtGui.QFontMetrics(self.exact.font())
        self.exact.setFixedSize(
            metrics.horizontalAdvance("exact (rot90)  ") + 4, metrics.height() + 2
        )

    def _make_stabilised(self) -> None:
        """The Stabilised view box and the note saying which turn it undoes."""
        self.stabilised = QtWidgets.QCheckBox("Stabilised view")
        self.stabilised.setObjectName("stabilised")
        self.stabilised.setToolTip(
            "Rotate every feature map back by the input's rotation (nearest multiple of 90°) "
            "and undo the shift of the orientation channels. An equivariant network's maps "
            "then stand still; a plain CNN's change.  [S]"
        )
        self.stabilised_note = QtWidgets.QLabel("")
        self.stabilised_note.setObjectName("stabilisedNote")
        self.stabilised_note.setFont(small_font(-1.5))
        self.stabilised_note.setWordWrap(True)
        self.stabilised_note.setStyleSheet("color:#1b5e9a")
        # room for two lines whether or not it says anything: a changing text must not
        # relayout the dock while the dial turns
        self.stabilised_note.setFixedHeight(
            2 * QtGui.QFontMetrics(self.stabilised_note.font()).lineSpacing() + 2
        )
        self.stabilised_note.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed
        )

    def _lay_out(self) -> None:
        right = QtWidgets.QGridLayout()
        right.addWidget(self.spin, 0, 0, 1, 2)
        right.addWidget(self.minus, 1, 0)
        right.addWidget(self.plus, 1, 1)
        right.addWidget(self.play, 2, 0)
        right.addWidget(self.exact, 2, 1)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.dial)
        top.addLayout(right, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.slider)
        layout.addWidget(self.stabilised)
        layout.addWidget(self.stabilised_note)

    # The dial's 0 is at six o'clock and grows clockwise; show θ = 0 at twelve o'clock and
    # let it grow counter-clockwise, as the digit turns.
    @staticmethod
    def _to_dial(angle: float) -> int:
        return round(180 - angle) % 360

    @staticmethod
    def _from_dial(value: int) -> int:
        return (180 - value) % 360

    def _set_angle(self, value: int) -> None:
        if round(self.state.angle) % 360 != value % 360:
            self.state.angle = value % 360

    def sync(self, angle: float) -> None:
        value = round(angle) % 360
        for widget, v in (
            (self.dial, self._to_dial(angle)),
            (self.slider, value),
            (self.spin, value),
        ):
            # (the angle box may hold −30 or 400 while it is typed in: the same angle)
            if widget.value() % 360 != v:
                with QtCore.QSignalBlocker(widget):
                    widget.setValue(v)
        exact = quarter_turns(angle) is not None
        if exact != self._exact:  # a style sheet change re-polishes: only when it flips
            self._exact = exact
            self.exact.setText("exact (rot90)" if exact else "interpolated")
            self.exact.setStyleSheet("color:#1b7a2f" if exact else "color:#9a6700")
        self._update_note()

    def _update_note(self) -> None:
        """Which quarter turn the stabilised view undoes at this angle (nothing when off)."""
        state = self.state
        text = ""
        if state.stabilised:
            entries = [state.catalog.get(key) for key in state.panel_keys]
            text = stabilised_note(state.angle, *finer_panels(entries))
        if self.stabilised_note.text() != text:
            self.stabilised_note.setText(text)

    def _stabilised_changed(self, on: bool) -> None:
        if self.stabilised.isChecked() != on:
            with QtCore.QSignalBlocker(self.stabilised):
                self.stabilised.setChecked(on)
        self._update_note()

    def set_spinning(self, on: bool) -> None:
        if self.play.isChecked() != on:
            self.play.setChecked(on)  # re-enters through toggled
            return
        self.play.setText("❚❚ Stop" if on else "▶ Spin")
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        self.state.angle = (round(self.state.angle) + SPIN_STEP) % 360


class BrushControls(QtWidgets.QWidget):
    """Brush size, undo, clear."""

    def __init__(self, state: ViewerState, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.size = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.size.setObjectName("brushSize")
        self.size.setRange(round(MIN_BRUSH * 100), round(MAX_BRUSH * 100))
        self.size.setValue(round(state.brush * 100))
        self.size.setToolTip("Brush diameter (% of the canvas)")
        self.size.valueChanged.connect(lambda v: setattr(state, "brush", v / 100))
        state.brush_changed.connect(self._brush_changed)
        self.undo = QtWidgets.QToolButton()
        self.undo.setObjectName("undoButton")
        self.clear = QtWidgets.QToolButton()
        self.clear.setObjectName("clearButton")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QtWidgets.QLabel("Brush"))
        layout.addWidget(self.size, 1)
        layout.addWidget(self.undo)
        layout.addWidget(self.clear)

    def _brush_changed(self, size: float) -> None:
        if self.size.value() != round(size * 100):
            with QtCore.QSignalBlocker(self.size):
                self.size.setValue(round(size * 100))


class TestDigitBrowser(QtWidgets.QGroupBox):
    """Previous / next / index over the MNIST-rot test digits, when the cache holds them.

    ``digitChosen(image, description)`` asks to load a digit into the canvas.
    """

    digitChosen = QtCore.Signal(object, str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("MNIST-rot test digits", parent)
        self.setObjectName("testDigitBrowser")
        self.browser: DigitBrowser | None = None
        self._path = cached_mnist_rot()
        self.prev = QtWidgets.QToolButton()
        self.prev.setText("◀")
        self.prev.setObjectName("previousDigit")
        self.prev.setToolTip("Previous test digit  [PgUp]")
        self.next = QtWidgets.QToolButton()
        self.next.setText("▶")
        self.next.setObjectName("nextDigit")
        self.next.setToolTip("Next test digit  [PgDown]")
        self.index = QtWidgets.QSpinBox()
        self.index.setObjectName("digitIndex")
        self.index.setRange(0, 49_999)
        self.index.setKeyboardTracking(False)
        self.index.setToolTip("Index in the MNIST-rot test split")
        self.info = QtWidgets.QLabel("")
        self.info.setObjectName("digitInfo")
        self.info.setWordWrap(True)
        self.info.setFont(small_font(-1))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.prev)
        row.addWidget(self.index, 1)
        row.addWidget(self.next)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setSpacing(3)
        layout.addLayout(row)
        layout.addWidget(self.info)
        self.prev.clicked.connect(lambda: self.step(-1))
        self.next.clicked.connect(lambda: self.step(+1))
        self.index.valueChanged.connect(lambda i: self.show_index(int(i)))
        self._problem = ""  # why the cached data cannot be used, if it cannot
        self.shown: int | None = None  # the index of the digit last loaded from here
        self._show_availability()

    def _show_availability(self) -> None:
        if self._path is None and self.browser is None:
            self._set_enabled(False)
            self.info.setText(
                self._problem
                or "MNIST-rot is not in the data cache. Fetch it in the Train panel (Ctrl+T) "
                "or run <code>gcnn-viewer data fetch</code> to browse its 50,000 test digits."
            )
        else:
            self._set_enabled(True)
            self.info.setText("Press ◀ / ▶ (PgUp / PgDown) or type an index to load a test digit.")

    @property
    def available(self) -> bool:
        return self.browser is not None or self._path is not None

    def refresh(self) -> bool:
        """Look in the data cache again (e.g. after a fetch); True when digits are there."""
        if self.browser is None:
            self._path = cached_mnist_rot()
            if self._path is not None:
                self._problem = ""
            self._show_availability()
        return self.available

    def unavailable_reason(self) -> str:
        """One line for the status bar: why there is no test digit to show."""
        if self._problem:
            return self._problem
        return (
            "No MNIST-rot test digits: the data cache has none. Fetch them in the Train "
            "panel (Ctrl+T) or run: gcnn-viewer data fetch"
        )

    def _set_enabled(self, on: bool) -> None:
        for w in (self.prev, self.next, self.index):
            w.setEnabled(on)

    def set_browser(self, browser: DigitBrowser | None) -> None:
        """Use ``browser`` (e.g. a different data set); None disables the group."""
        self.browser = browser
        self._set_enabled(browser is not None)
        if browser is not None:
            with QtCore.QSignalBlocker(self.index):
                self.index.setRange(0, len(browser) - 1)
                self.index.setValue(browser.index)

    def _ensure(self) -> bool:
        if self.browser is not None:
            return True
        if self._path is None:
            return False
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            self.set_browser(DigitBrowser.from_cache())
        except DataError as exc:
            self._path = None
            self._problem = f"MNIST-rot in the cache is unusable: {exc}"
            self._show_availability()
            return False
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        return self.browser is not None

    def step(self, delta: int) -> bool:
        """Load the digit ``delta`` away; False (nothing changes) when there is no data.
        Before any digit was loaded from here, ▶ loads the one the index box shows (from
        index 0: digit #0, which it skipped); ◀ goes back from it (to the last digit)."""
        if not self._ensure():
            self.refresh()  # fetched since (from the Train panel, or the CLI)?
            if not self._ensure():
                return False
        start = self.browser.index
        first = self.shown is None and delta > 0
        self.show_index(start if first else start + delta)
        return True

    def show_index(self, index: int) -> None:
        if not self._ensure():
            return
        self.browser.index = index
        i = self.browser.index
        if self.index.value() != i:
            with QtCore.QSignalBlocker(self.index):
                self.index.setValue(i)
        text = self.browser.describe()
        self.info.setText(text)
        self.shown = i
        self.digitChosen.emit(self.browser.image(), text)

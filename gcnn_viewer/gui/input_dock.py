"""The Input dock's content: the drawing canvas beside the 28×28 model input, the brush, the
example digits, the rotation controls and the MNIST-rot test-digit browser."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.canvas import DrawingCanvas, InputPreview
from gcnn_viewer.gui.controls import BrushControls, RotationControls, TestDigitBrowser
from gcnn_viewer.gui.style import small_font
from gcnn_viewer.viewer.models import sample_title
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.window_texts import source_text

EXAMPLES_PER_ROW = 10  # more example digits than this: two rows (ten fit the column's width)
CANVAS_MAX = 16_777_215  # Qt's QWIDGETSIZE_MAX: no limit


def scrolling(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a vertical scroll area: short windows scroll rather than clip."""
    scroll = QtWidgets.QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # not a Tab stop of its own (it showed no focus): its content's widgets are
    scroll.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    fit = getattr(widget, "fit_height", None)
    if fit is not None:  # the widget adapts to the height on show (a smaller canvas)
        scroll.viewport().installEventFilter(_HeightFollower(scroll, fit))
    return scroll


class _HeightFollower(QtCore.QObject):
    """Tells ``fit(height)`` the scroll area's visible height whenever it changes."""

    def __init__(self, parent: QtCore.QObject, fit) -> None:
        super().__init__(parent)
        self.fit = fit

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Resize:
            self.fit(event.size().height())
        return False


class WrappedLabel(QtWidgets.QLabel):
    """A word-wrapped label of fixed width that asks for the height its text needs: in a
    column beside the canvas a plain wrapped label got one line's height and its text ran
    over the 28×28 thumbnail above it."""

    def __init__(self, width: int, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setFixedWidth(width)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt's name)
        super().setText(text)
        self.setMinimumHeight(self.heightForWidth(self.width()))


class InputPanel(QtWidgets.QWidget):
    """``sampleChosen(name)``: an example button was clicked (the panel loads it). The
    browser's digits, the examples and the canvas's strokes go straight into
    ``state.drawing``; ``status_bar`` says what was loaded, or why there is no test digit."""

    sampleChosen = QtCore.Signal(str)

    def __init__(
        self,
        state: ViewerState,
        samples: Mapping[str, np.ndarray],
        status_bar: QtWidgets.QStatusBar,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inputPanel")
        self.state, self.samples, self.status_bar = state, samples, status_bar
        self.sampleChosen.connect(self.load_sample)
        self.canvas = DrawingCanvas(state)
        self.preview = InputPreview()
        self.brush = BrushControls(state)
        self.rotation = RotationControls(state)
        self.browser = TestDigitBrowser()
        self.browser.digitChosen.connect(lambda img, text: state.drawing.set_image(img, text))

        # two short lines: the column under it must fit beside a small canvas (1024×768)
        preview_title = QtWidgets.QLabel("<b>Model input</b> 28×28")
        preview_title.setToolTip("The 28×28 image the models see: centred and scaled like MNIST")
        preview_title.setFont(small_font(-1))
        preview_title.setWordWrap(True)
        preview_title.setFixedWidth(self.preview.width())
        self.source_label = WrappedLabel(self.preview.width())
        self.source_label.setObjectName("sourceLabel")
        self.source_label.setWordWrap(True)
        self.source_label.setFont(small_font(-1.5))
        self.source_label.setStyleSheet("color:#606060")
        # where the input came from: said once a stroke ends or an image replaces it
        drawing = state.drawing
        drawing.committed.connect(lambda: self.source_label.setText(source_text(drawing)))
        preview_col = QtWidgets.QVBoxLayout()
        preview_col.addWidget(preview_title)
        preview_col.addWidget(self.preview)
        preview_col.addWidget(self.source_label)
        preview_col.addStretch(1)
        draw_row = QtWidgets.QHBoxLayout()
        draw_row.addWidget(self.canvas, 1)
        draw_row.addLayout(preview_col)

        # One row of buttons, or two when there are many: ten in a row would set the Input
        # column's minimum width above its preferred one, and it could no longer give way
        # to the feature maps in a narrow window.
        samples = list(samples)
        per_row = len(samples) if len(samples) <= EXAMPLES_PER_ROW else -(-len(samples) // 2)
        examples = QtWidgets.QGridLayout()
        examples.setHorizontalSpacing(2)
        examples.setVerticalSpacing(2)
        examples.addWidget(QtWidgets.QLabel("Examples:"), 0, 0)
        for i, name in enumerate(samples):
            button = QtWidgets.QToolButton()
            button.setText(name.split("-")[0])
            button.setToolTip(f"Load the MNIST test digit {sample_title(name)}")
            button.setObjectName(f"sample_{name}")
            button.clicked.connect(lambda _=False, n=name: self.sampleChosen.emit(n))
            examples.addWidget(button, i // max(1, per_row), 1 + i % max(1, per_row))
        examples.setColumnStretch(1 + max(1, per_row), 1)

        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(6)
        col.addLayout(draw_row)
        col.addWidget(self.brush)
        col.addLayout(examples)
        col.addWidget(self.rotation)
        col.addWidget(self.browser)
        col.addStretch(1)

    def load_sample(self, name: str) -> None:
        image = self.samples.get(name)
        if image is not None:
            self.state.drawing.set_image(image, f"sample {sample_title(name)}")
            self.status_bar.showMessage(f"Loaded the sample digit {sample_title(name)}", 5000)

    def step_digit(self, delta: int) -> None:
        """PgUp / PgDown: the previous / next MNIST-rot test digit, or why there is none."""
        if not self.browser.step(delta):
            self.status_bar.showMessage(self.browser.unavailable_reason(), 10000)

    def data_ready(self) -> None:
        """MNIST-rot was fetched (Train panel): the test-digit browser can use it now."""
        if self.browser.refresh():
            self.status_bar.showMessage(
                "MNIST-rot is in the cache: PgUp / PgDown browse its test digits", 8000
            )

    def fit_height(self, available: int) -> None:
        """The canvas gives way (down to its minimum) so that the controls under it, the
        rotation and the MNIST-rot browser, are on screen in a short window (1024×768)."""
        canvas = self.canvas
        others = self.minimumSizeHint().height() - canvas.minimumHeight()
        side = max(canvas.minimumHeight(), min(CANVAS_MAX, available - others))
        if canvas.maximumHeight() != side:
            canvas.setMaximumHeight(side)

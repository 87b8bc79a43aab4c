"""The drawing canvas and the 28×28 model-input preview."""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.style import grey_qimage, small_font
from gcnn_viewer.viewer.state import ViewerState

FOCUS_CLICK_S = 0.25  # a press this soon after the canvas got the focus by a click: focusing


class DrawingCanvas(QtWidgets.QWidget):
    """Draw with the left mouse button or a pen (Qt turns pen input into mouse events).

    White ink on black, as the models see digits. Strokes are stored in the Qt-free
    :class:`~gcnn_viewer.viewer.drawing.Drawing` as canvas fractions, so the canvas can be
    any size; it paints the largest centred square.
    """

    def __init__(self, state: ViewerState, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("drawingCanvas")
        self.setMinimumSize(140, 140)  # gives way in a short window (1024×768, a projector)
        policy = QtWidgets.QSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        # takes the keyboard focus, so single-key shortcuts ([, ], S, P) work while drawing
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setToolTip(
            "Draw a digit with the left mouse button or a pen.\n"
            "Ctrl+Z undoes a stroke, Delete clears. It is centred and scaled like MNIST "
            "before the models see it."
        )
        # A press on the canvas while it lacks the keyboard focus may be a click to give it
        # the focus: it inks only once the mouse moves with the button held, so a focusing
        # click leaves no dot.
        self._focus_press: tuple[float, float] | None = None
        self._focused_at = -1.0  # when a click or window activation gave us the focus
        self._background_key: tuple[int, int] | None = None
        self._background: QtGui.QPixmap | None = None
        state.drawing.changed.connect(self.update)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(250, 250)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    # -- geometry ---------------------------------------------------------------------------
    def square(self) -> QtCore.QRectF:
        side = min(self.width(), self.height())
        return QtCore.QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_canvas(self, pos: QtCore.QPointF) -> tuple[float, float]:
        sq = self.square()
        x = (pos.x() - sq.left()) / sq.width()
        y = (pos.y() - sq.top()) / sq.height()
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    # -- input ------------------------------------------------------------------------------
    def focusInEvent(self, event: QtGui.QFocusEvent) -> None:
        # Qt gives a click-focus widget the focus *before* it delivers the press: remember
        # when, so that the press can tell it was the click that focused the canvas
        if event.reason() in (
            QtCore.Qt.FocusReason.MouseFocusReason,
            QtCore.Qt.FocusReason.ActiveWindowFocusReason,
        ):
            self._focused_at = time.monotonic()
        super().focusInEvent(event)
        self.update()  # the focus frame

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.update()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            x, y = self.to_canvas(event.position())
            just_focused = time.monotonic() - self._focused_at < FOCUS_CLICK_S
            self._focused_at = -1.0
            if self.hasFocus() and not just_focused:
                self._focus_press = None
                self.state.drawing.begin_stroke(x, y, self.state.brush)
            else:
                self._focus_press = (x, y)
                self.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            x, y = self.to_canvas(event.position())
            if self.state.drawing.stroke_in_progress:
                self.state.drawing.extend_stroke(x, y)
            elif self._focus_press is not None:  # a focusing press turned into a stroke
                self.state.drawing.begin_stroke(*self._focus_press, self.state.brush)
                self._focus_press = None
                self.state.drawing.extend_stroke(x, y)
            else:  # a press we did not see (e.g. started outside): start here
                self.state.drawing.begin_stroke(x, y, self.state.brush)
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._focus_press = None  # released without moving: it only focused
            self.state.drawing.end_stroke()
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    # -- painting ---------------------------------------------------------------------------
    def _background_pixmap(self, side: int) -> QtGui.QPixmap | None:
        """The background image smoothly scaled to the canvas, once per image and size."""
        background = self.state.drawing.background
        if background is None:
            return None
        key = (id(background), side)
        if self._background_key != key:
            self._background_key = key
            image = grey_qimage(background).scaled(
                side,
                side,
                QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                QtCore.Qt.TransformationMode.SmoothTransformation,
            )
            self._background = QtGui.QPixmap.fromImage(image)
        return self._background

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        sq = self.square()
        painter.fillRect(self.rect(), self.palette().window())
        painter.fillRect(sq, QtCore.Qt.GlobalColor.black)
        pixmap = self._background_pixmap(round(sq.width()))
        if pixmap is not None:
            painter.drawPixmap(sq.topLeft(), pixmap)
        side = sq.width()
        for stroke in self.state.drawing.strokes:
            pen = QtGui.QPen(QtGui.QColor("white"), stroke.width * side)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            points = [
                QtCore.QPointF(sq.left() + x * side, sq.top() + y * side) for x, y in stroke.points
            ]
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                painter.drawPolyline(points)
        if self.state.drawing.is_empty:
            painter.setPen(QtGui.QColor("#9a9a9a"))
            text = "Draw a digit here\n(left mouse button or pen)"
            font = small_font(+2)
            for delta in (+2, +1, 0, -1, -2):  # the largest that fits a small canvas
                font = small_font(delta)
                wide = QtGui.QFontMetrics(font).boundingRect(
                    QtCore.QRect(), QtCore.Qt.AlignmentFlag.AlignCenter, text
                )
                if wide.width() <= sq.width() - 8:
                    break
            painter.setFont(font)
            painter.drawText(sq, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        if self.hasFocus():  # the keyboard focus is here: a Tab stop must show it
            painter.setPen(QtGui.QPen(self.palette().highlight().color(), 3))
            painter.drawRect(sq.adjusted(1.5, 1.5, -1.5, -1.5))
        else:
            painter.setPen(QtGui.QPen(QtGui.QColor("#808080"), 1))
            painter.drawRect(sq.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()


class InputPreview(QtWidgets.QWidget):
    """The 28×28 image the models actually see, pixel by pixel."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputPreview")
        self.setFixedSize(112, 112)  # 4 screen pixels per model pixel
        self.setToolTip(
            "The 28×28 model input: your drawing fitted into 20×20 and centred by its centre "
            "of mass (as MNIST was made), then rotated by θ."
        )
        self._image: QtGui.QImage | None = None
        self.pixels: np.ndarray | None = None

    def set_pixels(self, pixels: np.ndarray) -> None:
        self.pixels = pixels
        self._image = grey_qimage(pixels)
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        rect = QtCore.QRectF(self.rect())
        painter.fillRect(rect, QtCore.Qt.GlobalColor.black)
        if self._image is not None:
            painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._image)
        painter.setPen(QtGui.QPen(QtGui.QColor("#808080"), 1))
        painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

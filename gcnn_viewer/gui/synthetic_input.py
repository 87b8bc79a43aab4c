"""Synthetic mouse input, as a user's hand makes it: one home for the tests, the screenshot
script and the interaction benchmark (which must not import tests/).

``qtbot.mouseMove`` / ``QTest.mouseMove`` send a move with no button held, so a drag cannot be
made with them: these send the press, the moves *with the button held* and the release that
a real drag delivers, as pyqtgraph's own tests do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

LEFT = QtCore.Qt.MouseButton.LeftButton
NO_BUTTON = QtCore.Qt.MouseButton.NoButton
PRESS = QtCore.QEvent.Type.MouseButtonPress
MOVE = QtCore.QEvent.Type.MouseMove
RELEASE = QtCore.QEvent.Type.MouseButtonRelease

Point = QtCore.QPointF | QtCore.QPoint | tuple[float, float]


def _point(pos: Point) -> QtCore.QPointF:
    return QtCore.QPointF(*pos) if isinstance(pos, tuple) else QtCore.QPointF(pos)


def mouse(
    widget: QtWidgets.QWidget,
    kind: QtCore.QEvent.Type,
    pos: Point,
    button: QtCore.Qt.MouseButton,
    buttons: QtCore.Qt.MouseButton,
    modifiers: QtCore.Qt.KeyboardModifier = QtCore.Qt.KeyboardModifier.NoModifier,
) -> QtGui.QMouseEvent:
    """Deliver one mouse event at widget position ``pos`` carrying ``buttons`` (the buttons
    held) and return it (``isAccepted()`` tells whether the widget took it)."""
    pos = _point(pos)
    event = QtGui.QMouseEvent(
        kind, pos, QtCore.QPointF(widget.mapToGlobal(pos.toPoint())), button, buttons, modifiers
    )
    QtWidgets.QApplication.sendEvent(widget, event)
    return event


def press(widget: QtWidgets.QWidget, pos: Point) -> QtGui.QMouseEvent:
    return mouse(widget, PRESS, pos, LEFT, LEFT)


def move_held(widget: QtWidgets.QWidget, pos: Point) -> QtGui.QMouseEvent:
    """A move with the left button held (a drag in progress)."""
    return mouse(widget, MOVE, pos, NO_BUTTON, LEFT)


def release(widget: QtWidgets.QWidget, pos: Point) -> QtGui.QMouseEvent:
    return mouse(widget, RELEASE, pos, LEFT, NO_BUTTON)


def hover_at(widget: QtWidgets.QWidget, pos: Point) -> QtGui.QMouseEvent:
    """A move with no button held (the pointer passing over)."""
    return mouse(widget, MOVE, pos, NO_BUTTON, NO_BUTTON)


def drag(widget: QtWidgets.QWidget, points: Iterable[Point]) -> None:
    """Press the left button at the first point, move through the rest with it held, release
    at the last."""
    points = [_point(p) for p in points]
    press(widget, points[0])
    for p in points[1:]:
        move_held(widget, p)
    release(widget, points[-1])


def canvas_points(canvas, fractions: Sequence[tuple[float, float]]) -> list[QtCore.QPointF]:
    """Widget positions of fractions ``(x, y)`` of a drawing canvas's square (its
    ``square()``: the largest centred square, where the strokes go)."""
    square = canvas.square()
    return [
        QtCore.QPointF(square.left() + x * square.width(), square.top() + y * square.height())
        for x, y in fractions
    ]

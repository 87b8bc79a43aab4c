"""Small widgets shared by the views."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


class ElidedLabel(QtWidgets.QLabel):
    """A one-line label that shows "…" where its text does not fit, never widening its
    parent; ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt's name)
        self._full = text
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = QtGui.QFontMetrics(self.font())
        shown = metrics.elidedText(self._full, QtCore.Qt.TextElideMode.ElideRight, self.width())
        super().setText(shown)


def fixed_label(name: str, width: int, tip: str = "") -> QtWidgets.QLabel:
    """A label of fixed size: a text that changes every frame (the status bar's angle and
    timing) must not relayout the window."""
    label = QtWidgets.QLabel("")
    label.setObjectName(name)
    label.setFixedSize(width, label.sizeHint().height())
    label.setToolTip(tip)
    return label

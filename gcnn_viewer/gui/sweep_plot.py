"""Probability of the tracked class over input angles 0–360°, both models, current angle marked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.style import (
    cache_plot,
    cache_static,
    configure_pyqtgraph,
    make_plot,
    small_font,
)
from gcnn_viewer.gui.widgets import ElidedLabel
from gcnn_viewer.viewer.inference import SweepResult

AUTO = -1


class SweepPlot(QtWidgets.QWidget):
    """``classChosen(cls)``: -1 for "each model's top class at 0°", else 0..9;
    ``exportRequested()``: *Export plot…* chosen in the plot's context menu."""

    classChosen = QtCore.Signal(int)
    exportRequested = QtCore.Signal()

    def __init__(self, colours: tuple[str, ...], parent: QtWidgets.QWidget | None = None):
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("sweepPlot")
        self.colours = colours
        self.result: SweepResult | None = None
        self._stale: bool | None = None
        self.classes: list[int] = [0] * len(colours)

        top = self._header()
        self.plot = self._make_plot()
        self._add_curves(colours)
        # pyqtgraph's own menu stays off; the viewport's context menu event is ours
        self.context_menu: QtWidgets.QMenu | None = None  # the last one shown (tests)
        self.plot.viewport().installEventFilter(self)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

    def _header(self) -> QtWidgets.QHBoxLayout:
        """The row above the plot: which class, what the plot shows, the sweep's status."""
        self.class_box = QtWidgets.QComboBox()
        self.class_box.setObjectName("trackedClass")
        self.class_box.addItem("each model's top class at 0°", AUTO)
        for c in range(10):
            self.class_box.addItem(f"class {c}", c)
        self.class_box.setToolTip("Which class's probability to plot against the angle")
        self.class_box.currentIndexChanged.connect(
            lambda i: self.classChosen.emit(int(self.class_box.itemData(i)))
        )
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("sweepStatus")
        self.status.setFixedWidth(90)
        self.status.setFont(small_font(-1))
        self.status.setStyleSheet("color:#707070")
        top = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel("Probability of")
        top.addWidget(label)
        top.addWidget(self.class_box)
        explain = ElidedLabel(
            "as the input turns through 0–360° (dotted lines: the exact 90° symmetries)"
        )
        explain.setToolTip(explain.text())
        top.addWidget(explain, 1)
        top.addWidget(self.status)
        return top

    def _make_plot(self) -> pg.PlotWidget:
        """0–360° by 0–1, the quarter turns dotted, and the legend."""
        plot = make_plot("sweepPlotWidget", grid="y")
        plot.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # no keys: no Tab stop
        plot.setXRange(0, 360, padding=0.01)
        plot.setYRange(-0.02, 1.06, padding=0)
        font = small_font(-1)
        bottom = plot.getAxis("bottom")
        bottom.setTicks([[(a, f"{a}°") for a in range(0, 361, 45)]])
        bottom.setStyle(tickFont=font)
        left = plot.getAxis("left")
        left.setTicks([[(0, "0"), (0.25, ".25"), (0.5, ".5"), (0.75, ".75"), (1, "1")]])
        left.setStyle(tickFont=font)
        left.setWidth(30)
        for a in (90, 180, 270):
            plot.addItem(
                pg.InfiniteLine(
                    a, angle=90, pen=pg.mkPen("#9a9a9a", style=QtCore.Qt.PenStyle.DotLine)
                )
            )
        cache_plot(plot.getPlotItem())
        self.legend = plot.addLegend(
            offset=(-8, -8), labelTextSize="8pt", brush=(255, 255, 255, 215), pen="#c8c8c8"
        )
        return plot

    def _add_curves(self, colours: tuple[str, ...]) -> None:
        """A curve and a marker dot per model, the current angle's line, the no-ink note."""
        # the left model's curve wider and under the right's: both stay visible where equal
        self.widths = [4.5, 2.0][: len(colours)] + [2.0] * max(0, len(colours) - 2)
        self.curves = [
            self.plot.plot([], [], pen=pg.mkPen(colour, width=w), name=" ")
            for colour, w in zip(colours, self.widths, strict=True)
        ]
        cache_static(*self.curves)  # redrawn only when a sweep arrives, not when markers move
        self.angle_line = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#303030", width=1))
        self.plot.addItem(self.angle_line)
        cache_static(self.angle_line)  # it only moves: Qt reuses its pixmap
        # one dot per model at (angle, probability): fixed-size ellipses painted by Qt
        self.markers = []
        for colour in colours:
            dot = QtWidgets.QGraphicsEllipseItem(-5, -5, 10, 10)
            dot.setBrush(QtGui.QBrush(QtGui.QColor(colour)))
            dot.setPen(QtGui.QPen(QtGui.QColor("white"), 1.5))
            dot.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            dot.setVisible(False)
            dot.setZValue(10)
            self.plot.addItem(dot)
            self.markers.append(dot)

        self.blank = False  # the input holds no ink: no curves are drawn
        self.empty_text = pg.TextItem(
            "no ink: no prediction at any angle", color="#8a8a8a", anchor=(0.5, 0.5)
        )
        self.empty_text.setPos(180, 0.5)
        self.empty_text.setVisible(False)
        self.plot.addItem(self.empty_text)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if watched is not self.plot.viewport():
            return super().eventFilter(watched, event)
        kind = event.type()
        # A right press opens the menu (pyqtgraph's scene accepts every press, and Qt 6.8 on
        # makes a context menu event only from a press nobody accepted); a context menu event
        # from the mouse is then swallowed, one from the keyboard's Menu key opens it.
        if kind == QtCore.QEvent.Type.MouseButtonPress:
            if event.button() == QtCore.Qt.MouseButton.RightButton:
                self._export_menu(event.globalPosition().toPoint())
                return True
        elif kind == QtCore.QEvent.Type.ContextMenu:
            if event.reason() != QtGui.QContextMenuEvent.Reason.Mouse:
                self._export_menu(event.globalPos())
            return True
        return super().eventFilter(watched, event)

    def _export_menu(self, global_pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        menu.setObjectName("sweepMenu")
        action = menu.addAction("Export plot…")
        action.setObjectName("exportPlot")
        action.triggered.connect(lambda _checked=False: self.exportRequested.emit())
        menu.aboutToHide.connect(menu.deleteLater)
        self.context_menu = menu
        menu.popup(global_pos)

    def set_stale(self, stale: bool) -> None:
        if stale == self._stale:  # called on every stroke point: only act on a change
            return
        self._stale = stale
        self.status.setText("recomputing…" if stale else "")
        style = QtCore.Qt.PenStyle.DashLine if stale else QtCore.Qt.PenStyle.SolidLine
        for curve, colour, width in zip(self.curves, self.colours, self.widths, strict=True):
            curve.setPen(pg.mkPen(colour, width=width, style=style))

    def set_sweep(
        self,
        result: SweepResult,
        keys: tuple[str, ...],
        titles: tuple[str, ...],
        tracked: int | None,
        blank: bool = False,
    ) -> None:
        """``blank``: the input holds no ink: no curves (as the bars show none), a note."""
        self.result = result
        self._keys, self._titles, self._tracked = keys, titles, tracked
        self.blank = blank
        self._replot()

    def set_tracked(self, tracked: int | None) -> None:
        self._tracked = tracked
        if self.result is not None:
            self._replot()

    def _replot(self) -> None:
        result = self.result
        self.legend.clear()
        self.empty_text.setVisible(self.blank)
        self.legend.setVisible(not self.blank)  # no curves: no (empty) key
        if self.blank:
            for curve, dot in zip(self.curves, self.markers, strict=True):
                curve.setData([], [])
                dot.setVisible(False)
            self.set_stale(False)
            return
        for i, (key, title) in enumerate(zip(self._keys, self._titles, strict=True)):
            probs = result.probabilities[key]  # [N, 10] ([N, K]: your own model's K classes)
            tracked = self._tracked
            untracked = tracked is None or tracked >= probs.shape[1]  # (a class it lacks)
            cls = int(np.argmax(probs[0])) if untracked else tracked
            self.classes[i] = cls
            self.curves[i].setData(result.angles, probs[:, cls])
            self.legend.addItem(self.curves[i], f"{title}: P({cls})")
        self.set_stale(False)

    def set_angle(self, angle: float, probabilities: list[np.ndarray] | None = None) -> None:
        """Move the marker line; with each model's current probabilities, its dots too."""
        self.angle_line.setValue(angle)
        if probabilities is None or self.blank:
            return
        for i, (dot, p) in enumerate(zip(self.markers, probabilities, strict=False)):
            dot.setPos(angle, float(p[self.classes[i]]))
            dot.setVisible(True)

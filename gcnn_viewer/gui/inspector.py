"""The hovered feature map, enlarged, with layer / channel / orientation / value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.feature_view import format_value
from gcnn_viewer.gui.style import configure_pyqtgraph, lookup_table
from gcnn_viewer.viewer.inference import FrameResult, LayerFrame
from gcnn_viewer.viewer.layout import N_COLOURS, LayerLayout, LayerScale, MapPixel
from gcnn_viewer.viewer.window_texts import hover_text

if TYPE_CHECKING:
    from gcnn_viewer.gui.model_panel import ModelPanel

PLACEHOLDER = (
    "<span style='color:#707070'>Hover over any feature map to enlarge it here, with its "
    "layer, channel, orientation and value.</span>"
)


class MapInspector(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("mapInspector")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setFixedSize(130, 130)
        self.view.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # a picture: no Tab stop
        self.view.setBackground("#e4e4e4")
        self.view.ci.setContentsMargins(0, 0, 0, 0)
        self.box = self.view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.box.setDefaultPadding(0.0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.image)
        self.cursor = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        pen = QtGui.QPen(QtGui.QColor("#00c8ff"), 2)
        pen.setCosmetic(True)
        self.cursor.setPen(pen)
        self.cursor.setVisible(False)
        self.box.addItem(self.cursor)
        self.text = QtWidgets.QLabel(PLACEHOLDER)
        self.text.setObjectName("inspectorText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.text.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.text.setMinimumWidth(120)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.view, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        # no taller than its picture: the Input dock above it keeps the rest of the column
        self.setMaximumHeight(self.view.height() + 8)
        self.target: tuple | None = None

    def clear(self) -> None:
        self.target = None
        self.image.clear()
        self.cursor.setVisible(False)
        self.text.setText(PLACEHOLDER)

    def show_map(
        self,
        model_title: str,
        layout: LayerLayout,
        scale: LayerScale,
        frame: LayerFrame,
        pixel: MapPixel,
        stabilised: bool,
    ) -> None:
        """Enlarge map ``(pixel.channel, pixel.orientation)`` of ``frame`` and describe it."""
        self.target = (model_title, layout.name, pixel)
        values = frame.data[pixel.channel, pixel.orientation]  # [h, w]
        self.image.setLookupTable(lookup_table(scale))
        self.image.setImage(scale.to_index(values), levels=(0, N_COLOURS), autoLevels=False)
        self.box.setRange(QtCore.QRectF(0, 0, layout.size, layout.size), padding=0)
        self.cursor.setRect(pixel.x, pixel.y, 1, 1)
        self.cursor.setVisible(layout.size > 1)
        value = float(values[pixel.y, pixel.x])
        if layout.is_group:
            orientation = layout.orientation_label(pixel.orientation)
            where = f"channel {pixel.channel} · orientation {orientation}"
            if stabilised:
                where += " (stabilised view)"
        else:
            where = f"channel {pixel.channel} (planar: no orientation axis)"
        lo, hi = format_value(scale.lo), format_value(scale.hi)
        self.text.setText(
            f"<b>{model_title} · {layout.name}</b> ({layout.size}×{layout.size} maps)<br>"
            f"{where}<br>"
            f"pixel (row {pixel.y}, col {pixel.x}) = <b>{value:.3g}</b><br>"
            f"<span style='color:#707070'>map max {float(np.max(values)):.3g} · "
            f"colour scale {lo} … {hi}, fixed for this layer</span>"
        )


class HoverTracker(QtCore.QObject):
    """The map pixel the mouse last rested on in one of ``panels``, ``(panel index, layer,
    MapPixel)``: enlarged in ``inspector`` and described in ``status_bar``, and refreshed
    with every frame (``last_frame()``, the frame on screen), so that turning the input
    shows the same pixel's new value."""

    def __init__(
        self,
        panels: Sequence[ModelPanel],
        inspector: MapInspector,
        last_frame: Callable[[], FrameResult | None],
        status_bar: QtWidgets.QStatusBar,
    ) -> None:
        super().__init__(inspector)
        self.panels, self.inspector = panels, inspector
        self.last_frame, self.status_bar = last_frame, status_bar
        self.hover: tuple[int, str, MapPixel] | None = None
        for panel in panels:
            panel.maps.hovered.connect(lambda hit, i=panel.index: self.hovered(i, hit))

    def clear(self) -> None:
        self.hover = None
        self.inspector.clear()

    def hovered(self, index: int, hit: tuple[str, MapPixel] | None) -> None:
        if hit is None:
            return
        self.panels[1 - index].maps.set_hover(None)  # one outline, in one panel
        self.hover = (index, *hit)
        self.refresh()

    def refresh(self) -> None:
        frame = self.last_frame()
        if self.hover is None or frame is None:
            return
        index, layer, pixel = self.hover
        panel = self.panels[index]
        probe, maps = panel.maps.probe, frame.panels[index].layers.get(layer)
        if probe is None or maps is None or layer not in probe.layouts:
            return
        layout, title = probe.layouts[layer], panel.entry.title
        self.inspector.show_map(title, layout, probe.scales[layer], maps, pixel, frame.stabilised)
        value = float(maps.data[pixel.channel, pixel.orientation, pixel.y, pixel.x])
        self.status_bar.showMessage(hover_text(title, layout, pixel, value), 4000)

"""The Group view tab: one channel of a p4 / p4m layer as GrouPy's ``plot_p4`` figure, live.

The planes of the channel sit on a circle (p4m: two), joined by arrows for the generators;
the geometry is :mod:`gcnn_viewer.viewer.group_view` (Qt-free, shared with the export). Each
frame the window shows is drawn here too: as the input turns by 90°, every plane turns and
moves one step round its circle. Which model (panel), layer and channel it shows is chosen
in the tab, or by a layer's context menu (*Group view of this channel…*).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.viewer.group_view import (
    Arrow,
    GroupDiagram,
    group_diagram,
    group_planes,
    roll_text,
    strongest_channel,
)
from gcnn_viewer.viewer.inference import FrameResult
from gcnn_viewer.viewer.layout import ColourTables, LayerScale
from gcnn_viewer.viewer.models import ModelProbe

SCALE = 200.0  # scene pixels per unit of the diagram (the outer circle's radius)
R_COLOUR = "#c0392b"  # GrouPy's red rotation arrows
M_COLOUR = "#1f5fbf"  # ... and blue mirror lines
HEAD = 0.07 * SCALE  # arrow head length, scene units (scaled with the diagram)
HINT_WIDTH = 250  # pixels: the column of explanations beside the diagram
HINT = (
    "A channel of a group layer is a function on the group: one plane per element, joined "
    "by arrows for the generators (r: a quarter turn; m, in p4m: the mirror). Turn the input "
    "by 90° (the ] key or +90°): every plane turns and moves one step round its circle."
)


def cosmetic(colour: QtGui.QColor, width: float) -> QtGui.QPen:
    """A pen ``width`` screen pixels wide at any zoom of the diagram."""
    pen = QtGui.QPen(colour, width)
    pen.setCosmetic(True)
    return pen


def plane_image(values: np.ndarray, scale: LayerScale, tables: ColourTables) -> QtGui.QImage:
    """An RGB32 QImage (deep copy) of one plane ``[h, w]`` on the layer's fixed scale."""
    rgb = np.ascontiguousarray(np.take(tables.table(scale), scale.to_index(values)))
    h, w = rgb.shape
    return QtGui.QImage(rgb.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGB32).copy()


def group_layers(probe: ModelProbe | None) -> list[str]:
    """The layers of ``probe`` whose maps are p4 / p4m (the ones a group view can show)."""
    if probe is None:
        return []
    return [n for n in probe.layers if probe.layouts[n].is_group]


class DiagramView(QtWidgets.QGraphicsView):
    """The diagram: a pixmap per plane, arrows and labels; fitted to the widget."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groupDiagram")
        self.setScene(QtWidgets.QGraphicsScene(self))
        self.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QtGui.QColor("white"))
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setMinimumSize(180, 160)
        self.diagram: GroupDiagram | None = None
        self.items: dict[int, QtWidgets.QGraphicsPixmapItem] = {}  # by element

    @staticmethod
    def to_scene(x: float, y: float) -> QtCore.QPointF:
        return QtCore.QPointF(x * SCALE, -y * SCALE)  # y up in the diagram, down on screen

    def set_diagram(self, diagram: GroupDiagram | None) -> None:
        scene = self.scene()
        scene.clear()
        self.items = {}
        self.diagram = diagram
        if diagram is None:
            return
        font = QtGui.QFont()
        font.setPointSizeF(max(9.0, font.pointSizeF() + 1))
        self._font = font
        for plane in diagram.planes:
            item = QtWidgets.QGraphicsPixmapItem()
            item.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
            left, _, _, top = plane.extent
            item.setPos(self.to_scene(left, top))
            item.setData(0, plane.g)
            scene.addItem(item)
            self.items[plane.g] = item
            side = plane.size * SCALE
            scene.addRect(
                QtCore.QRectF(self.to_scene(left, top), QtCore.QSizeF(side, side)),
                cosmetic(QtGui.QColor("#909090"), 1.0),
            )
            self._label(plane.label, plane.label_at, plane.anchor, QtGui.QColor("#202020"))
        for arrow in diagram.arrows:
            self._add_arrow(arrow, font)
        left, right, bottom, top = diagram.extent
        scene.setSceneRect(
            QtCore.QRectF(self.to_scene(left, top), self.to_scene(right, bottom)).normalized()
        )
        self.fit()

    def _add_arrow(self, arrow: Arrow, font: QtGui.QFont) -> None:
        colour = QtGui.QColor(R_COLOUR if arrow.generator == "r" else M_COLOUR)
        pen = cosmetic(colour, 2.0)
        points = [self.to_scene(float(x), float(y)) for x, y in arrow.points]
        path = QtGui.QPainterPath(points[0])
        for p in points[1:]:
            path.lineTo(p)
        scene = self.scene()
        scene.addPath(path, pen)
        ends = [(points[-2], points[-1])] + ([(points[1], points[0])] if arrow.both else [])
        for before, tip in ends:
            d = QtGui.QVector2D(tip - before).normalized()
            n = QtGui.QVector2D(-d.y(), d.x())
            back = QtGui.QVector2D(tip) - d * HEAD
            head = QtGui.QPolygonF(
                [tip, (back + n * HEAD * 0.45).toPointF(), (back - n * HEAD * 0.45).toPointF()]
            )
            scene.addPolygon(head, cosmetic(colour, 1.0), QtGui.QBrush(colour))
        self._label(arrow.generator, arrow.label_at, ("center", "center"), colour, italic=True)

    def _label(
        self,
        text: str,
        at: tuple[float, float],
        anchor: tuple[str, str],
        colour: QtGui.QColor,
        italic: bool = False,
    ) -> None:
        """A text that keeps its size on screen however small the diagram is drawn, placed
        on its side of ``at`` (``anchor``: as matplotlib's ha, va)."""
        font = QtGui.QFont(self._font)
        font.setItalic(italic)
        label = self.scene().addSimpleText(text, font)
        label.setBrush(colour)
        label.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        box = label.boundingRect()
        fx = {"left": 0.0, "center": 0.5, "right": 1.0}[anchor[0]]
        fy = {"top": 0.0, "center": 0.5, "bottom": 1.0}[anchor[1]]  # screen y runs down
        label.setPos(self.to_scene(*at))
        label.setTransform(QtGui.QTransform.fromTranslate(-fx * box.width(), -fy * box.height()))

    def set_images(self, images: dict[int, QtGui.QImage], size: float) -> None:
        side = size * SCALE
        for g, image in images.items():
            item = self.items[g]
            pixmap = QtGui.QPixmap.fromImage(image)
            item.setPixmap(pixmap)
            item.setScale(side / max(1, pixmap.width()))

    def image_at(self, g: int) -> QtGui.QImage:
        """The picture now drawn in element ``g``'s place (tests)."""
        return self.items[g].pixmap().toImage()

    def fit(self) -> None:
        if self.diagram is not None:
            self.fitInView(self.sceneRect(), QtCore.Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit()


class GroupView(QtWidgets.QWidget):
    """The Group view tab. ``panels()`` gives, per panel, its ``(title, probe)`` (probe None
    while loading); :meth:`show_frame` draws a frame's chosen channel;
    ``exportRequested(panel, layer, channel)``: its Export… button."""

    exportRequested = QtCore.Signal(int, str, int)

    def __init__(
        self,
        panels: Callable[[], Sequence[tuple[str, ModelProbe | None]]],
        tables: Callable[[], ColourTables | None],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("groupView")
        self.panels, self.tables = panels, tables
        self.frame: FrameResult | None = None
        self.planes: np.ndarray | None = None  # [G, h, w] of the channel shown
        self.model = QtWidgets.QComboBox()
        self.model.setObjectName("groupModel")
        self.model.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model.setToolTip("Which panel's model")
        self.layer = QtWidgets.QComboBox()
        self.layer.setObjectName("groupLayer")
        self.layer.setToolTip("A p4 or p4m layer of that model")
        self.channel = QtWidgets.QSpinBox()
        self.channel.setObjectName("groupChannel")
        self.channel.setToolTip("The channel whose planes are shown")
        self.export_button = QtWidgets.QPushButton("Export…")
        self.export_button.setObjectName("groupExport")
        self.export_button.setToolTip(
            "Save the group view as a figure (θ and θ + 90°) or an animation (File ▸ Export…)"
        )
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("groupStatus")
        self.status.setWordWrap(True)
        self.hint = QtWidgets.QLabel(HINT)
        self.hint.setWordWrap(True)
        self.view = DiagramView()
        row = QtWidgets.QHBoxLayout()
        for text, widget in (("Model", self.model), ("Layer", self.layer)):
            label = QtWidgets.QLabel(text)
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget)
        label = QtWidgets.QLabel("Channel")
        label.setBuddy(self.channel)
        row.addWidget(label)
        row.addWidget(self.channel)
        row.addWidget(self.export_button)
        row.addStretch(1)
        # the choices on top; the explanations in a narrow column left of the diagram, which
        # takes the rest (at 1024×768 the tab is ~650 px wide)
        side = QtWidgets.QWidget()
        side.setMaximumWidth(HINT_WIDTH)
        column = QtWidgets.QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.hint)
        column.addWidget(self.status)
        column.addStretch(1)
        below = QtWidgets.QHBoxLayout()
        below.addWidget(side, 0)
        below.addWidget(self.view, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(row)
        layout.addLayout(below, 1)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.layer.currentIndexChanged.connect(self._layer_changed)
        self.channel.valueChanged.connect(lambda _v: self.redraw())
        self.export_button.clicked.connect(self._export)
        self._diagram_for: str | None = None  # the group the diagram is drawn for

    # -- choices ------------------------------------------------------------------------------
    def models_changed(self) -> None:
        """The panels' models changed: the model list again, keeping the choice if it can."""
        keep = self.model.currentData()
        with QtCore.QSignalBlocker(self.model):
            self.model.clear()
            for i, (title, probe) in enumerate(self.panels()):
                side = ("left", "right")[i] if i < 2 else str(i)
                self.model.addItem(f"{title} ({side})", i)
                if not group_layers(probe):  # a planar model: nothing to show
                    self.model.model().item(i).setEnabled(False)
            usable = [
                i for i in range(self.model.count()) if self.model.model().item(i).isEnabled()
            ]
            pick = keep if keep in usable else (usable[-1] if usable else -1)
            self.model.setCurrentIndex(self.model.findData(pick) if pick >= 0 else -1)
        self._model_changed()

    def _probe(self) -> ModelProbe | None:
        i = self.model.currentData()
        panels = self.panels()
        return panels[i][1] if i is not None and 0 <= i < len(panels) else None

    def _model_changed(self) -> None:
        keep = self.layer.currentText()
        layers = group_layers(self._probe())
        with QtCore.QSignalBlocker(self.layer):
            self.layer.clear()
            self.layer.addItems(layers)
            if keep in layers:
                self.layer.setCurrentText(keep)
        self._layer_changed()

    def _layer_changed(self) -> None:
        probe, name = self._probe(), self.layer.currentText()
        if probe is not None and name:
            with QtCore.QSignalBlocker(self.channel):
                self.channel.setRange(0, probe.layouts[name].channels - 1)
        self.redraw()

    def choose(self, panel: int, layer: str, channel: int | None = None) -> bool:
        """Show ``channel`` of ``layer`` of panel ``panel``'s model (None: its strongest in
        the current frame); False when that is not a p4 / p4m layer."""
        self.models_changed()
        index = self.model.findData(panel)
        if index < 0 or not self.model.model().item(index).isEnabled():
            return False
        self.model.setCurrentIndex(index)
        if layer not in group_layers(self._probe()):
            return False
        self.layer.setCurrentText(layer)
        if channel is None and self.frame is not None and panel < len(self.frame.panels):
            channel = strongest_channel(self.frame.panels[panel].layers[layer].data)
        self.channel.setValue(int(channel or 0))
        self.redraw()
        return True

    @property
    def chosen(self) -> tuple[int, str, int] | None:
        """``(panel, layer, channel)`` shown, or None."""
        i, name = self.model.currentData(), self.layer.currentText()
        return None if i is None or not name else (int(i), name, self.channel.value())

    # -- frames --------------------------------------------------------------------------------
    def show_frame(self, frame: FrameResult) -> None:
        self.frame = frame
        if self.isVisible():
            self.redraw()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self.model.count() == 0:
            self.models_changed()
        self.redraw()

    def redraw(self) -> None:
        chosen, probe, tables = self.chosen, self._probe(), self.tables()
        if chosen is None or probe is None:
            self.status.setText("No model shown has p4 or p4m layers (Z2CNN is planar).")
            self.view.set_diagram(None)
            self._diagram_for = None
            return
        panel, name, channel = chosen
        layout = probe.layouts[name]
        group = layout.group
        if self._diagram_for != group.name:
            self.view.set_diagram(group_diagram(group))
            self._diagram_for = group.name
        frame = self.frame
        if frame is None or tables is None or panel >= len(frame.panels):
            self.status.setText("waiting for the first frame…")
            return
        layer = frame.panels[panel].layers.get(name)
        if layer is None or layer.data.shape[1] != group.order:
            return  # a frame of the model before (the next one is on its way)
        planes = group_planes(layer.data, channel, group, frame.turns)
        self.planes = planes
        scale = probe.scales[name]
        images = {g: plane_image(planes[g], scale, tables) for g in group.elements}
        self.view.set_images(images, self.view.diagram.planes[0].size)
        self.status.setText(roll_text(group, frame.angle, layout.channels, layout.size))

    def _export(self) -> None:
        chosen = self.chosen
        if chosen is not None:
            self.exportRequested.emit(*chosen)

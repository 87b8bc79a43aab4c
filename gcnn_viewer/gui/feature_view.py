"""Every layer of one model as mosaics: one image item per layer, in a pyqtgraph layout.

Each layer is a plot whose top axis names the columns (orientations for a group layer,
``+0 … +3`` for a planar channel grid) and whose left axis numbers the channels; beside or
under each mosaic a colour bar shows the layer's fixed scale. Hovering reports the map pixel
under the mouse. The layers flow into as many columns as make the mosaics largest.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.style import (
    cache_plot,
    cache_static,
    configure_pyqtgraph,
    lookup_table,
    small_font,
    still_plot,
)
from gcnn_viewer.viewer.inference import PanelFrame
from gcnn_viewer.viewer.layout import (
    CLASS_LAYER,
    N_COLOURS,
    ColourTables,
    LayerLayout,
    LayerScale,
    MapPixel,
    best_columns,
    layer_layout,
)
from gcnn_viewer.viewer.models import ModelProbe

BAR_GAP = 0.015  # colour bar: distance from the mosaic, as a fraction of its longer side
BAR_HEIGHT = 0.028  # colour bar thickness, same unit (thin: the maps get the width)
LABEL_ROOM = (0.18, 0.1)  # room for the colour bar's value labels (beside, under), same unit
CHROME = (22.0, 38.0)  # pixels each layer needs besides its mosaic: axes and title
LAYER_TIPS = {
    "pool": "2×2 spatial max-pool after l2 (per orientation for group maps)",
}
TOP_TIP_GROUP = (
    "top: the last convolution, one row per class (0–9), one column per orientation. "
    "Each row's maximum over the orientations is that class's logit; the outlined cell in "
    "each row is the orientation that wins it."
)
TOP_TIP_PLANAR = (
    "top: the last convolution, one 1×1 map per class (0–9): these values are the 10 logits"
)
FOCUS_BAR = (10.0, 4.0)  # a focused layer's colour bar: thickness and gap, in screen pixels
FOCUS_CHROME = (36.0, 58.0)  # ... its left axis and margins, its title, header and margins
LABEL_OVERHANG = 14  # screen pixels a column label may reach past its plot's side
SPAN = 5  # column-label level: one label over every column, "0…270"
STAGGERED = 2  # column-label level: two lines, so that narrow columns keep every label
WINNER_COLOUR = "#00c8ff"  # outline of the orientation that wins a class's max


def layer_tip(layout: LayerLayout) -> str:
    if layout.name == CLASS_LAYER:
        return TOP_TIP_GROUP if layout.is_group else TOP_TIP_PLANAR
    return LAYER_TIPS.get(layout.name, f"layer {layout.name}")


def format_value(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


class MosaicItem:
    """A mosaic painted entirely by Qt: a plain ``QGraphicsPixmapItem`` (C++ paint,
    nearest-neighbour scaling) showing the RGB32 mosaic the worker made.

    pyqtgraph's ImageItem rebuilds its colour table and re-levels in Python on every paint;
    with 16 images changing every frame that Python would hold the GIL against the inference
    worker. Row-major: x = column, y = row.
    """

    def __init__(self, lut: np.ndarray) -> None:
        self._table = ColourTables.pack(lut)  # for frames that come without RGB
        self.item = QtWidgets.QGraphicsPixmapItem()
        self.item.setTransformationMode(QtCore.Qt.TransformationMode.FastTransformation)
        self.item.setShapeMode(QtWidgets.QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.mosaic: np.ndarray | None = None  # the uint8 colour indices shown now

    def set_mosaic(self, mosaic: np.ndarray, rgb: np.ndarray | None = None) -> None:
        height, width = mosaic.shape
        pixels = np.ascontiguousarray(rgb if rgb is not None else self._table[mosaic])
        image = QtGui.QImage(
            pixels.data, width, height, 4 * width, QtGui.QImage.Format.Format_RGB32
        )
        self.item.setPixmap(QtGui.QPixmap.fromImage(image))  # copies: pixels may go
        self.mosaic = mosaic


class LayerPlot:
    """The plot, image, colour bar and hover outline of one layer."""

    def __init__(self, layout: LayerLayout, scale: LayerScale, px: float | None = None) -> None:
        """``px``: the screen pixels per mosaic pixel the plot will be drawn at (a focused
        layer): its colour bar and numbers then take fixed screen sizes; None: sizes in
        proportion to the mosaic (the overview)."""
        self.layout, self.scale = layout, scale
        self.lut = lookup_table(scale)
        self._make_plot()
        self._make_colour_bar(px)
        self._make_marks()
        self._make_axes(px)
        cache_plot(self.plot)
        cache_static(self.bar)

    def _make_plot(self) -> None:
        """The plot, its title and the mosaic image."""
        layout = self.layout
        self.plot = pg.PlotItem()
        still_plot(self.plot)
        vb = self.plot.getViewBox()
        vb.setAspectLocked(True)
        vb.invertY(True)
        vb.setDefaultPadding(0.0)
        # `top` needs no size (1×1): its rows are labelled by class, its tooltip says the rest
        title = (
            f"<b>{layout.name}</b>"
            if layout.name == CLASS_LAYER
            else f"<b>{layout.name}</b> {layout.size}×{layout.size}"
        )
        self.plot.setTitle(title, size="8pt")
        # LabelItem makes its text width the plot's minimum: a narrow panel then could not
        # shrink its columns and cut off the last one
        self.plot.titleLabel.setMinimumWidth(0)
        self.plot.titleLabel.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed
        )
        self.plot.layout.setRowFixedHeight(0, 16)  # the title row: keep it tight
        self.image = MosaicItem(self.lut)
        self.plot.addItem(self.image.item)
        self.image.set_mosaic(np.zeros(layout.shape, np.uint8))

    def _make_colour_bar(self, px: float | None) -> None:
        """The colour bar, in mosaic coordinates so it scales with the mosaic: beside a tall
        mosaic (p4's 10 × 4), where there is room to spare, else under it; its two numbers
        at a fixed screen size."""
        scale = self.scale
        height, width = self.layout.shape
        self.vertical = height > 1.6 * width
        ramp = np.linspace(1, N_COLOURS, 256).astype(np.uint8)
        self.bar = pg.ImageItem(
            ramp[::-1, None] if self.vertical else ramp[None, :], axisOrder="row-major"
        )
        self.bar.setLookupTable(self.lut)
        self.bar.setLevels((0, N_COLOURS))
        long_side = max(height, width)
        # a focused layer is read from the back of a room: larger numbers and labels
        font = small_font(-1.5 if px is None else +1)
        if px is None:
            thick, gap = BAR_HEIGHT * long_side, BAR_GAP * long_side
            room = (LABEL_ROOM[0] * long_side, LABEL_ROOM[1] * long_side)
        else:
            thick, gap = FOCUS_BAR[0] / px, FOCUS_BAR[1] / px
            room = tuple(r / px for r in bar_label_room(font, scale))
        if self.vertical:
            self.bar.setRect(QtCore.QRectF(width + gap, 0, thick, height))
            ends = (
                (scale.hi, width + gap + thick, 0, "top"),
                (scale.lo, width + gap + thick, height, "bottom"),
            )
            self._extent = (width + gap + thick + room[0], height)
            self._bare = (width + gap + thick, height)  # without room for the labels
        else:
            self.bar.setRect(QtCore.QRectF(0, height + gap, width, thick))
            ends = (
                (scale.lo, 0, height + gap + thick, "left"),
                (scale.hi, width, height + gap + thick, "right"),
            )
            self._extent = (width, height + gap + thick + room[1])
            self._bare = (width, height + gap + thick)
        self.plot.addItem(self.bar)
        self.bar_labels = [self._bar_label(value, x, y, where, font) for value, x, y, where in ends]
        self.plot.getViewBox().setRange(QtCore.QRectF(0, 0, *self._extent), padding=0)
        self.bar_labels_shown = True
        self.setToolTipScale()

    def _bar_label(
        self, value: float, x: float, y: float, where: str, font: QtGui.QFont
    ) -> QtWidgets.QGraphicsSimpleTextItem:
        """One end's number of the colour bar, hung at (``x``, ``y``) on the side ``where``."""
        # plain Qt text (no Python paint) at a fixed pixel size, hung from a point that
        # follows the mosaic's scale
        text = QtWidgets.QGraphicsSimpleTextItem(format_value(value))
        text.setFont(font)
        text.setBrush(QtGui.QColor("#303030"))
        box = text.boundingRect()
        offsets = {
            "left": (0, 0),
            "right": (-box.width(), 0),
            "top": (2, 0),
            "bottom": (2, -box.height()),
        }
        text.setPos(*offsets[where])
        anchor = QtWidgets.QGraphicsRectItem(0, 0, 0, 0)
        anchor.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        anchor.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        anchor.setPos(x, y)
        text.setParentItem(anchor)
        self.plot.addItem(anchor)
        return text

    def _make_marks(self) -> None:
        """The hover outline and, on a group top layer, each class row's winning orientation."""
        layout = self.layout
        self.outline = QtWidgets.QGraphicsRectItem(0, 0, layout.cell, layout.cell)
        pen = QtGui.QPen(QtGui.QColor("#00c8ff"), 2)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setVisible(False)
        self.plot.addItem(self.outline)

        # the group top layer: in each class row, the orientation that wins the max
        self.winners: list[QtWidgets.QGraphicsRectItem] = []
        if layout.name == CLASS_LAYER and layout.is_group:
            pen = QtGui.QPen(QtGui.QColor(WINNER_COLOUR), 1.5)
            pen.setCosmetic(True)
            for _ in range(layout.channels):
                rect = QtWidgets.QGraphicsRectItem(0, 0, layout.cell, layout.cell)
                rect.setPen(pen)
                rect.setVisible(False)
                self.plot.addItem(rect)
                self.winners.append(rect)

    def _make_axes(self, px: float | None) -> None:
        """Column labels (orientations) on top, row labels (channels) on the left."""
        layout = self.layout
        tick_font = small_font(-2 if px is None else +1.5)
        self._tick_metrics = QtGui.QFontMetrics(tick_font)
        self._line_height = max(14, self._tick_metrics.height() + 2)
        self._label_level: int | None = None
        top = self.plot.getAxis("top")
        self.set_column_labels(0)
        # a label centred on the last column may be wider than it: let it reach past the
        # plot's edge (pyqtgraph dropped it: P4MCNN lost "m270" at 1600×1000)
        top.setStyle(
            tickFont=tick_font, tickLength=0, tickTextOffset=1, hideOverlappingLabels=LABEL_OVERHANG
        )
        top.setHeight(self._line_height)
        left = self.plot.getAxis("left")
        half = layout.cell / 2
        left.setTicks(
            [[(r * layout.pitch + half, label) for r, label in enumerate(layout.row_labels)]]
        )
        left.setStyle(tickFont=tick_font, tickLength=0, tickTextOffset=2)
        left.setWidth(16 if px is None else self._tick_metrics.horizontalAdvance("00") + 10)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        self.plot.showAxis("left")

    def _column_labels(self, level: int) -> list[tuple[float, str]]:
        """Ticks for the top axis: level 0 full (``180°``), 1 without the degree sign,
        2 every column on two staggered lines (even columns above, odd below: each label
        may be two columns wide), 3 every other column, 4 every fourth (p4m's 8 columns),
        :data:`SPAN` one label over all columns, first … last ("0…270")."""
        labels = list(self.layout.column_labels)
        if level == SPAN:
            middle = (self.layout.shape[1] - 1) / 2
            first, last = (t.replace("°", "") for t in (labels[0], labels[-1]))
            return [(middle, f"{first}…{last}" if len(labels) > 1 else first)]
        if level >= 1:
            labels = [label.replace("°", "") for label in labels]
        if level == STAGGERED:
            labels = [f"{t}\n" if c % 2 == 0 else f"\n{t}" for c, t in enumerate(labels)]
        step = {3: 2, 4: 4}.get(level, 1)
        half = self.layout.cell / 2
        return [
            (c * self.layout.pitch + half, label) for c, label in enumerate(labels) if c % step == 0
        ]

    def set_column_labels(self, level: int) -> None:
        if level == self._label_level:
            return
        self._label_level = level
        top = self.plot.getAxis("top")
        lines = 2 * self._tick_metrics.lineSpacing() + 1
        top.setHeight(lines if level == STAGGERED else self._line_height)
        top.setTicks([self._column_labels(level)])

    @property
    def column_label_texts(self) -> list[str]:
        """The column labels on screen now (one per labelled column, without line breaks)."""
        return [t.strip() for _, t in self._column_labels(self._label_level or 0)]

    def setToolTipScale(self) -> None:  # noqa: N802
        lo, hi = format_value(self.scale.lo), format_value(self.scale.hi)
        self.plot.setToolTip(f"{layer_tip(self.layout)}\ncolour scale {lo} … {hi}, fixed")

    def fit_bar_labels(self) -> None:
        """Show the colour bar's numbers only where they fit beside (or under) the bar at
        the size on screen; where they would overlap the next layer, give their room to the
        mosaic instead (the numbers are in the tooltip and the hover inspector)."""
        vb = self.plot.getViewBox()
        rect = vb.rect()
        if rect.width() <= 1 or rect.height() <= 1:
            return
        metrics = QtGui.QFontMetrics(self.bar_labels[0].font())
        need_w = max(metrics.horizontalAdvance(t.text()) for t in self.bar_labels) + 3
        need_h = metrics.height() + 1

        def scale_of(extent: tuple[float, float]) -> float:
            # pixels per mosaic unit when the view shows `extent` (aspect locked)
            return min(rect.width() / extent[0], rect.height() / extent[1])

        def fits(extent: tuple[float, float]) -> bool:
            scale = scale_of(extent)
            if self.vertical:
                return (self._extent[0] - self._bare[0]) * scale >= need_w
            mosaic_px = self.layout.shape[1] * scale
            room = (self._extent[1] - self._bare[1]) * scale
            return room >= need_h and mosaic_px >= 2 * need_w

        # the maps come first: where a map pixel would be drawn on less than a screen pixel
        # with the numbers' room, they go (P4CNN's l1 and l2 at 1600×1000); the numbers are
        # in the tooltip and the Hovered map dock
        shrinks = scale_of(self._extent) * self.layout.zoom < 1.0
        show = fits(self._extent) and not shrinks
        if show != self.bar_labels_shown:
            self.bar_labels_shown = show
            for text in self.bar_labels:
                text.setVisible(show)
            vb.setRange(QtCore.QRectF(0, 0, *(self._extent if show else self._bare)), padding=0)

    def fit_labels(self) -> None:
        """Choose the most complete column labels that fit the columns' width on screen."""
        pixel = self.plot.getViewBox().viewPixelSize()[0]  # view units per screen pixel
        if pixel <= 0:
            return
        column_px = self.layout.pitch / pixel
        # where even every other label does not fit, one label names the span of columns
        # ("0…270"): a lone "0" over four columns told nothing
        # (every fourth label only for p4m's eight columns: "0", "m0"; over p4's four it
        # would be a lone "0", so there the span is the last resort, reaching past the edges)
        levels = (0, 1, STAGGERED, 3, SPAN, *((4,) if self.layout.cols > 4 else ()))
        for level in levels:
            ticks = self._column_labels(level)
            step = len(self.layout.column_labels) / max(1, len(ticks))
            if level == STAGGERED:
                step = 2  # a label's neighbours are on the other line
            widest = max(self._tick_metrics.horizontalAdvance(t.strip()) for _, t in ticks)
            if widest + 2 <= column_px * step:
                break
        self.set_column_labels(level)

    @property
    def mosaic_size(self) -> tuple[float, float]:
        """Width and height of mosaic and colour bar, in mosaic pixels."""
        return self._extent

    def set_left_axis(self, visible: bool) -> None:
        if visible:
            self.plot.showAxis("left")
        else:
            self.plot.hideAxis("left")

    def set_mosaic(self, mosaic: np.ndarray, rgb: np.ndarray | None = None) -> None:
        self.image.set_mosaic(mosaic, rgb)

    def mark_winners(self, data: np.ndarray) -> np.ndarray | None:
        """Outline each class's winning orientation; ``data`` ``[10, G, 1, 1]``. Returns the
        winners ``[10]`` (None for layers without them)."""
        if not self.winners:
            return None
        best = np.argmax(data.reshape(data.shape[0], data.shape[1], -1).max(-1), axis=1)
        for c, (rect, g) in enumerate(zip(self.winners, best, strict=True)):
            top, left = self.layout.cell_origin(self.layout.channel_id(c), int(g))
            rect.setRect(left, top, self.layout.cell, self.layout.cell)
            rect.setVisible(True)
        return best

    def mark(self, pixel: MapPixel | None) -> None:
        if pixel is None:
            self.outline.setVisible(False)
            return
        try:
            top, left = self.layout.cell_origin(pixel.channel, pixel.orientation)
        except ValueError:  # a channel a focused layer does not show
            self.outline.setVisible(False)
            return
        self.outline.setRect(left, top, self.layout.cell, self.layout.cell)
        self.outline.setVisible(True)

    def screen_px_per_map_px(self) -> float:
        """Screen pixels per pixel of a feature map as the mosaic is drawn now (measured
        from the image item's geometry on screen)."""
        views = self.plot.scene().views() if self.plot.scene() is not None else []
        if not views:
            return 0.0
        item = self.image.item
        rect = item.mapToScene(item.boundingRect()).boundingRect()
        shown = views[0].mapFromScene(rect).boundingRect()
        return shown.height() / self.layout.shape[0] * self.layout.zoom

    def drawn_column_labels(self) -> list[str]:
        """The column labels pyqtgraph paints now (it drops a label that would leave the
        axis, and lines that do not fit its height)."""
        axis = self.plot.getAxis("top")
        image = QtGui.QImage(4, 4, QtGui.QImage.Format.Format_RGB32)
        painter = QtGui.QPainter(image)
        try:
            painter.setFont(axis.style["tickFont"])
            specs = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        return [text.strip() for _, _, text in specs[2]] if specs else []

    def header_fits(self) -> bool:
        """Every column label is on screen, whole: the full set painted, each no wider than
        its column, and the header tall enough for its lines."""
        pixel = self.plot.getViewBox().viewPixelSize()[0]
        full = [t.replace("°", "") for t in self.layout.column_labels]
        drawn = [t.replace("°", "") for t in self.drawn_column_labels()]
        if pixel <= 0 or drawn != full:
            return False
        column_px = self.layout.pitch / pixel
        lines = 2 if self._label_level == STAGGERED else 1
        widest = max(self._tick_metrics.horizontalAdvance(t) for t in self.column_label_texts)
        height = self.plot.getAxis("top").geometry().height()
        return widest + 2 <= column_px * lines and height >= lines * self._tick_metrics.height()


def bar_label_room(font: QtGui.QFont, scale: LayerScale) -> tuple[float, float]:
    """Screen pixels the colour bar's numbers need beside it and under it."""
    metrics = QtGui.QFontMetrics(font)
    wide = max(metrics.horizontalAdvance(format_value(v)) for v in (scale.lo, scale.hi))
    return wide + 6.0, metrics.height() + 2.0


class FeatureMapView(pg.GraphicsLayoutWidget):
    """All layers of one model, or one of them large (focus mode, :meth:`set_focus`).

    ``hovered`` and ``clicked`` (left button; sent once the double-click time has passed
    without a second click) carry ``(layer name, MapPixel)``; ``layerActivated(layer)``: a
    double click on a layer; ``exportRequested(layer)``: *Export this layer…* chosen in a
    layer's context menu."""

    hovered = QtCore.Signal(object)
    clicked = QtCore.Signal(object)
    layerActivated = QtCore.Signal(str)
    exportRequested = QtCore.Signal(str)  # a layer's context menu: Export this layer…
    # ... Group view of this channel… (layer, channel): a p4 / p4m layer's
    groupViewRequested = QtCore.Signal(str, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("featureMapView")
        # nearest-neighbour pixels, no antialiasing: exact map pixels and the cheapest paint
        self.setAntialiasing(False)
        self.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setOptimizationFlag(
            QtWidgets.QGraphicsView.OptimizationFlag.DontSavePainterState, True
        )
        self.ci.setSpacing(2)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.layers: dict[str, LayerPlot] = {}
        self.probe: ModelProbe | None = None
        self._columns = 0
        self._hover: tuple[str, MapPixel] | None = None
        self.mosaics: dict[str, np.ndarray] = {}  # what is displayed now, per layer
        self.winners: np.ndarray | None = None  # top: each class's winning orientation
        self.stale = False
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)
        self.setMinimumSize(160, 150)
        self.context_menu: QtWidgets.QMenu | None = None  # the last one shown (tests)
        # focus mode: one layer (a range of its channels) drawn as large as the view allows
        self.focus: str | None = None
        self.focus_ids: tuple[int, ...] | None = None  # None: all channels
        self.focus_plot: LayerPlot | None = None
        self._focus_px = 0.0  # the screen pixels per mosaic pixel it was built for
        self._frame: PanelFrame | None = None
        # a single click waits out the double-click time: a double click (focus) must not
        # first act as a click (which brings the Filters view forward)
        self._click_timer = QtCore.QTimer(self)
        self._click_timer.setSingleShot(True)
        self._click_timer.timeout.connect(self._emit_click)
        self._pending_click: tuple[str, MapPixel] | None = None

    # -- model ------------------------------------------------------------------------------
    def set_probe(self, probe: ModelProbe) -> None:
        """Build one plot per layer for a (new) model."""
        if probe is self.probe:
            return
        self.probe = probe
        self.ci.clear()
        self.layers = {
            name: LayerPlot(probe.layouts[name], probe.scales[name]) for name in probe.layers
        }
        self.mosaics = {}
        self._columns = 0
        self._hover = None
        self._frame = None
        self.focus_plot = None
        if self.focus is not None and self.focus in self.layers:
            self.set_focus(self.focus, self.focus_ids)  # the same layer of the new model
        else:
            self.focus = self.focus_ids = None
            self._arrange()
        QtCore.QTimer.singleShot(0, self._fit_labels)

    # -- focus mode -------------------------------------------------------------------------
    def set_focus(self, layer: str | None, channel_ids: tuple[int, ...] | None = None) -> None:
        """Show only ``layer`` (None: every layer again), and of it only ``channel_ids`` (a
        range; None: all), as large as the view allows."""
        if layer is not None and layer not in self.layers:
            layer = None
        if layer is not None and channel_ids is not None:
            count = self.layers[layer].layout.channels
            channel_ids = tuple(c for c in channel_ids if 0 <= c < count) or None
            if channel_ids is not None and len(channel_ids) == count:
                channel_ids = None
        self.focus, self.focus_ids = layer, (channel_ids if layer is not None else None)
        self.ci.clear()  # takes the plots out of the scene; they are kept
        self.focus_plot = None
        self._columns = 0
        if layer is None:
            self._arrange()
        else:
            self._build_focus()
        QtCore.QTimer.singleShot(0, self._fit_labels)

    def focus_layout(self) -> LayerLayout | None:
        if self.focus is None:
            return None
        full = self.layers[self.focus].layout
        if self.focus_ids is None:
            return full
        if full.is_group:
            shape = (full.channels, full.orientations, full.size, full.size)
        else:
            shape = (full.channels, full.size, full.size)
        return layer_layout(full.name, shape, full.group, self.focus_ids)

    def _focus_scale(self, layout: LayerLayout, scale: LayerScale) -> float:
        """Screen pixels per mosaic pixel that fill the view with ``layout`` and its bar."""
        height, width = layout.shape
        room = bar_label_room(small_font(-1.5), scale)
        area_w = max(1.0, self.width() - FOCUS_CHROME[0])
        area_h = max(1.0, self.height() - FOCUS_CHROME[1])
        if height > 1.6 * width:  # the bar beside the mosaic, as LayerPlot puts it
            s = min((area_w - sum(FOCUS_BAR) - room[0]) / width, area_h / height)
        else:
            s = min(area_w / width, (area_h - sum(FOCUS_BAR) - room[1]) / height)
        return max(0.05, s)

    def _build_focus(self) -> None:
        layout = self.focus_layout()
        scale = self.layers[self.focus].scale
        px = self._focus_scale(layout, scale)
        if self.focus_plot is not None and self.focus_plot.plot.scene() is not None:
            self.ci.removeItem(self.focus_plot.plot)
        self._focus_px = px
        plot = LayerPlot(layout, scale, px=px)
        ids = layout.channel_ids
        shown = (
            f"channels {ids[0]}–{ids[-1]} of {self.layers[self.focus].layout.channels}"
            if ids is not None
            else f"all {layout.channels} channels"
        )
        size = "" if layout.name == CLASS_LAYER else f" {layout.size}×{layout.size}"
        plot.plot.setTitle(f"<b>{layout.name}</b>{size} · {shown}", size="10pt")
        self.focus_plot = plot
        self.ci.addItem(plot.plot, row=0, col=0)
        grid = self.ci.layout
        for c in range(grid.columnCount()):
            grid.setColumnStretchFactor(c, 1 if c == 0 else 0)
        for r in range(grid.rowCount()):
            grid.setRowStretchFactor(r, 1 if r == 0 else 0)
        plot.image.item.setOpacity(0.25 if self.stale else 1.0)
        if self._frame is not None:
            self._show_focus(self._frame)
        if self._hover is not None:
            self.set_hover(self._hover)

    def _show_focus(self, frame: PanelFrame) -> None:
        plot, layer = self.focus_plot, frame.layers.get(self.focus)
        if plot is None or layer is None:
            return
        ids = plot.layout.channel_ids
        if ids is None:
            if layer.image.shape == plot.layout.shape:
                plot.set_mosaic(layer.image, layer.rgb)
            data = layer.data
        else:
            data = layer.data[ids[0] : ids[-1] + 1]
            plot.set_mosaic(plot.layout.render(data, plot.scale))
        plot.mark_winners(data)

    def _shown(self) -> list[tuple[str, LayerPlot]]:
        """The layer plots on screen now."""
        if self.focus_plot is not None:
            return [(self.focus, self.focus_plot)]
        return [(n, lp) for n, lp in self.layers.items() if lp.plot.scene() is not None]

    def _arrange(self) -> None:
        if not getattr(self, "layers", None):  # resizeEvent comes during construction
            return
        if getattr(self, "focus", None) is not None:
            return
        sizes = [lp.mosaic_size for lp in self.layers.values()]
        layer_size = (max(w for w, _ in sizes), max(h for _, h in sizes))
        area = (max(1, self.width() - 8), max(1, self.height() - 8))
        columns = best_columns(len(self.layers), layer_size, area, CHROME)
        if columns == self._columns:
            return
        self._columns = columns
        for lp in self.layers.values():
            if lp.plot.scene() is not None:
                self.ci.removeItem(lp.plot)
        for i, lp in enumerate(self.layers.values()):
            self.ci.addItem(lp.plot, row=i // columns, col=i % columns)
            # the class labels of `top` always show; other rows share the first column's
            lp.set_left_axis(i % columns == 0 or lp.layout.name == CLASS_LAYER)
        grid = self.ci.layout
        for c in range(grid.columnCount()):
            grid.setColumnStretchFactor(c, 1 if c < columns else 0)
        # each row as tall as its tallest mosaic asks (P4CNN's l1 row: 26×26 maps)
        plots = list(self.layers.values())
        for r in range(grid.rowCount()):
            row = plots[r * columns : (r + 1) * columns]
            grid.setRowStretchFactor(r, max((round(lp.mosaic_size[1]) for lp in row), default=0))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if getattr(self, "focus_plot", None) is not None:  # rebuilt: its bar in screen pixels
            px = self._focus_scale(self.focus_plot.layout, self.focus_plot.scale)
            if abs(px - self._focus_px) > 0.02 * self._focus_px:
                self._build_focus()
        self._arrange()
        QtCore.QTimer.singleShot(0, self._fit_labels)  # once the plots have their new size

    def _fit_labels(self) -> None:
        # the layout may have been wider than the view when it was last fitted (a minimum
        # that has shrunk since): fit it to the view again, or its right column is cut off
        if self.ci.geometry() != self.range:
            self.ci.setGeometry(self.range)
        for _, lp in self._shown():
            lp.fit_bar_labels()
            lp.fit_labels()

    @property
    def columns(self) -> int:
        return self._columns

    # -- frames -----------------------------------------------------------------------------
    def show_frame(self, frame: PanelFrame) -> None:
        self._frame = frame
        if self.focus_plot is not None:
            self._show_focus(frame)
        for name, lp in self.layers.items():
            layer = frame.layers.get(name)
            if layer is not None and layer.image.shape == lp.layout.shape:
                lp.set_mosaic(layer.image, layer.rgb)
                self.mosaics[name] = layer.image
                winners = lp.mark_winners(layer.data)
                if winners is not None:
                    self.winners = winners

    def set_stale(self, stale: bool) -> None:
        """Grey the maps out while they belong to an earlier input."""
        for lp in [*self.layers.values(), *([self.focus_plot] if self.focus_plot else [])]:
            lp.image.item.setOpacity(0.25 if stale else 1.0)
        self.stale = stale

    # -- context menu -----------------------------------------------------------------------
    def layer_at(self, pos: QtCore.QPoint) -> str | None:
        """The layer whose plot is under the viewport position ``pos``."""
        scene = self.mapToScene(pos)
        for name, lp in self._shown():
            if lp.plot.sceneBoundingRect().contains(scene):
                return name
        return None

    def _layer_menu(self, pos: QtCore.QPoint, global_pos: QtCore.QPoint) -> bool:
        """Pop up the context menu of the layer at viewport ``pos``; False: no layer there.
        pyqtgraph's own menu stays off (setMenuEnabled(False)): its axis and export entries
        make no sense for a mosaic; ours names the layer under the mouse."""
        layer = self.layer_at(pos)
        if layer is None:
            return False
        menu = QtWidgets.QMenu(self)
        menu.setObjectName("layerMenu")
        action = menu.addAction(f"Export this layer ({layer})…")
        action.setObjectName("exportLayer")
        action.triggered.connect(lambda _checked=False, n=layer: self.exportRequested.emit(n))
        lp = dict(self._shown())[layer]
        if lp.layout.is_group:  # the channel under the mouse (between maps: the first)
            hit = self.hit_at(self.mapToScene(pos))
            channel = hit[1].channel if hit is not None and hit[0] == layer else 0
            group = menu.addAction(f"Group view of this channel ({layer}, channel {channel})…")
            group.setObjectName("groupViewLayer")
            group.triggered.connect(
                lambda _checked=False, n=layer, c=channel: self.groupViewRequested.emit(n, c)
            )
        menu.aboutToHide.connect(menu.deleteLater)
        self.context_menu = menu
        menu.popup(global_pos)
        return True

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        # The right button opens the menu here: pyqtgraph's scene accepts every press, and
        # Qt (6.8 on) makes a context menu event only from a press that nobody accepted.
        if event.button() == QtCore.Qt.MouseButton.RightButton and self._layer_menu(
            event.position().toPoint(), event.globalPosition().toPoint()
        ):
            event.accept()
            return
        super().mousePressEvent(event)

    def contextMenuEvent(self, event: QtGui.QContextMenuEvent) -> None:  # noqa: N802
        # the keyboard's Menu key; a mouse's right press was handled in mousePressEvent
        if event.reason() == QtGui.QContextMenuEvent.Reason.Mouse or self._layer_menu(
            event.pos(), event.globalPos()
        ):
            event.accept()
        else:
            event.ignore()

    # -- hover ------------------------------------------------------------------------------
    def hit_at(self, pos: QtCore.QPointF) -> tuple[str, MapPixel] | None:
        """The map pixel under scene position ``pos``, or None."""
        for name, lp in self._shown():
            if lp.plot.sceneBoundingRect().contains(pos):
                p = lp.image.item.mapFromScene(pos)
                pixel = lp.layout.locate(p.y(), p.x())
                return None if pixel is None else (name, pixel)
        return None

    def _mouse_moved(self, pos: QtCore.QPointF) -> None:
        hit = self.hit_at(pos)
        if hit is not None and hit != self._hover:
            self.set_hover(hit)
            self.hovered.emit(hit)

    def _mouse_clicked(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        if event.double():
            self._click_timer.stop()
            self._pending_click = None
            layer = self.layer_at(self.mapFromScene(event.scenePos()))
            if layer is not None:
                self.layerActivated.emit(layer)
            return
        hit = self.hit_at(event.scenePos())
        if hit is not None:
            self._pending_click = hit
            self._click_timer.start(QtWidgets.QApplication.doubleClickInterval())

    def _emit_click(self) -> None:
        hit, self._pending_click = self._pending_click, None
        if hit is not None:
            self.clicked.emit(hit)

    def set_hover(self, hit: tuple[str, MapPixel] | None) -> None:
        self._hover = hit
        for name, lp in [*self.layers.items(), *self._shown()]:
            lp.mark(hit[1] if hit is not None and hit[0] == name else None)

    # -- keyboard focus ---------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.hasFocus():  # a Tab stop shows that it has the keyboard (its Menu key)
            painter = QtGui.QPainter(self.viewport())
            pen = QtGui.QPen(self.palette().highlight().color(), 2)
            painter.setPen(pen)
            painter.drawRect(self.viewport().rect().adjusted(1, 1, -2, -2))
            painter.end()

    def focusInEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.viewport().update()

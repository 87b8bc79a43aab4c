"""Colours, colour tables and pyqtgraph settings shared by the views."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from gcnn_viewer.viewer.layout import GAP_INDEX, N_COLOURS, ColourTables, LayerScale
from gcnn_viewer.viewer.palette import PANEL_COLOURS, UNTRAINED_COLOUR  # noqa: F401

GAP_COLOUR = (205, 205, 205)  # between mosaic cells
SEQUENTIAL_MAP = "inferno"  # ReLU layers: 0 is black, strong responses bright
DIVERGING_MAP = "CET-D1"  # the signed pre-logit layer: blue < 0 < red

_configured = False


def configure_pyqtgraph() -> None:
    """Row-major images (numpy's [row, col]) and a light theme matching Qt widgets."""
    global _configured
    if _configured:
        return
    pg.setConfigOptions(
        imageAxisOrder="row-major", background="w", foreground="#303030", antialias=True
    )
    _configured = True


def cache_static(*items) -> None:
    """Let Qt repaint these items from a pixmap instead of calling their Python ``paint``.

    A frame changes only the images, but Qt repaints everything under the (merged) dirty
    region: axes, titles and labels would be redrawn in Python every frame.
    """
    for item in items:
        item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def cache_plot(plot: pg.PlotItem) -> None:
    """:func:`cache_static` for a plot's axes, title and view box."""
    axes = [plot.getAxis(name) for name in ("top", "bottom", "left", "right")]
    cache_static(*axes, plot.titleLabel, plot.getViewBox())


def still_plot(plot: pg.PlotWidget | pg.PlotItem) -> None:
    """A plot that shows and takes no mouse: no pyqtgraph menu (its axis and export entries
    are not the app's), no auto-range button, no drag or zoom (the data stays in view)."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)


def make_plot(
    name: str = "",
    *,
    cls: type[pg.PlotWidget] = pg.PlotWidget,
    title: str | None = None,
    grid: str = "",
    grid_alpha: float = 0.2,
) -> pg.PlotWidget:
    """A :func:`still_plot` widget: object ``name`` (tests, screenshots), ``title``, and grid
    lines along the axes named in ``grid`` (``"x"``, ``"y"``, ``"xy"``)."""
    plot = cls(title=title) if title is not None else cls()
    if name:
        plot.setObjectName(name)
    still_plot(plot)
    if grid:
        plot.showGrid(x="x" in grid, y="y" in grid, alpha=grid_alpha)
    return plot


def colour_map(scale: LayerScale) -> pg.ColorMap:
    return pg.colormap.get(DIVERGING_MAP if scale.diverging else SEQUENTIAL_MAP)


def lookup_table(scale: LayerScale) -> np.ndarray:
    """uint8 [256, 3]: entry 0 is the gap colour, 1..255 the layer's colour map."""
    values = colour_map(scale).getLookupTable(0.0, 1.0, N_COLOURS, alpha=False)
    lut = np.empty((N_COLOURS + 1, 3), np.uint8)
    lut[GAP_INDEX] = GAP_COLOUR
    lut[1:] = values[:, :3]
    return lut


def grey_qimage(image: np.ndarray) -> QtGui.QImage:
    """A Grayscale8 QImage (deep copy) of a float [H, W] image in [0, 1]."""
    data = np.ascontiguousarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = data.shape
    return QtGui.QImage(data.data, w, h, w, QtGui.QImage.Format.Format_Grayscale8).copy()


def small_font(delta: float = -1.0, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont()
    size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
    font.setPointSizeF(max(6.0, size + delta))
    font.setBold(bold)
    return font


def colour_tables() -> ColourTables:
    """The packed colour tables the worker uses to make RGB32 mosaics (same as the LUTs)."""
    return ColourTables(
        sequential=ColourTables.pack(lookup_table(LayerScale(0.0, 1.0))),
        diverging=ColourTables.pack(lookup_table(LayerScale(-1.0, 1.0, diverging=True))),
    )

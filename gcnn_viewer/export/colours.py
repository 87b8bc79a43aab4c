"""The app's colours for matplotlib, without importing Qt or pyqtgraph.

The app colours ReLU layers with ``inferno`` and the signed pre-logit layer with the diverging
``CET-D1`` (``gcnn_viewer/gui/style.py``), each as a 255-entry lookup table on the layer's
fixed :class:`~gcnn_viewer.viewer.layout.LayerScale`, with entry 0 the grey gap between
cells. The same tables are rebuilt here as :class:`~gcnn_viewer.viewer.layout.ColourTables`
from the colour-map data itself: matplotlib's ``inferno`` (pyqtgraph ships the same data) and
pyqtgraph's ``CET-D1`` stops, read as a file, so nothing imports Qt. Without pyqtgraph on disk,
matplotlib's ``coolwarm`` (also blue–white–red) stands in for ``CET-D1``.
"""

from __future__ import annotations

import importlib.machinery
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap, ListedColormap

from gcnn_viewer.viewer.layout import GAP_INDEX, N_COLOURS, ColourTables, LayerScale

GAP_COLOUR = (205, 205, 205)  # as the app's gap between mosaic cells
SEQUENTIAL_MAP = "inferno"
DIVERGING_MAP = "CET-D1"
FALLBACK_DIVERGING = "coolwarm"


def _pyqtgraph_map_file(name: str) -> Path | None:
    """pyqtgraph's colour-map data file, found without importing pyqtgraph (or Qt)."""
    try:
        spec = importlib.machinery.PathFinder.find_spec("pyqtgraph")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "colors" / "maps" / f"{name}.csv"
        if path.is_file():
            return path
    return None


@cache
def _lut(diverging: bool) -> np.ndarray:
    """uint8 ``[256, 3]``: entry 0 the gap colour, 1..255 the colour map (as the app's LUT)."""
    if diverging:
        path = _pyqtgraph_map_file(DIVERGING_MAP)
        if path is not None:
            stops = np.loadtxt(path, delimiter=",", dtype=np.float64)[:, :3]  # [256, 3]
            cmap = LinearSegmentedColormap.from_list(DIVERGING_MAP, stops, N=N_COLOURS)
        else:
            cmap = colormaps[FALLBACK_DIVERGING].resampled(N_COLOURS)
    else:
        cmap = colormaps[SEQUENTIAL_MAP].resampled(N_COLOURS)
    lut = np.empty((N_COLOURS + 1, 3), np.uint8)
    lut[GAP_INDEX] = GAP_COLOUR
    lut[1:] = np.round(cmap(np.arange(N_COLOURS))[:, :3] * 255.0).astype(np.uint8)
    return lut


def lookup_table(scale: LayerScale) -> np.ndarray:
    """uint8 ``[256, 3]`` for a layer: the app's table for its kind of scale."""
    return _lut(scale.diverging)


def colour_tables() -> ColourTables:
    """Packed tables, so :func:`~gcnn_viewer.viewer.compute_frame` can colour mosaics."""
    return ColourTables(
        sequential=ColourTables.pack(_lut(False)), diverging=ColourTables.pack(_lut(True))
    )


def colour_map(scale: LayerScale) -> ListedColormap:
    """The 255 colours of a layer's scale, for colour bars (values ``lo..hi``)."""
    return ListedColormap(lookup_table(scale)[1:] / 255.0)


def to_rgb(mosaic: np.ndarray, scale: LayerScale) -> np.ndarray:
    """uint8 ``[H, W, 3]`` from a mosaic of colour indices (the app's rendering)."""
    return np.take(lookup_table(scale), mosaic, axis=0)

"""Feature-map mosaics: one image per layer, cells arranged channels × orientations. Qt-free.

A group layer ``[C, G, h, w]`` becomes a grid of C rows (channels) × G columns (the
orientation axis, labelled 0°/90°/180°/270°, and m0°… for p4m). A planar layer ``[C, h, w]``
becomes a channel grid ``PLANAR_COLUMNS`` wide in reading order: the row label plus the
column label is the channel; the planar ``top`` layer (one 1×1 map per class) is one column
of 10 rows labelled by class. Small maps
are magnified by an integer factor (nearest neighbour, so every map pixel stays one block) so
that every layer's cells are about ``CELL_TARGET`` pixels and all layers read at one scale.

Mosaics are uint8 indices into a 256-entry colour table: 0 is the gap between cells, 1..255
the layer's fixed colour scale (:class:`LayerScale`), so the view only uploads bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from gcnn_viewer.group import Group, rotate_planes
from gcnn_viewer.models.layers import quarter_turn_element

if TYPE_CHECKING:  # torch is imported where it is used: the app shows its window first
    import torch

CELL_TARGET = 24  # mosaic pixels per map side after magnification
GAP = 2  # mosaic pixels between cells
PLANAR_COLUMNS = 4  # planar channel grids: 4 wide like p4's orientations (20 -> 5 × 4)
GAP_INDEX = 0  # colour-table entry of the gaps
CLASS_LAYER = "top"  # the layer whose channels are the 10 classes (its max over G: logits)
N_COLOURS = 255  # colour-table entries 1..255 carry values


@dataclass(frozen=True)
class LayerScale:
    """A layer's fixed colour scale: values ``lo..hi`` map onto the colour table.

    ``diverging``: the layer has signed values (the pre-logit "top" layer); the scale is then
    symmetric about 0 and should be shown with a diverging colour map.
    """

    lo: float
    hi: float
    diverging: bool = False

    def to_index(self, values: np.ndarray) -> np.ndarray:
        """uint8 colour indices 1..255 (0 is kept for gaps)."""
        span = self.hi - self.lo if self.hi > self.lo else 1.0
        scaled = (np.asarray(values, dtype=np.float32) - self.lo) * ((N_COLOURS - 1) / span)
        return (np.clip(scaled, 0.0, N_COLOURS - 1) + 1.5).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class ColourTables:
    """Colours for mosaics as data: 256 packed ``0xAARRGGBB`` uint32 entries per colour map,
    entry 0 the gap colour (:data:`GAP_INDEX`). Whoever displays or exports picks the maps;
    with tables set, frames carry ready-to-show RGB32 mosaics."""

    sequential: np.ndarray  # uint32 [256], for layers with values >= 0
    diverging: np.ndarray  # uint32 [256], for signed layers (symmetric scale)

    @staticmethod
    def pack(rgb: np.ndarray) -> np.ndarray:
        """uint8 ``[256, 3]`` RGB -> uint32 ``[256]`` opaque ``0xFFRRGGBB``."""
        c = np.asarray(rgb)[:, :3].astype(np.uint32)
        return (0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).astype(np.uint32)

    def table(self, scale: LayerScale) -> np.ndarray:
        return self.diverging if scale.diverging else self.sequential


@dataclass(frozen=True)
class MapPixel:
    """One pixel of one feature map: what hovering a mosaic points at."""

    channel: int
    orientation: int  # group element index (0 for planar layers)
    y: int  # row in the map
    x: int  # column in the map


@dataclass(frozen=True, eq=False)
class LayerLayout:
    """Where each map of a layer sits in its mosaic, and how to draw the mosaic."""

    name: str
    channels: int
    orientations: int  # G; 1 for a planar layer
    size: int  # map side h = w
    zoom: int  # magnification of each map pixel
    cell_index: np.ndarray  # int [rows, cols]: channel * G + orientation, or -1 (empty cell)
    column_labels: tuple[str, ...]
    row_labels: tuple[str, ...]
    group: Group | None = None  # the group of the orientation axis, None for planar layers
    gap: int = GAP
    # the layer's channels this layout shows (a focused subset, see :func:`channel_range`);
    # None: all of them, in order. ``channels`` counts those shown.
    channel_ids: tuple[int, ...] | None = None

    def channel_id(self, shown: int) -> int:
        """The layer's channel number of the ``shown``-th channel of this layout."""
        return shown if self.channel_ids is None else self.channel_ids[shown]

    @property
    def rows(self) -> int:
        return self.cell_index.shape[0]

    @property
    def cols(self) -> int:
        return self.cell_index.shape[1]

    @property
    def cell(self) -> int:
        return self.size * self.zoom

    @property
    def pitch(self) -> int:
        return self.cell + self.gap

    @property
    def shape(self) -> tuple[int, int]:
        """Mosaic ``(height, width)`` in pixels."""
        return self.rows * self.pitch - self.gap, self.cols * self.pitch - self.gap

    @property
    def is_group(self) -> bool:
        return self.group is not None

    def orientation_label(self, g: int) -> str:
        return self.group.label(g) if self.group is not None else ""

    def cell_origin(self, channel: int, orientation: int = 0) -> tuple[int, int]:
        """Top-left mosaic pixel ``(row, col)`` of a map (``channel``: the layer's number)."""
        shown = channel if self.channel_ids is None else channel - self.channel_ids[0]
        if self.channel_ids is not None and not 0 <= shown < len(self.channel_ids):
            raise ValueError(f"{self.name} shows no map ({channel}, {orientation})")
        hits = np.argwhere(self.cell_index == shown * self.orientations + orientation)
        if len(hits) == 0:
            raise ValueError(f"{self.name} has no map ({channel}, {orientation})")
        r, c = hits[0]
        return int(r) * self.pitch, int(c) * self.pitch

    def cell_of(self, mosaic: np.ndarray, channel: int, orientation: int = 0) -> np.ndarray:
        """The part of a mosaic that shows one map (magnified)."""
        top, left = self.cell_origin(channel, orientation)
        return mosaic[top : top + self.cell, left : left + self.cell]

    def locate(self, row: float, col: float) -> MapPixel | None:
        """The map pixel under mosaic pixel ``(row, col)``; None over gaps and outside."""
        if row < 0 or col < 0:
            return None
        r, y = divmod(int(row), self.pitch)
        c, x = divmod(int(col), self.pitch)
        if r >= self.rows or c >= self.cols or y >= self.cell or x >= self.cell:
            return None
        flat = int(self.cell_index[r, c])
        if flat < 0:
            return None
        shown, orientation = divmod(flat, self.orientations)
        return MapPixel(self.channel_id(shown), orientation, y // self.zoom, x // self.zoom)

    @cached_property
    def _gather(self) -> np.ndarray:
        """intp ``[H, W]``: for each mosaic pixel, its index into the layer's flattened
        ``[C·G·h·w]`` values, or ``C·G·h·w`` (one past the end) for gaps and empty cells."""
        n = self.channels * self.orientations * self.size * self.size
        height, width = self.shape
        rows, cols = np.arange(height), np.arange(width)
        cell_r, y = np.divmod(rows, self.pitch)
        cell_c, x = np.divmod(cols, self.pitch)
        flat = self.cell_index[cell_r[:, None], cell_c[None, :]]  # [H, W] map of each pixel
        inside = (y[:, None] < self.cell) & (x[None, :] < self.cell) & (flat >= 0)
        pixel = (y[:, None] // self.zoom) * self.size + (x[None, :] // self.zoom)
        return np.where(inside, flat * self.size * self.size + pixel, n).astype(np.intp)

    def render(self, data: np.ndarray, scale: LayerScale) -> np.ndarray:
        """uint8 mosaic ``[H, W]`` of ``data`` ``[C, G, h, w]`` on the layer's fixed scale."""
        values = np.empty(data.size + 1, np.uint8)
        values[:-1] = scale.to_index(data.reshape(-1))
        values[-1] = GAP_INDEX
        # one gather: cells, magnification and gaps at once (np.take: faster than indexing)
        return np.take(values, self._gather)


def channel_range(first: int, last: int, channels: int) -> tuple[int, ...]:
    """Channels ``first … last`` of a layer with ``channels`` (clamped to it, in order): the
    subset a focused layer shows. A range, so that a planar grid's ``+c`` column labels stay
    true (row label + column label = channel)."""
    first = min(max(0, first), channels - 1)
    last = min(max(first, last), channels - 1)
    return tuple(range(first, last + 1))


def layer_layout(
    name: str,
    shape: tuple[int, ...],
    group: Group | None = None,
    channel_ids: tuple[int, ...] | None = None,
) -> LayerLayout:
    """The layout for one layer's maps of ``shape`` ``(C, G, h, w)`` or ``(C, h, w)``;
    ``channel_ids``: show only those channels (a contiguous range, see :func:`channel_range`),
    their data passed as ``data[list(channel_ids)]`` to :meth:`LayerLayout.render`."""
    if len(shape) == 4:
        channels, orientations, size, width = shape
        if group is None or group.order != orientations:
            raise ValueError(f"{name}: a group layer of shape {shape} needs its group")
    elif len(shape) == 3:
        channels, size, width = shape
        orientations, group = 1, None
    else:
        raise ValueError(f"{name}: expected (C, G, h, w) or (C, h, w), got {shape}")
    if size != width:
        raise ValueError(f"{name}: maps must be square, got {size}×{width}")
    ids = tuple(range(channels)) if channel_ids is None else tuple(channel_ids)
    if not ids or any(b != a + 1 for a, b in zip(ids, ids[1:], strict=False)):
        raise ValueError(f"{name}: channels to show must be a range, got {ids}")
    if ids[0] < 0 or ids[-1] >= channels:
        raise ValueError(f"{name}: has channels 0–{channels - 1}, not {ids[0]}–{ids[-1]}")
    channels = len(ids)
    zoom = max(1, round(CELL_TARGET / size))
    if group is not None:
        cell_index = np.arange(channels * orientations).reshape(channels, orientations)
        column_labels = tuple(group.label(g) for g in group.elements)
        row_labels = tuple(str(c) for c in ids)
    elif name == CLASS_LAYER:
        # one value per class: a column of 10 cells, rows labelled by class as in the group
        # models' top layer (a 4-wide channel grid would leave unexplained empty cells)
        cell_index = np.arange(channels).reshape(channels, 1)
        column_labels = ("class",)
        row_labels = tuple(str(c) for c in ids)
    else:
        cols = min(channels, PLANAR_COLUMNS)
        rows = math.ceil(channels / cols)
        flat = np.arange(rows * cols).reshape(rows, cols)  # reading order: channel r·cols + c
        cell_index = np.where(flat < channels, flat, -1)
        column_labels = tuple(f"+{c}" for c in range(cols))
        row_labels = tuple(str(ids[0] + r * cols) for r in range(rows))
    return LayerLayout(
        name=name,
        channels=channels,
        orientations=orientations,
        size=size,
        zoom=zoom,
        cell_index=cell_index,
        column_labels=column_labels,
        row_labels=row_labels,
        group=group,
        channel_ids=None if channel_ids is None else ids,
    )


def as_group_maps(maps: torch.Tensor) -> torch.Tensor:
    """One sample's maps as ``[C, G, h, w]`` (G = 1 for a planar ``[C, h, w]`` layer)."""
    return maps.unsqueeze(1) if maps.dim() == 3 else maps


def stabilise(
    maps: torch.Tensor,
    group: Group | None,
    turns: int,
    *,
    angle: float | None = None,
    finest: Group | None = None,
) -> torch.Tensor:
    """Undo ``turns`` quarter turns of the input on one sample's maps.

    Group maps ``[C, G, h, w]``: act with the inverse rotation (rotate each map back and
    roll the orientation axis back; docs/ARCHITECTURE.md, “Tensor and group conventions”), so
    an equivariant network's maps of a rotated
    input equal those of the upright input. Planar maps ``[C, h, w]`` are only rotated back;
    a plain CNN's maps then still differ, which is the point.

    ``finest``: the model's finest group. When it is finer than quarter turns (C8, C16) and
    ``angle`` is given, the rotation of ``finest`` nearest ``angle`` is undone instead (C8 at
    45°: every map turned back 45°, interpolated, and the orientation axis rolled back by one).
    """
    if angle is not None and finest is not None and finest.interpolated:
        degrees = finest.degrees(finest.nearest_rotation(angle))
        if degrees == 0.0:
            return maps
        if group is None or maps.dim() == 3:
            return rotate_planes(maps, -degrees)
        return group.act_on_group_map(group.inverse(group.nearest_rotation(degrees)), maps)
    turns %= 4
    if turns == 0:
        return maps
    if group is None or maps.dim() == 3:
        import torch

        return torch.rot90(maps, -turns, dims=(-2, -1))
    return group.act_on_group_map(group.inverse(quarter_turn_element(group, turns)), maps)


def best_columns(
    n_layers: int,
    layer_size: tuple[float, float],
    area: tuple[float, float],
    chrome: tuple[float, float] = (0.0, 0.0),
) -> int:
    """How many layers per row make the mosaics largest in ``area`` ``(width, height)``.

    ``layer_size`` is a mosaic's ``(width, height)``; ``chrome`` the fixed space each layer
    needs besides its mosaic (axes, title, colour bar).
    """
    best, best_scale = 1, -1.0
    for cols in range(1, max(1, n_layers) + 1):
        rows = math.ceil(n_layers / cols)
        sx = (area[0] / cols - chrome[0]) / layer_size[0]
        sy = (area[1] / rows - chrome[1]) / layer_size[1]
        scale = min(sx, sy)
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best

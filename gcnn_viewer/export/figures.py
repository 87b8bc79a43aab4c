"""Figures with matplotlib's object API (no pyplot state, no Qt): the current view, the
rotate-and-cycle lecture figure, and the probability-vs-angle plot.

Feature maps are drawn as the app draws them: each layer's mosaic (cells channels ×
orientations, :mod:`gcnn_viewer.viewer.layout`) coloured on the layer's fixed colour scale from
the model's :class:`~gcnn_viewer.viewer.ModelProbe`, and embedded as a nearest-neighbour raster
(``interpolation="none"``; SVG marks it ``image-rendering: pixelated``).

Everything sits on one full-figure axes whose data coordinates are inches from the top-left
corner (a :class:`Sheet`): positions are computed, not left to a layout engine, so labels never
collide, a map cell has the same size in every figure, and a figure with hundreds of labels
builds in a fraction of a second (matplotlib axes and tick objects are slow to make).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from gcnn_viewer.export.colours import lookup_table, to_rgb
from gcnn_viewer.export.common import ExportError, ExportModel, ViewSpec, angle_text
from gcnn_viewer.figure_output import LABEL_PT
from gcnn_viewer.viewer.inference import FrameResult
from gcnn_viewer.viewer.layout import PLANAR_COLUMNS, LayerLayout, LayerScale, stabilise
from gcnn_viewer.viewer.palette import UNTRAINED_COLOUR, panel_colour

# sizes in inches, fonts in points
PX = 0.0115  # one mosaic pixel (a map cell is ~24 px: ~0.28 in)
TITLE_PT, HEAD_PT, TICK_PT = 11.0, 9.0, 6.0  # LABEL_PT: figure_output's default size
MARGIN = 0.2
ROW_LABELS_W = 0.24  # left of each mosaic: channel numbers
COL_LABELS_H = 0.15  # above each mosaic: orientations
LAYER_TITLE_H = 0.17
COLUMN_GAP = 0.16
INPUT_SIDE = 0.85
BAR_H = 0.08
RASTER_DPI = 200  # rasters in figures: at least this many pixels per inch (see Sheet)
# The view's figure lays its (model, angle) rows side by side, as many as bring its shape
# nearest this width : height, between A4/Letter landscape (1.41, 1.29) and a 16:9 slide.
PAGE_ASPECT = 1.6
BLOCK_GAP = 0.3  # between rows laid side by side
ROW_MAPS_MAX = 3.0  # inches: small layers at several angles are magnified up to this height
OUTLINE = "#19d3ff"  # the followed map: cyan stands out on inferno
MATCH_COLOUR, MISMATCH_COLOUR = "#1b7f3b", "#b3261e"


class Sheet:
    """A figure with one invisible axes whose data coordinates are inches, origin top-left.

    ``raster_dpi``: rasters are magnified (nearest neighbour, an integer factor) to at least
    this many pixels per inch as placed. Browsers and PDF viewers honour "pixelated" / no
    interpolation, but some (librsvg, several PDF viewers) smooth small images anyway; a map
    pixel that is already a block of pixels stays a crisp block there too.
    """

    def __init__(self, width: float, height: float, raster_dpi: float | None = None) -> None:
        self.width, self.height = width, height
        self.raster_dpi = raster_dpi
        self.figure = Figure(figsize=(width, height))
        self.figure.patch.set_facecolor("white")
        ax = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        ax.set_xlim(0.0, width)
        ax.set_ylim(height, 0.0)
        ax.set_autoscale_on(False)
        self.ax = ax

    def image(
        self, pixels: np.ndarray, left: float, top: float, width: float, height: float, **kw
    ) -> AxesImage:
        kw.setdefault("interpolation", "none")
        return self.ax.imshow(
            self.magnified(pixels, height),
            extent=(left, left + width, top + height, top),
            aspect="auto",
            resample=False,
            **kw,
        )

    def magnified(self, pixels: np.ndarray, height: float) -> np.ndarray:
        """``pixels`` with each pixel repeated k×k times to reach ``raster_dpi``."""
        if self.raster_dpi is None or pixels.shape[0] == 0:
            return pixels
        k = min(16, math.ceil(self.raster_dpi * height / pixels.shape[0]))
        if k <= 1:
            return pixels
        return np.repeat(np.repeat(pixels, k, axis=0), k, axis=1)

    def text(self, x: float, y: float, s: str, **kw) -> Text:
        kw.setdefault("fontsize", LABEL_PT)
        return self.ax.text(x, y, s, **kw)

    def frame(self, left, top, width, height, **kw) -> Rectangle:
        kw.setdefault("fill", False)
        return self.ax.add_patch(Rectangle((left, top), width, height, **kw))

    def arrow(self, start: tuple[float, float], end: tuple[float, float], colour: str) -> None:
        self.ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6, "mutation_scale": 11},
        )

    def colour_bar(self, scale: LayerScale, left: float, top: float, width: float) -> None:
        """The layer's colour map from ``lo`` to ``hi``, ends (and 0 if signed) labelled."""
        lut = lookup_table(scale)[1:]  # [255, 3]: the app's colours
        self.image(lut[None], left, top, width, BAR_H)
        self.frame(left, top, width, BAR_H, linewidth=0.4, edgecolor="#444444")
        ticks = [scale.lo, 0.0, scale.hi] if scale.diverging else [scale.lo, scale.hi]
        span = scale.hi - scale.lo if scale.hi > scale.lo else 1.0
        for t in ticks:
            x = left + width * (t - scale.lo) / span
            ha = "left" if t == scale.lo else "right" if t == scale.hi else "center"
            self.text(x, top + BAR_H + 0.02, f"{t:.2g}", ha=ha, va="top", fontsize=TICK_PT)

    def input_image(self, image: np.ndarray, left: float, top: float, side: float) -> AxesImage:
        im = self.image(image, left, top, side, side, cmap="gray", vmin=0.0, vmax=1.0)
        self.frame(left, top, side, side, linewidth=0.4, edgecolor="#444444")
        return im


# -- layouts for a channel subset ----------------------------------------------------------
def channel_layout(layout: LayerLayout, channels: Sequence[int]) -> LayerLayout:
    """The layout of a layer restricted to ``channels`` (rendered from ``data[channels]``).

    Group layers keep their channels × orientations grid with the chosen channels as rows; a
    planar subset is one row labelled by channel (up to ``2 × PLANAR_COLUMNS`` channels), else
    a reading-order grid whose row labels list the channels in that row.
    """
    channels = list(channels)
    if channels == list(range(layout.channels)):
        return layout
    k = len(channels)
    if layout.is_group:
        g = layout.orientations
        return dataclasses.replace(
            layout,
            channels=k,
            cell_index=np.arange(k * g).reshape(k, g),
            row_labels=tuple(str(c) for c in channels),
        )
    cols = k if k <= 2 * PLANAR_COLUMNS else PLANAR_COLUMNS
    rows = math.ceil(k / cols)
    flat = np.arange(rows * cols).reshape(rows, cols)
    if rows == 1:
        column_labels, row_labels = tuple(str(c) for c in channels), ("",)
    else:
        column_labels = ("",) * cols
        row_labels = tuple(
            ",".join(str(c) for c in channels[r * cols : (r + 1) * cols]) for r in range(rows)
        )
    return dataclasses.replace(
        layout,
        channels=k,
        cell_index=np.where(flat < k, flat, -1),
        column_labels=column_labels,
        row_labels=row_labels,
    )


def mosaic_rgb(
    layout: LayerLayout, data: np.ndarray, scale: LayerScale, channels: Sequence[int]
) -> np.ndarray:
    """uint8 ``[H, W, 3]``: the app's mosaic of ``data`` ``[C, G, h, w]`` for ``channels``."""
    sub = channel_layout(layout, channels)
    picked = data if sub is layout else data[list(channels)]
    return to_rgb(sub.render(np.ascontiguousarray(picked), scale), scale)


def label_mosaic(
    sheet: Sheet, layout: LayerLayout, left: float, top: float, px: float = PX
) -> None:
    """Orientation (or planar column) labels above a mosaic, channel labels left of it."""
    pitch, cell = layout.pitch * px, layout.cell * px
    # p4m's "m180°" needs a smaller font to fit a cell's width (~0.3 in)
    size = TICK_PT - 0.7 if layout.orientations > 4 else TICK_PT
    for c, text in enumerate(layout.column_labels):
        sheet.text(
            left + c * pitch + cell / 2, top - 0.025, text, ha="center", va="bottom", fontsize=size
        )
    for r, text in enumerate(layout.row_labels):
        sheet.text(
            left - 0.03, top + r * pitch + cell / 2, text, ha="right", va="center", fontsize=TICK_PT
        )


def prediction_text(probabilities: np.ndarray) -> str:
    top = int(np.argmax(probabilities))
    return f"→ {top} ({100 * float(probabilities[top]):.1f}%)"


def model_line(model: ExportModel, compact: bool = False) -> str:
    """A model's heading: name and kind, and UNTRAINED when it is (``compact``: shorter, for
    the narrow columns of the rotate-and-cycle figure)."""
    if compact:
        return f"{model.title}: {model.kind}" + ("" if model.trained else " — UNTRAINED")
    trained = " — UNTRAINED, random weights" if not model.trained else ""
    return f"{model.title}{trained} ({model.kind})"


def weights_line(model: ExportModel, compact: bool = False) -> str:
    if compact:
        return f"weights sha256 {model.sha256[:12]}…"
    return f"{model.source} · weights sha256 {model.sha256[:16]}…"


HEADING_GAP = 0.22  # inches from a heading's name line to its weights line


def model_heading(
    sheet: Sheet, left: float, top: float, i: int, model: ExportModel, *, compact: bool = False
) -> None:
    """The two lines that head model ``i``'s part of a figure, hung from ``top``: its name in
    its panel colour (red when untrained), then where its weights come from."""
    sheet.text(
        left,
        top,
        model_line(model, compact),
        fontsize=HEAD_PT + (1.0 if compact else 0.5),
        weight="bold",
        color=_model_colour(i, model),
        va="top",
    )
    sheet.text(
        left,
        top + HEADING_GAP,
        weights_line(model, compact),
        fontsize=TICK_PT + (0.0 if compact else 0.5),
        color="#444444",
        va="top",
    )


def text_width(text: str, points: float, bold: bool = False) -> float:
    """About how wide ``text`` is in inches (DejaVu Sans averages ~0.55 em a character)."""
    return len(text) * points * (0.62 if bold else 0.55) / 72.0


def deg(angle: float) -> str:
    return f"{angle_text(angle)}°"


def _model_colour(i: int, model: ExportModel) -> str:
    """The model's colour in the app: its panel's (the app sets ``panel``; else the i-th
    model is the i-th panel, left then right), red when untrained."""
    if not model.trained:
        return UNTRAINED_COLOUR
    return panel_colour(model.panel if model.panel is not None else i)


# -- the current view --------------------------------------------------------------------------
@dataclasses.dataclass
class _Slot:
    model: int
    angle: int
    layer: str
    image: AxesImage
    height: float  # inches on the page


@dataclasses.dataclass
class _InputSlot:
    model: int
    angle: int
    image: AxesImage
    label: Text
    prediction: Text


def _magnification(widths: dict[str, float], tallest: list[float], n_frames: int) -> float:
    """A few small layers (an animation of one layer, say) are magnified up to 2.5×, so the
    maps, not the labels, fill the figure; all layers of a model stay at 1×. ``widths`` and
    ``tallest`` in mosaic pixels."""
    total = sum(widths.values()) * PX
    magnify = min(2.5, max(1.0, 4.5 / max(total, 1e-6)))
    if n_frames > 1:  # several rows: none taller than ROW_MAPS_MAX for a magnification
        magnify = min(magnify, max(1.0, ROW_MAPS_MAX / max(max(tallest) * PX, 1e-6)))
    return magnify


@dataclasses.dataclass
class _ViewGeometry:
    """Where the view figure's parts go, in inches (see :class:`ViewFigure`)."""

    columns: list[str]  # every model's layers, in order, each once
    widths: dict[str, float]  # layer -> its widest mosaic
    tallest: list[float]  # per model: its tallest mosaic
    input_w: float  # the input and its labels, left of each row
    col_w: dict[str, float]  # layer -> its column, labels and gap included
    row_h: list[float]  # per model: one (model, angle) row
    title_h: float
    head_h: float = 0.46  # a model's heading
    bar_h: float = 0.36  # its colour bars

    @property
    def block_w(self) -> float:  # one row: the input and its layers
        return self.input_w + sum(self.col_w.values())


class ViewFigure:
    """The app's view of one or two models at one or more angles: a row per (model, angle)
    with the model input and its prediction, a column per layer, and each layer's colour bar
    under its model's rows. A model's rows are laid ``wrap`` side by side (default: as many as
    bring the figure nearest :data:`PAGE_ASPECT`, a landscape page or slide), so that one
    layer at four angles is not a tall strip.

    Keeps its artists, so an animation swaps in new frames (:meth:`update`) without building
    the figure again.
    """

    def __init__(
        self,
        spec: ViewSpec,
        frames: Sequence[FrameResult],
        *,
        subtitle: str = "",
        animation: bool = False,
        raster_dpi: float | None = RASTER_DPI,
        wrap: int | None = None,
    ) -> None:
        self.spec = spec
        self.animation = animation  # the angle is under each input, the titles stay
        self.layers = [spec.layer_names(m) for m in spec.models]
        self.channels: dict[tuple[int, str], list[int]] = {}
        geo = self._geometry(len(frames), subtitle)
        names = " vs ".join(m.title for m in spec.models)
        mode = "stabilised maps (quarter turns undone)" if spec.stabilised else "raw maps"
        title = f"{names}: {mode}"
        shape = self._shape_of(geo, len(frames), title, subtitle)
        if wrap is None:
            wrap = min(
                range(1, len(frames) + 1),
                key=lambda k: abs(math.log(shape(k)[0] / shape(k)[1] / PAGE_ASPECT)),
            )
        self.wrap = wrap = max(1, min(wrap, len(frames)))
        sheet = Sheet(*shape(wrap), raster_dpi)
        self.sheet, self.figure = sheet, sheet.figure
        sheet.text(MARGIN, 0.16, title, fontsize=TITLE_PT, weight="bold", va="top")
        self.info = sheet.text(MARGIN, 0.42, "", fontsize=LABEL_PT + 0.5, va="top")
        if subtitle:
            sheet.text(MARGIN, 0.62, subtitle, fontsize=TICK_PT, va="top", color="#444444")
        self.slots: list[_Slot] = []
        self.inputs: list[_InputSlot] = []
        top = geo.title_h
        for i, m in enumerate(spec.models):
            model_heading(sheet, MARGIN, top + 0.07, i, m)
            top += geo.head_h
            for a in range(len(frames)):
                left0 = MARGIN + (a % wrap) * (geo.block_w + BLOCK_GAP)
                self._draw_row(geo, i, a, left0, top + (a // wrap) * geo.row_h[i])
            top += math.ceil(len(frames) / wrap) * geo.row_h[i]
            self._draw_colour_bars(geo, i, top, min(wrap, len(frames)))
            top += geo.bar_h
        self.update(frames)

    def _geometry(self, n_frames: int, subtitle: str) -> _ViewGeometry:
        """Measures every chosen layer's mosaic (and keeps its channels) and sizes the
        columns and rows; sets :attr:`px`, the mosaic pixel's side."""
        widths: dict[str, float] = {}  # layer -> its widest mosaic (mosaic pixels)
        tallest: list[float] = []  # per model (mosaic pixels)
        for i, m in enumerate(self.spec.models):
            high = 0.0
            for name in self.layers[i]:
                layout = m.probe.layouts[name]
                chans = self.spec.channel_list(layout.channels, f"{m.title} {name}")
                self.channels[i, name] = chans
                h, w = channel_layout(layout, chans).shape
                widths[name] = max(widths.get(name, 0.0), w)
                high = max(high, h)
            tallest.append(high)
        self.px = px = PX * _magnification(widths, tallest, n_frames)
        widths = {name: w * px for name, w in widths.items()}
        tallest = [h * px for h in tallest]
        columns: list[str] = []
        for names in self.layers:
            columns += [n for n in names if n not in columns]
        return _ViewGeometry(
            columns=columns,
            widths=widths,
            tallest=tallest,
            input_w=INPUT_SIDE + 0.3,
            col_w={n: ROW_LABELS_W + max(widths[n], 0.6) + COLUMN_GAP for n in columns},
            row_h=[
                LAYER_TITLE_H + COL_LABELS_H + max(t, INPUT_SIDE + 0.35) + 0.14 for t in tallest
            ],
            title_h=0.86 if subtitle else 0.7,
        )

    def _shape_of(self, geo: _ViewGeometry, n_frames: int, title: str, subtitle: str):
        """``shape(k)``: the figure's width and height with ``k`` rows side by side (at
        least as wide as its longest line of text)."""
        models = self.spec.models
        texts = [(title, TITLE_PT, True), (subtitle, LABEL_PT, False)]
        texts += [(model_line(m), HEAD_PT + 0.5, True) for m in models]
        texts += [(weights_line(m), TICK_PT + 0.5, False) for m in models]
        text_w = 2 * MARGIN + max(text_width(*t) for t in texts)

        def shape(k: int) -> tuple[float, float]:
            lines = math.ceil(n_frames / k)
            w = max(2 * MARGIN + k * geo.block_w + (k - 1) * BLOCK_GAP, text_w, 5.0)
            h = (
                geo.title_h
                + MARGIN
                + sum(geo.head_h + lines * geo.row_h[i] + geo.bar_h for i in range(len(models)))
            )
            return w, h

        return shape

    def _draw_row(self, geo: _ViewGeometry, i: int, a: int, left0: float, top: float) -> None:
        """Model ``i`` at angle ``a``: the input and its prediction, then each layer's
        mosaic (blank until :meth:`update`) with its labels."""
        sheet, px = self.sheet, self.px
        mosaic_top = top + LAYER_TITLE_H + COL_LABELS_H
        blank = np.zeros((28, 28), np.float32)
        image = sheet.input_image(blank, left0, mosaic_top, INPUT_SIDE)
        label = sheet.text(left0 + INPUT_SIDE / 2, mosaic_top - 0.04, "", ha="center", va="bottom")
        pred = sheet.text(
            left0 + INPUT_SIDE / 2,
            mosaic_top + INPUT_SIDE + 0.04,
            "",
            ha="center",
            va="top",
            weight="bold",
        )
        self.inputs.append(_InputSlot(i, a, image, label, pred))
        probe = self.spec.models[i].probe
        x = left0 + geo.input_w
        for name in geo.columns:
            if name in self.layers[i]:
                layout = channel_layout(probe.layouts[name], self.channels[i, name])
                h, w = layout.shape
                left = x + ROW_LABELS_W
                image = sheet.image(np.zeros((h, w, 3), np.uint8), left, mosaic_top, w * px, h * px)
                label_mosaic(sheet, layout, left, mosaic_top, px)
                sheet.text(
                    left + w * px / 2, top + 0.02, name, ha="center", va="top", weight="bold"
                )
                self.slots.append(_Slot(i, a, name, image, h * px))
            x += geo.col_w[name]

    def _draw_colour_bars(self, geo: _ViewGeometry, i: int, top: float, columns: int) -> None:
        """One colour bar per layer under each column of model ``i``'s rows: its scale is
        fixed, the same at every angle."""
        probe = self.spec.models[i].probe
        for k in range(columns):
            left0 = MARGIN + k * (geo.block_w + BLOCK_GAP)
            self.sheet.text(
                left0,
                top + 0.02,
                "colour scale\n(fixed per layer)",
                va="top",
                fontsize=TICK_PT,
                color="#555555",
            )
            x = left0 + geo.input_w
            for name in geo.columns:
                if name in self.layers[i]:
                    w = max(geo.widths[name], 0.6)
                    self.sheet.colour_bar(probe.scales[name], x + ROW_LABELS_W, top + 0.02, w)
                x += geo.col_w[name]

    def dynamic_artists(self) -> list:
        """What :meth:`update` changes (everything else is drawn once in an animation)."""
        out: list = [] if self.animation else [self.info]
        out += [s.image for s in self.slots]
        for s in self.inputs:
            out += [s.image, s.label, s.prediction]
        return out

    def update(self, frames: Sequence[FrameResult]) -> None:
        """Show ``frames`` (one per angle row, in order): maps, inputs, predictions, title."""
        spec = self.spec
        for slot in self.slots:
            m = spec.models[slot.model]
            probe = m.probe
            data = frames[slot.angle].panel(m.name).layers[slot.layer].data
            rgb = mosaic_rgb(
                probe.layouts[slot.layer],
                data,
                probe.scales[slot.layer],
                self.channels[slot.model, slot.layer],
            )
            slot.image.set_data(self.sheet.magnified(rgb, slot.height))
        for s in self.inputs:
            f = frames[s.angle]
            s.image.set_data(self.sheet.magnified(f.input, INPUT_SIDE))
            s.label.set_text(f"input at {deg(f.angle)}")
            probs = f.panel(spec.models[s.model].name).probabilities
            s.prediction.set_text(prediction_text(probs))
        source = spec.input.source
        if self.animation:
            self.info.set_text(f"input {source}, turning 0→360°")
            return
        info = f"input {source} at {', '.join(deg(f.angle) for f in frames)}"
        if spec.stabilised:
            info += f"; maps turned back {', '.join(deg(90 * f.turns) for f in frames)}"
        self.info.set_text(info)


# -- rotate and cycle --------------------------------------------------------------------------
def default_channels(spec: ViewSpec, model: ExportModel, layer: str, frame: FrameResult) -> list:
    """The channels a rotate-and-cycle figure shows: the chosen ones, else the three that
    respond most strongly to the input (a blank map teaches nothing), in channel order."""
    n = model.probe.layouts[layer].channels
    if spec.channels is not None:
        return spec.channel_list(n, f"{model.title} {layer}")
    data = frame.panel(model.name).layers[layer].data  # [C, G, h, w]
    strength = data.reshape(n, -1).max(axis=1)
    return sorted(int(c) for c in np.argsort(-strength, kind="stable")[: min(3, n)])


def stabilised_maps(data: np.ndarray, layout: LayerLayout, turns: int) -> np.ndarray:
    """Undo ``turns`` quarter turns of the input on displayed maps ``[C, G, h, w]`` with the
    app's :func:`~gcnn_viewer.viewer.stabilise` (planar layers: G = 1)."""
    t = torch.from_numpy(np.ascontiguousarray(data))
    if not layout.is_group:
        return stabilise(t[:, 0], None, turns).unsqueeze(1).numpy()
    return stabilise(t, layout.group, turns).numpy()


@dataclasses.dataclass
class _Block:
    model: ExportModel
    layout: LayerLayout
    channels: list[int]
    strips: list[list[int]]  # group: one strip (1 × G maps) per channel; planar: one strip
    width: float
    matched: bool | None = None  # every row equals the first with its turn undone (None: no
    # row a whole number of quarter turns from the first)
    # per row r > 0 a whole number of quarter turns from the first: (r, max |Δ|, equal)
    agreement: list[tuple[int, float, bool]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _RotateAndCycle:
    """What the rotate-and-cycle figure shows, computed before anything is drawn."""

    spec: ViewSpec
    raw: Sequence[FrameResult]
    layer: str
    angles: list[float]
    exact: list[bool]  # row r is a whole number of quarter turns from the first
    turns: list[int]  # row r's quarter turns from the first, mod 4
    blocks: list[_Block]
    follow: tuple[int, int, int] | None  # (block, channel, orientation) outlined row to row
    # sizes in inches: a map's side, the gaps between maps, strips and blocks
    cell: float
    gap: float = 0.05
    strip_gap: float = 0.24
    block_gap: float = 0.6

    def maps(self, r: int, block: _Block) -> np.ndarray:
        """Row ``r``'s maps of ``block``'s model ``[C, G, h, w]``, stabilised if asked."""
        data = self.raw[r].panel(block.model.name).layers[self.layer].data
        if self.spec.stabilised:
            data = stabilised_maps(data, block.layout, self.turns[r])
        return data


def rotate_and_cycle_figure(
    spec: ViewSpec, raw: Sequence[FrameResult], layer: str, *, subtitle: str = ""
) -> Figure:
    """One layer of each model, a row per angle. A group model's maps turn with the input and
    move one orientation column per quarter turn, cyclically; an outline and arrows follow one
    map from row to row. With ``spec.stabilised`` each row's quarter turns are undone and a
    group model's rows match. ``raw``: unstabilised frames, one per angle (first = reference).
    """
    rc = _rotate_and_cycle(spec, raw, layer)
    cell = rc.cell
    left0 = MARGIN + cell + 0.55  # the input column and its angle labels
    blocks_w = sum(b.width for b in rc.blocks) + rc.block_gap * (len(rc.blocks) - 1)
    width = max(left0 + blocks_w + MARGIN, 6.5)
    title_h = 0.78 if subtitle else 0.62
    head_h = 0.8  # model name, its weights, channel titles, orientation labels
    row_h = cell + 0.3  # a row of maps and the line under it
    foot_h = 0.85
    height = title_h + head_h + len(raw) * row_h + 0.45 + foot_h
    sheet = Sheet(width, height, RASTER_DPI)
    _rc_titles(sheet, rc, subtitle)
    top0 = title_h + head_h
    _rc_inputs(sheet, rc, top0, row_h)
    x0 = left0
    for i, b in enumerate(rc.blocks):
        model_heading(sheet, x0, title_h + 0.02, i, b.model, compact=True)
        _rc_block(sheet, rc, i, x0, top0, row_h)
        x0 += b.width + rc.block_gap
    foot = _footnote(spec, rc.blocks, rc.follow, layer)
    sheet.text(MARGIN, height - foot_h + 0.08, foot, va="top", fontsize=LABEL_PT + 1)
    return sheet.figure


# -- rotate and cycle: computing ---------------------------------------------------------------
def _rotate_and_cycle(spec: ViewSpec, raw: Sequence[FrameResult], layer: str) -> _RotateAndCycle:
    models = list(spec.models)
    for m in models:
        if layer not in m.probe.layers:
            raise ExportError(
                f"{m.title} has no layer {layer}; its layers are {' '.join(m.probe.layers)}"
            )
    angles = [f.angle for f in raw]
    steps = [(a - angles[0]) / 90.0 for a in angles]
    rc = _RotateAndCycle(
        spec,
        raw,
        layer,
        angles=angles,
        exact=[math.isclose(s, round(s), abs_tol=1e-9) for s in steps],
        turns=[round(s) % 4 for s in steps],
        blocks=[],
        follow=None,
        cell=0.5 if len(models) > 1 else 0.6,
    )
    rc.blocks = [_block(rc, m) for m in models]
    rc.follow = _followed_map(rc)
    for b in rc.blocks:
        _check_agreement(rc, b)
    return rc


def _block(rc: _RotateAndCycle, m: ExportModel) -> _Block:
    """One model's column of the figure: its channels in strips, and how wide it is."""
    layout = m.probe.layouts[rc.layer]
    chans = default_channels(rc.spec, m, rc.layer, rc.raw[0])
    strips = [[c] for c in chans] if layout.is_group else [chans]
    counts = [layout.orientations if layout.is_group else len(s) for s in strips]
    w = sum(n * rc.cell + (n - 1) * rc.gap for n in counts) + rc.strip_gap * (len(strips) - 1)
    # room for the line under each row, whose text is longest for the last quarter turn
    sample = _agreement(rc.spec, layout, 3, 0.0, layout.is_group).replace("0e+00", "7e-07")
    heading = text_width(model_line(m, compact=True), HEAD_PT + 1, bold=True)
    w = max(w, 1.6, text_width(sample, TICK_PT + 1.5) + 0.1, heading)
    return _Block(m, layout, chans, strips, w)


def _followed_map(rc: _RotateAndCycle) -> tuple[int, int, int] | None:
    """The map to follow: the first group model's first channel, at its strongest
    orientation in the first row."""
    for i, b in enumerate(rc.blocks):
        if b.layout.is_group:
            data0 = rc.raw[0].panel(b.model.name).layers[rc.layer].data  # [C, G, h, w]
            c = b.channels[0]
            g = int(np.argmax(data0[c].reshape(b.layout.orientations, -1).max(axis=1)))
            return (i, c, g)
    return None


def _check_agreement(rc: _RotateAndCycle, b: _Block) -> None:
    """How far each row is from the first once its turn is undone: 0 for a group model."""
    scale = b.model.probe.scales[rc.layer]
    first = rc.raw[0].panel(b.model.name).layers[rc.layer].data
    for r in range(1, len(rc.raw)):
        if not rc.exact[r]:
            continue
        data = rc.raw[r].panel(b.model.name).layers[rc.layer].data
        other = stabilised_maps(data, b.layout, rc.turns[r])
        d = float(np.abs(other - first).max())
        same = d <= 1e-4 * max(abs(scale.hi), abs(scale.lo), 1e-6)
        b.matched = same if b.matched is None else (b.matched and same)
        b.agreement.append((r, d, same))


# -- rotate and cycle: drawing -----------------------------------------------------------------
def _rc_titles(sheet: Sheet, rc: _RotateAndCycle, subtitle: str) -> None:
    spec = rc.spec
    mode = "stabilised (quarter turns undone)" if spec.stabilised else "rotate and cycle"
    names = " vs ".join(m.title for m in spec.models)
    sheet.text(
        MARGIN,
        0.14,
        f"{names}, layer {rc.layer}: {mode}",
        fontsize=TITLE_PT + 2,
        weight="bold",
        va="top",
    )
    line = f"input {spec.input.source}; rows: the input turned {', '.join(map(deg, rc.angles))}"
    sheet.text(MARGIN, 0.46, line, fontsize=LABEL_PT + 0.5, va="top")
    if subtitle:
        sheet.text(MARGIN, 0.64, subtitle, fontsize=TICK_PT, va="top", color="#444444")


def _rc_inputs(sheet: Sheet, rc: _RotateAndCycle, top0: float, row_h: float) -> None:
    """The input column: the turned digit of each row and its angle."""
    cell = rc.cell
    for r, f in enumerate(rc.raw):
        top = top0 + r * row_h
        sheet.input_image(f.input, MARGIN, top, cell)
        sheet.text(
            MARGIN + cell + 0.08,
            top + cell / 2,
            deg(f.angle),
            va="center",
            fontsize=HEAD_PT,
            weight="bold",
        )
    sheet.text(MARGIN + cell / 2, top0 - 0.06, "input", ha="center", va="bottom")


def _rc_block(
    sheet: Sheet, rc: _RotateAndCycle, i: int, x0: float, top0: float, row_h: float
) -> None:
    """Model ``i``'s strips of maps, the followed map's outlines and arrows, the line under
    each row and the colour bar."""
    b = rc.blocks[i]
    centres: list[tuple[float, float]] = []  # the outlined cell in each row
    x = x0
    for strip in b.strips:
        x, outlined = _rc_strip(sheet, rc, i, strip, x, top0, row_h)
        centres += outlined
    for (xa, ya), (xb, yb) in zip(centres, centres[1:], strict=False):
        sheet.arrow((xa, ya + rc.cell + 0.04), (xb, yb - 0.04), OUTLINE)
    followed = rc.follow is not None and rc.follow[0] == i  # keep clear of the arrows
    for r, d, same in b.agreement:
        sheet.text(
            x - rc.strip_gap if followed else x0,
            top0 + r * row_h + rc.cell + 0.05,
            _agreement(rc.spec, b.layout, rc.turns[r], d, same),
            ha="right" if followed else "left",
            va="top",
            fontsize=TICK_PT + 1.5,
            color=MATCH_COLOUR if same else MISMATCH_COLOUR,
        )
    scale = b.model.probe.scales[rc.layer]
    bar_top = top0 + len(rc.raw) * row_h + 0.05
    sheet.colour_bar(scale, x0, bar_top, min(b.width, 2.4))
    sheet.text(
        x0 + min(b.width, 2.4) / 2,
        bar_top + BAR_H + 0.02,
        f"{rc.layer} colour scale",
        ha="center",
        va="top",
        fontsize=TICK_PT,
        color="#555555",
    )


def _rc_strip(
    sheet: Sheet,
    rc: _RotateAndCycle,
    i: int,
    strip: list[int],
    x: float,
    top0: float,
    row_h: float,
) -> tuple[float, list[tuple[float, float]]]:
    """One strip of block ``i`` from ``x``: its labels, then its maps in every row. Returns
    where the next strip starts and the followed map's outlined cells."""
    b, cell, gap = rc.blocks[i], rc.cell, rc.gap
    layout = b.layout
    scale = b.model.probe.scales[rc.layer]
    n = layout.orientations if layout.is_group else len(strip)
    strip_w = n * cell + (n - 1) * gap
    _rc_strip_labels(sheet, rc, layout, strip, x, strip_w, top0)
    centres = []
    for r in range(len(rc.raw)):
        top = top0 + r * row_h
        maps = rc.maps(r, b)[strip].reshape(-1, layout.size, layout.size)  # [n, h, w]
        for k in range(n):
            rgb = to_rgb(scale.to_index(maps[k]), scale)
            sheet.image(rgb, x + k * (cell + gap), top, cell, cell)
        g = _outlined(rc, i, strip, r)
        if g is not None:
            cx = x + g * (cell + gap)
            sheet.frame(
                cx - 0.03, top - 0.03, cell + 0.06, cell + 0.06, edgecolor=OUTLINE, linewidth=2.2
            )
            centres.append((cx + cell / 2, top))
    return x + strip_w + rc.strip_gap, centres


def _rc_strip_labels(
    sheet: Sheet,
    rc: _RotateAndCycle,
    layout: LayerLayout,
    strip: list[int],
    x: float,
    strip_w: float,
    top0: float,
) -> None:
    """A group strip's channel title and orientation labels; a planar strip's channels."""
    cell, gap = rc.cell, rc.gap
    if layout.is_group:
        sheet.text(
            x + strip_w / 2,
            top0 - 0.24,
            f"channel {strip[0]}",
            ha="center",
            va="bottom",
            fontsize=LABEL_PT + 1.5,
            weight="bold",
        )
        labels = [layout.orientation_label(g) for g in range(layout.orientations)]
    else:
        labels = [f"ch {c}" for c in strip]
    for k, text in enumerate(labels):
        sheet.text(
            x + k * (cell + gap) + cell / 2,
            top0 - 0.04,
            text,
            ha="center",
            va="bottom",
            fontsize=LABEL_PT + 1,
        )


def _outlined(rc: _RotateAndCycle, i: int, strip: list[int], r: int) -> int | None:
    """The column of the followed map in row ``r`` of this strip (None: not here, or the
    row is no whole number of quarter turns from the first)."""
    if rc.follow is None or rc.follow[:2] != (i, strip[0]):
        return None
    g = rc.follow[2]
    if rc.spec.stabilised:
        return g
    group = rc.blocks[i].layout.group  # C8: a quarter turn is element 2
    return group.compose(group.quarter_turn_element(rc.turns[r]), g) if rc.exact[r] else None


def _agreement(spec: ViewSpec, layout: LayerLayout, turns: int, d: float, same: bool) -> str:
    """One line under a row: does it equal the first row with the turn undone?"""
    if spec.stabilised:
        return f"= first row (max |Δ| {d:.0e})" if same else f"≠ first row (max |Δ| {d:.2g})"
    what = f"first row turned {deg(90 * turns)}"
    if layout.is_group:
        # p4m: rotations move one way round their four columns, mirrored maps the other
        what += f", cycled by {turns}" if layout.orientations == 4 else ", columns permuted"
    return f"= {what} (max |Δ| {d:.0e})" if same else f"≠ {what} (max |Δ| {d:.2g})"


def _footnote(spec: ViewSpec, blocks: Sequence[_Block], follow, layer: str) -> str:
    lines = []
    if follow is not None:
        i, c, g = follow
        b = blocks[i]
        label = b.layout.orientation_label(g)
        if spec.stabilised:
            lines.append(
                f"Each row's quarter turns are undone: maps turned back and the orientation axis "
                f"rolled back. {b.model.title}'s rows are then identical (outline: channel {c}, "
                f"{label})."
            )
        elif b.layout.orientations == 4:
            lines.append(
                f"Outline: {b.model.title} channel {c}, its {label} map in the first row. Turning "
                "the input 90° turns every map 90° and moves it one orientation column to the "
                "right;\nthe last column wraps round to the first (a cyclic shift)."
            )
        else:
            lines.append(
                f"Outline: {b.model.title} channel {c}, its {label} map in the first row. Turning "
                "the input 90° turns every map 90° and moves it one column within its group of "
                "four:\nrotated maps (0°…270°) one column right, mirrored maps (m0°…m270°) one "
                "column left, each group cyclically."
            )
    for b in blocks:
        if b.layout.is_group:
            continue
        if b.matched:
            lines.append(
                f"{b.model.title} has no orientation axis here, and its {layer} maps just turn "
                "with the input (they are invariant to the orientation)."
            )
        elif b.matched is False:
            lines.append(
                f"{b.model.title} has no orientation axis: turning the input changes its {layer} "
                "maps, not only where they are."
            )
    lines.append("Colours: each model's fixed colour scale for this layer, as in the app.")
    return "\n".join(lines)


# -- probability vs angle ---------------------------------------------------------------------
def sweep_figure(
    spec: ViewSpec, angles: np.ndarray, probabilities: dict[str, np.ndarray], subtitle: str = ""
) -> Figure:
    """Each model's probability of the class it predicts upright, as the input turns; ticks
    under the curves mark angles where the model predicts another class. Each curve in its
    panel's colour, as the app's sweep draws it (an untrained model says so in the legend).
    ``spec.extra["tracked_class"]`` (the app's "Probability of" choice, 0–9): that class for
    every model instead, as the app's plot shows it."""
    tracked = spec.extra.get("tracked_class")
    tracked = tracked if isinstance(tracked, int) and 0 <= tracked <= 9 else None
    fig = Figure(figsize=(7.0, 3.6))
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.09, 0.15, 0.88, 0.63))
    n = len(spec.models)
    for i, m in enumerate(spec.models):
        p = probabilities[m.name]  # [N, 10]
        cls = int(np.argmax(p[0])) if tracked is None else tracked
        colour = panel_colour(m.panel if m.panel is not None else i)
        untrained = "" if m.trained else " (UNTRAINED)"
        label = f"{m.title}{untrained}: P(class {cls})"
        ax.plot(angles, p[:, cls], color=colour, lw=1.8, label=label)
        wrong = np.argmax(p, axis=1) != cls
        if wrong.any():
            ax.plot(
                angles[wrong],
                np.full(int(wrong.sum()), -0.045 - 0.04 * i),
                "|",
                color=colour,
                markersize=5,
                label=f"{m.title} predicts another class",
            )
    ax.set_xlim(float(angles[0]), 360.0)
    ax.set_ylim(-0.06 - 0.04 * n, 1.02)
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set_xlabel("input turned (degrees, counter-clockwise)")
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(
        fontsize=TICK_PT + 0.5, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False
    )
    names = " vs ".join(m.title for m in spec.models)
    fig.text(
        0.09,
        0.955,
        f"{names}: probability vs angle · input {spec.input.source}",
        fontsize=HEAD_PT + 1,
        weight="bold",
        va="top",
    )
    if subtitle:
        fig.text(0.09, 0.02, subtitle, fontsize=TICK_PT, color="#444444")
    return fig

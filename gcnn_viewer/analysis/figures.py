"""The analysis figures and number files, written as exports are (:mod:`gcnn_viewer.figure_output`:
matplotlib's object API, no pyplot and no Qt; provenance embedded in the file).

- :func:`equivariance_figure`: err_L(θ) per layer, one panel per model, log scale.
- :func:`accuracy_figure`: test error per angle bin (MNIST-rot) or per fixed angle (upright).
- :func:`filters_figure`: one output channel's stored filter and the bank the layer applies.
- :func:`write_figure`, :func:`write_csv`, :func:`write_npz`: atomic files with provenance
  (CSV: a ``FILE.csv.json`` sidecar, as ``export sweep`` does).
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from gcnn_viewer import __version__
from gcnn_viewer.analysis.accuracy import RotAccuracy, UprightAccuracy
from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.analysis.filters import FilterBank, LayerParameters
from gcnn_viewer.data.files import json_text
from gcnn_viewer.figure_output import (
    DEFAULT_DPI,
    FIGURE_FORMATS,
    atomic_output,
    check_destination,
    rc_context,
    save_figure,
    suffix_of,
)
from gcnn_viewer.viewer.palette import PANEL_COLOURS

EQUIVARIANCE_FORMATS = (*FIGURE_FORMATS, "csv", "npz")
ACCURACY_FORMATS = (*FIGURE_FORMATS, "csv", "npz")
FILTER_FORMATS = (*FIGURE_FORMATS, "npz")
# log-scale floor for an error of exactly 0 (θ = 0: the same input, the same pass)
LOG_FLOOR = 1e-9
TITLE_PT, LABEL_PT, SMALL_PT = 10.0, 8.0, 6.5


def record(kind: str, models: Sequence[Any], **more: Any) -> dict[str, Any]:
    """The provenance an analysis file records (``models``:
    :class:`~gcnn_viewer.viewer.sources.ExportModel` s)."""
    out = {
        "software": f"gcnn-viewer {__version__}",
        "kind": kind,
        "models": [m.provenance() for m in models],
        "angle_convention": "counter-clockwise; multiples of 90° are exactly torch.rot90",
    }
    out.update(more)
    return out


# -- writing -----------------------------------------------------------------------------------
def write_figure(fig: Figure, path: Path | str, meta: dict, dpi: int = DEFAULT_DPI) -> Path:
    return save_figure(fig, path, meta, dpi)


def write_csv(
    path: Path | str, header: Sequence[str], rows: Sequence[Sequence], meta: dict
) -> Path:
    """A CSV and its provenance sidecar ``FILE.csv.json``, both atomic."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None else (f"{v:.9g}" if isinstance(v, float) else v) for v in row]
        )
    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    with atomic_output(path) as tmp, atomic_output(sidecar) as tmp_meta:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        tmp_meta.write_text(json_text(meta, indent=2) + "\n", encoding="utf-8")
    return path


def write_npz(path: Path | str, arrays: Mapping[str, np.ndarray], meta: dict) -> Path:
    """An NPZ of ``arrays`` plus ``"meta"``: the provenance as a JSON string."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, meta=np.array(json_text(meta)), **arrays)
    return Path(path)


def check_output(path: Path | str, formats: Sequence[str], what: str) -> str:
    """The format of ``--out``, checked (folder exists, suffix allowed) before any work."""
    check_destination(path)
    return suffix_of(path, formats, what)


# -- equivariance --------------------------------------------------------------------------------
def layer_colours(names: Sequence[str]) -> dict[str, tuple]:
    """Shallow layers light, deep layers dark (viridis), logits black."""
    cmap = colormaps["viridis"]
    maps = [n for n in names if n != "logits"]
    out = {n: cmap(0.92 - 0.85 * i / max(1, len(maps) - 1)) for i, n in enumerate(maps)}
    out["logits"] = (0.0, 0.0, 0.0, 1.0)
    return out


def equivariance_figure(
    curves: Mapping[str, Mapping[str, np.ndarray]],
    angles: Sequence[float],
    source: str,
    subtitle: str = "",
) -> Figure:
    """err_L(θ) for every layer, one panel per model (``curves``: title -> layer -> errors),
    log scale; the band below :data:`EXACT_TOLERANCE` is float32 rounding (equal maps), and
    an error of exactly 0 is drawn on the floor."""
    angles = np.asarray(angles, np.float64)
    n = len(curves)
    fig = Figure(figsize=(4.4 * n + 1.2, 3.9))
    fig.patch.set_facecolor("white")
    width = 0.86 / n
    axes = []
    for i, (title, layers) in enumerate(curves.items()):
        ax = fig.add_axes((0.07 + i * width, 0.14, width - 0.05, 0.68))
        axes.append(ax)
        colours = layer_colours(list(layers))
        for name, err in layers.items():
            y = np.maximum(np.asarray(err, np.float64), LOG_FLOOR)
            lw, style = (1.8, "-") if name == "logits" else (1.1, "-")
            ax.plot(angles, y, style, color=colours[name], lw=lw, label=name, marker=".", ms=2.5)
        ax.set_yscale("log")
        ax.axhspan(LOG_FLOOR / 2, EXACT_TOLERANCE, color="#1b7f3b", alpha=0.08, lw=0)
        ax.text(
            0.01,
            0.02,
            f"below {EXACT_TOLERANCE:g}: equal up to float32 rounding (exact)",
            transform=ax.transAxes,
            fontsize=SMALL_PT,
            color="#1b7f3b",
        )
        ax.set_ylim(LOG_FLOOR / 2, 10.0)
        ax.set_xlim(float(angles.min(initial=0.0)), max(360.0, float(angles.max(initial=0.0))))
        ax.set_xticks(np.arange(0, 361, 45))
        ax.tick_params(labelsize=SMALL_PT + 0.5)
        ax.grid(alpha=0.3, lw=0.5)
        ax.set_xlabel("input turned θ (degrees, counter-clockwise)", fontsize=LABEL_PT)
        if i == 0:
            ax.set_ylabel("‖f(R x) − T f(x)‖ / ‖T f(x)‖", fontsize=LABEL_PT)
        ax.set_title(title, fontsize=LABEL_PT + 1, weight="bold", color=PANEL_COLOURS[i % 2])
    axes[-1].legend(fontsize=SMALL_PT, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.text(
        0.07,
        0.965,
        f"Equivariance error per layer vs angle · input {source}",
        fontsize=TITLE_PT,
        weight="bold",
        va="top",
    )
    fig.text(
        0.07,
        0.905,
        "T θ: maps turned by θ (rot90 at quarter turns, bilinear between) and orientations "
        "cycled by round(θ/90°); inside the central disc; logits compared directly",
        fontsize=SMALL_PT,
        color="#444444",
        va="top",
    )
    if subtitle:
        fig.text(0.07, 0.015, subtitle, fontsize=SMALL_PT - 0.5, color="#666666")
    return fig


def equivariance_rows(
    curves: Mapping[str, Mapping[str, np.ndarray]], angles: Sequence[float]
) -> tuple[list[str], list[list]]:
    """CSV: ``angle`` then one column per model and layer (``{model}/{layer}``)."""
    header = ["angle"] + [f"{m}/{layer}" for m, layers in curves.items() for layer in layers]
    rows = []
    for k, a in enumerate(angles):
        row: list = [float(a)]
        for layers in curves.values():
            row += [float(err[k]) for err in layers.values()]
        rows.append(row)
    return header, rows


# -- accuracy -----------------------------------------------------------------------------------
def accuracy_figure(
    results: Mapping[str, RotAccuracy | UprightAccuracy], subtitle: str = ""
) -> Figure:
    """Test error (%) against the angle, one line per model: MNIST-rot bins as steps (with
    each model's overall error dashed), or upright MNIST at fixed angles as points."""
    upright = any(isinstance(r, UprightAccuracy) for r in results.values())
    fig = Figure(figsize=(7.0, 4.1 if upright else 3.8))
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.09, 0.24, 0.86, 0.55) if upright else (0.09, 0.15, 0.86, 0.64))
    for i, (title, r) in enumerate(results.items()):
        colour = PANEL_COLOURS[i % 2]
        if isinstance(r, RotAccuracy):
            edges = [b.lo for b in r.bins] + [r.bins[-1].hi]
            err = [100 * b.error if b.error is not None else np.nan for b in r.bins]
            ax.stairs(err, edges, color=colour, lw=1.6, label=f"{title}: per {edges[1]:g}° bin")
            ax.axhline(
                100 * r.error,
                color=colour,
                ls="--",
                lw=0.9,
                label=f"{title}: all {r.n:,} digits {100 * r.error:.2f}%",
            )
        else:
            ax.plot(
                r.angles,
                [100 * e for e in r.errors],
                "o-",
                color=colour,
                lw=1.2,
                ms=4,
                label=f"{title} ({r.n:,} digits)",
            )
    ax.set_xlim(0, 360)
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(
        "digit turned from upright (degrees)"
        if upright
        else "the test digit's recorded angle (degrees, counter-clockwise)",
        fontsize=LABEL_PT,
    )
    ax.set_ylabel("test error (%)", fontsize=LABEL_PT)
    ax.tick_params(labelsize=SMALL_PT + 0.5)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=SMALL_PT, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    head = (
        "Error vs angle: upright MNIST test digits turned by fixed angles"
        if upright
        else "Error vs angle on MNIST-rot (regenerated) test digits"
    )
    fig.text(0.09, 0.975, head, fontsize=TITLE_PT, weight="bold", va="top")
    if upright:
        notes = {r.note for r in results.values() if isinstance(r, UprightAccuracy)}
        note = textwrap.fill("Note: " + "; ".join(sorted(notes)), 120)
        fig.text(0.09, 0.065, note, fontsize=SMALL_PT - 0.5, color="#b3261e", va="bottom")
    if subtitle:
        fig.text(0.09, 0.015, subtitle, fontsize=SMALL_PT - 0.5, color="#666666")
    return fig


# -- filters -------------------------------------------------------------------------------------
def _tile(filters: np.ndarray, gap: int = 1) -> np.ndarray:
    """``[G_in, k, k]`` side by side with NaN gaps: ``[k, G_in·(k+gap)−gap]``."""
    g_in, k, _ = filters.shape
    out = np.full((k, g_in * (k + gap) - gap), np.nan, np.float32)
    for s in range(g_in):
        out[:, s * (k + gap) : s * (k + gap) + k] = filters[s]
    return out


def filters_figure(
    bank: FilterBank,
    params: LayerParameters,
    totals: tuple[int, int],
    title: str,
    subtitle: str = "",
) -> Figure:
    """Rows: input channels; first column the stored filter (per input orientation), then one
    column per output orientation: the copy the layer applies. One diverging colour scale,
    symmetric about 0, for the whole figure."""
    c_in = bank.stored.shape[0]
    g = bank.expanded.shape[0]
    g_in, k = bank.stored.shape[1], bank.stored.shape[-1]
    cell_w = g_in * (k + 1) - 1
    vmax = float(np.abs(bank.expanded).max()) or 1.0
    # inches: each filter pixel ~0.07 in, columns separated by a wider gap
    px = 0.075 if g_in * g <= 16 else 0.05
    col_w = cell_w * px + 0.18
    width = max(6.6, 1.0 + (g + 1) * col_w + 0.3)
    row_h = k * px + 0.06
    height = 1.45 + c_in * row_h + 0.3
    fig = Figure(figsize=(width, height))
    fig.patch.set_facecolor("white")
    cmap = colormaps["RdBu_r"].with_extremes(bad="white")
    top = 1.15 / height
    columns = ["stored"] + [f"applied at {lab}" if lab else "applied" for lab in bank.output_labels]
    for col in range(g + 1):
        left = (0.55 + col * col_w + (0.12 if col else 0.0)) / width
        for i in range(c_in):
            filters = bank.stored[i] if col == 0 else bank.expanded[col - 1, i]
            bottom = 1.0 - top - (i + 1) * row_h / height
            ax = fig.add_axes((left, bottom, cell_w * px / width, k * px / height))
            ax.imshow(_tile(filters), cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="none")
            ax.set_axis_off()
            if col == 0:
                fig.text(
                    left - 0.05 / width,
                    bottom + k * px / 2 / height,
                    f"in {i}",
                    fontsize=SMALL_PT,
                    ha="right",
                    va="center",
                )
        fig.text(
            left + cell_w * px / 2 / width,
            1.0 - top + 0.05 / height,
            columns[col],
            fontsize=SMALL_PT,
            ha="center",
            va="bottom",
            weight="bold" if col == 0 else "normal",
            color="#1b4f8a" if col else "black",
        )
    if bank.input_group is not None:
        fig.text(
            0.55 / width,
            1.0 - top + 0.22 / height,
            "each cell: the input orientations " + " ".join(bank.input_labels) + " left to right",
            fontsize=SMALL_PT - 0.5,
            color="#444444",
        )
    fig.text(0.55 / width, 1.0 - 0.15 / height, title, fontsize=TITLE_PT, weight="bold", va="top")
    line = _filters_explained(bank, params, totals)
    wrapped = textwrap.fill(line, int((width - 0.8) * 15))  # ~15 characters an inch at 6.5 pt
    fig.text(0.55 / width, 1.0 - 0.45 / height, wrapped, fontsize=SMALL_PT, va="top")
    if subtitle:
        fig.text(0.55 / width, 0.08 / height, subtitle, fontsize=SMALL_PT - 0.5, color="#666666")
    return fig


def _filters_explained(bank: FilterBank, params: LayerParameters, totals: tuple[int, int]) -> str:
    """What the filters figure shows, and what weight sharing saves, in numbers."""
    g = bank.expanded.shape[0]
    stored = bank.stored.size + 1
    how = (
        "the copies are the stored filter turned (rot90) with its orientations cycled"
        if bank.input_group is not None
        else "the copies are the stored filter turned (rot90)"
        if bank.group is not None
        else "a plain convolution applies its filter as stored"
    )
    return (
        f"This channel: {stored:,} stored numbers, applied as {g} cop{'ies' if g > 1 else 'y'}: "
        f"{how}. Layer: {params.params:,} parameters; a plain CNN making the same "
        f"{params.maps_out} maps from {params.maps_in} would need {params.plain_params:,} "
        f"({params.ratio:.1f}×). Whole model (convolutions): {totals[0]:,} vs {totals[1]:,}."
    )


def with_rc(build, *args, **kwargs) -> Figure:
    """Build a figure under the export's matplotlib settings."""
    with rc_context():
        return build(*args, **kwargs)

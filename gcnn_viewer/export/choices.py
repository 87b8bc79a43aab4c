"""The app's Export dialog without Qt: its choices as plain data, turned into an export job.

The dialog (:mod:`gcnn_viewer.gui.export_dialog`) only reads widgets into an
:class:`ExportChoices` and calls :func:`plan` with the :class:`ViewSpec` of what is on
screen; everything a user can get wrong (channels ``"0-4,7"``, angles, a layer a model lacks,
a format that does not fit the kind, a DPI out of range) becomes a one-line
:class:`ExportError` here, where it is tested without a window.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gcnn_viewer.errors import ExportError
from gcnn_viewer.export import render
from gcnn_viewer.export.common import ViewSpec, angle_text
from gcnn_viewer.export.kinds import KINDS as KIND_RECORDS
from gcnn_viewer.export.kinds import RC_LAYER, export_kind
from gcnn_viewer.figure_output import check_destination
from gcnn_viewer.models.record import MAX_CHANNELS

# kind -> what the dialog calls it, in the dialog's order (gcnn_viewer/export/kinds.py)
KINDS: dict[str, str] = {k.name: k.title for k in KIND_RECORDS}
MODEL_CHOICES = ("both", "left", "right")
FORMAT_NAMES = {
    "png": "PNG",
    "svg": "SVG (text stays text)",
    "pdf": "PDF (text stays text)",
    "gif": "GIF",
    "webp": "WebP (animated)",
    "mp4": "MP4 (H.264)",
    "csv": "CSV (the numbers)",
    "npz": "NPZ",
}
NAMED_ANGLES = 4  # a file name lists up to this many angles, else says how many


def formats(kind: str, mp4: bool | None = None) -> tuple[str, ...]:
    """The formats a kind can be written as, first the default; MP4 only when
    ``imageio-ffmpeg`` is installed (``mp4`` None: ask :func:`render.mp4_available`)."""
    all_formats = export_kind(kind).formats
    if "mp4" in all_formats and mp4 is None:
        mp4 = render.mp4_available()
    return tuple(f for f in all_formats if f != "mp4" or mp4)


def default_dpi(kind: str) -> int:
    """Figures print at 200 dpi; an animation's frames are for screens (100 dpi)."""
    return export_kind(kind).dpi


KNOWN_SUFFIXES = frozenset(f for k in KIND_RECORDS for f in k.formats)


def parse_channels(text: str) -> tuple[int, ...] | None:
    """``""``/``"all"``: None (every channel); ``"0-4,7"`` → ``(0, 1, 2, 3, 4, 7)``. Commas or
    spaces separate; each part is a number or an inclusive range; repeats are dropped.
    Channel numbers stop at ``MAX_CHANNELS - 1`` (no model has more), so the list is short
    whatever is typed: the dialog parses it on the GUI thread."""
    text = text.strip()
    if not text or text.lower() == "all":
        return None
    out: list[int] = []
    seen: set[int] = set()
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", part)
        if m is None:
            raise ExportError(f"channels: {part!r} is not a number or a range such as 0-4")
        # (a number of thousands of digits: int() refuses it; any over 6 is beyond MAX_CHANNELS)
        lo = int(m.group(1)) if len(m.group(1)) <= 6 else MAX_CHANNELS
        hi = lo if m.group(2) is None else int(m.group(2)) if len(m.group(2)) <= 6 else 10**6
        if hi < lo:
            raise ExportError(f"channels: the range {part} runs backwards")
        if hi >= MAX_CHANNELS:
            raise ExportError(
                f"channels: {part[:12]}{'…' if len(part) > 12 else ''} goes beyond any model's "
                f"channels (numbers 0-{MAX_CHANNELS - 1})"
            )
        for c in range(lo, hi + 1):
            if c not in seen:
                seen.add(c)
                out.append(c)
    return tuple(out)


def parse_angles(text: str) -> tuple[float, ...]:
    """``"0 37.5"`` or ``"0, 90°"`` → degrees; one line for anything else."""
    out: list[float] = []
    for part in re.split(r"[,;\s]+", text.replace("°", " ").strip()):
        if not part:
            continue
        try:
            angle = float(part)
        except ValueError:
            raise ExportError(f"angles: {part!r} is not a number of degrees") from None
        if not np.isfinite(angle):
            raise ExportError(f"angles: {part!r} is not a number of degrees")
        out.append(angle)
    if not out:
        raise ExportError("give at least one angle (degrees, e.g. 0 or 37.5)")
    return tuple(out)


def with_quarter_turns(angles: Sequence[float]) -> tuple[float, ...]:
    """Each angle and its three quarter turns (mod 360°), each once, in that order."""
    out: list[float] = []
    for a in angles:
        for k in range(4):
            b = (float(a) + 90.0 * k) % 360.0
            if b not in out:
                out.append(b)
    return tuple(out)


def default_angles(kind: str, current: float) -> tuple[float, ...]:
    """The current angle; the rotate-and-cycle figure needs a turn to show, so θ and θ+90°."""
    if export_kind(kind).shows_turn:
        return (current % 360.0, (current + 90.0) % 360.0)
    return (current,)


def angles_text(angles: Sequence[float]) -> str:
    return " ".join(angle_text(a) for a in angles)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-") or "export"


def angles_slug(angles: float | Sequence[float]) -> str:
    """The angles of a file name: ``90deg``, ``0-90-180-270deg``, or ``8-angles``."""
    listed = [angles] if isinstance(angles, (int, float)) else list(angles)
    if not listed:
        return ""
    if len(listed) > NAMED_ANGLES:
        return f"{len(listed)}-angles"
    return "-".join(angle_text(float(a) % 360.0) for a in listed) + "deg"


def default_filename(
    kind: str,
    models: Sequence[str],
    fmt: str,
    layers: Sequence[str] | None,
    angles: float | Sequence[float],
) -> str:
    """A file name that says what is in the file, e.g. ``z2cnn-p4cnn-l1-90deg.png``;
    ``angles``: the angle, or every angle the file shows (``…-0-90-180-270deg.pdf`` with
    quarter turns)."""
    named = {
        "models": "-".join(models),
        "layers": "-".join(layers) if layers and len(layers) <= 2 else "",
        "angles": angles_slug(angles),
        "layer": (layers or [RC_LAYER])[0],
    }
    parts = [named.get(part, part) for part in export_kind(kind).file_name]
    return _slug("-".join(p for p in parts if p)) + f".{fmt}"


def with_suffix(path: str, fmt: str) -> str:
    """``path`` with the suffix of ``fmt`` (a known export suffix is replaced; another kept
    and the new one appended): changing the format changes the file name to match."""
    if not path.strip():
        return path
    p = Path(path)
    if p.suffix.lower().lstrip(".") in KNOWN_SUFFIXES:
        return str(p.with_suffix(f".{fmt}"))
    return f"{path}.{fmt}"


@dataclass
class ExportChoices:
    """Everything the dialog asks, as the user left it. ``layers`` None: all of them;
    ``channels`` and ``angles`` are the texts typed (``angles`` empty: the current angle)."""

    kind: str = "figure"
    models: str = "both"  # both | left | right
    layers: tuple[str, ...] | None = None
    channels: str = ""
    angles: str = ""
    quarter_turns: bool = False
    stabilised: bool = False
    fmt: str = "png"
    dpi: int = render.DEFAULT_DPI
    frames: int = render.DEFAULT_FRAMES
    fps: float = float(render.DEFAULT_FPS)
    path: str = ""

    def replace(self, **changes: Any) -> ExportChoices:
        return dataclasses.replace(self, **changes)


Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass
class ExportJob:
    """One export, ready to run off the GUI thread: :meth:`run` writes the file,
    :meth:`preview` makes the thumbnail."""

    kind: str
    spec: ViewSpec
    path: Path | None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def long(self) -> bool:
        """Counts frames (a progress bar with numbers), rather than a busy indicator."""
        return export_kind(self.kind).animated or len(self.spec.angles) > 2

    def run(self, progress: Progress | None = None, cancelled: Cancelled | None = None) -> Path:
        if self.path is None:
            raise ExportError("choose where to save the file")
        return render.export(
            self.kind, self.spec, self.path, progress=progress, cancelled=cancelled, **self.options
        )

    def preview(self, dpi: int = 40) -> np.ndarray:
        """uint8 RGB ``[H, W, 3]`` (writes nothing)."""
        return render.preview(self.spec, self.kind, dpi=dpi)


def pick_models(base: ViewSpec, which: str) -> list:
    if which not in MODEL_CHOICES:
        raise ExportError(f"models: {which!r} is not one of {', '.join(MODEL_CHOICES)}")
    models = list(base.models)
    if which == "both" or len(models) == 1:
        return models
    return [models[0]] if which == "left" else [models[-1]]


def plan(choices: ExportChoices, base: ViewSpec, *, check_path: bool = True) -> ExportJob:
    """The export the dialog describes, from ``base`` (what is on screen: models left and
    right, input, current angle). Raises a one-line :class:`ExportError` for anything that
    cannot be exported as chosen, before any work is done. ``check_path`` False: the
    destination is not looked at (the live preview needs none)."""
    kind = export_kind(choices.kind)
    allowed = formats(kind.name)
    if choices.fmt not in allowed:
        raise ExportError(
            f"{kind.title} can be written as {', '.join(allowed).upper()}, "
            f"not {choices.fmt.upper()}"
        )
    models = pick_models(base, choices.models)
    current = float(base.angles[0]) if base.angles else 0.0
    # only the fields the dialog enables for this kind are read: a greyed-out field holding
    # text that does not parse (angles "x", channels "99") must not refuse the export
    if kind.angles and choices.angles.strip():
        angles = parse_angles(choices.angles)
    else:
        angles = default_angles(kind.name, current)
    if kind.angles and choices.quarter_turns:
        angles = with_quarter_turns(angles)
    maps = kind.maps
    layers = tuple(choices.layers) if maps and choices.layers is not None else None
    if layers is not None and not layers:
        raise ExportError("choose at least one layer")
    spec = ViewSpec(
        models,
        base.input,
        angles=angles,
        layers=layers,
        channels=parse_channels(choices.channels) if maps else None,
        stabilised=choices.stabilised and maps,
        extra={**base.extra, "exported_from": "gcnn-viewer app"},
    )
    # the dialog asks for dpi, frames and fps (a sweep keeps its default step); only the
    # kind's own are read
    read = {
        "dpi": lambda: int(choices.dpi),
        "frames": lambda: int(choices.frames),
        "fps": lambda: float(choices.fps),
    }
    options: dict[str, Any] = {k: read[k]() for k in kind.options if k in read}
    render.check_options(kind, options)
    if maps:  # a sweep shows probabilities only: layers and channels do not apply
        spec.check()
    path = None
    if check_path:
        if not choices.path.strip():
            raise ExportError("choose where to save the file (Browse…)")
        path = check_destination(choices.path.strip())
        suffix = path.suffix.lower().lstrip(".")
        if suffix != choices.fmt:
            raise ExportError(
                f"{path.name}: the format is {choices.fmt.upper()}; name the file "
                f"….{choices.fmt}, or choose the format .{suffix or '?'} stands for"
            )
    return ExportJob(kind.name, spec, path, options)


def model_names(base: ViewSpec, which: str) -> list[str]:
    """The data names of the chosen models (for the default file name)."""
    return [m.name for m in pick_models(base, which)]

"""Writing figure files, shared by export and analysis: the matplotlib settings, the checks
made before any work (destination, format, dpi, size), and the atomic write with the
provenance inside the file. Qt-free; matplotlib's object API, no pyplot, imported where a
figure is drawn or saved (the command line's parsers read the formats and defaults here).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gcnn_viewer import __version__
from gcnn_viewer.errors import ExportCancelled, ExportError, check_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_DPI",
    "FIGURE_FORMATS",
    "atomic_output",
    "check_cancelled",
    "check_destination",
    "check_dpi",
    "check_pixels",
    "provenance_json",
    "rc_context",
    "save_figure",
    "suffix_of",
]

FIGURE_FORMATS = ("png", "svg", "pdf")
DEFAULT_DPI = 200
META_KEY = "gcnn-viewer"  # PNG text chunk holding the provenance JSON
LABEL_PT = 7.5  # the figures' default text size, in points

Cancelled = Callable[[], bool]  # True: stop as soon as possible

RC = {
    "svg.fonttype": "none",  # SVG text stays <text> (editable, searchable)
    "pdf.fonttype": 42,  # PDF: TrueType, selectable and editable text
    "ps.fonttype": 42,
    "image.composite_image": False,  # vector files: each map its own unsmoothed raster
    "font.size": LABEL_PT,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "gcnn-viewer",  # deterministic SVG ids
}


def rc_context():
    """matplotlib settings for every export (scoped: the user's rcParams stay as they are)."""
    import matplotlib

    return matplotlib.rc_context(RC)


def provenance_json(record: dict[str, Any]) -> str:
    """ASCII JSON (PNG tEXt chunks and GIF comments are Latin-1/ASCII)."""
    from gcnn_viewer.data.files import json_text  # (here: `--version` never loads numpy)

    return json_text(record, ensure_ascii=True, sort_keys=False)


# -- atomic writes ---------------------------------------------------------------------------
def check_destination(path: Path | str) -> Path:
    """The output path, checked before any work is done: its folder must exist and it must
    not be a folder itself. Raises :class:`ExportError` (one line)."""
    from gcnn_viewer.data.files import write_target  # (the data package loads numpy)

    if not isinstance(path, (str, os.PathLike)):
        raise ExportError(f"the output path must be text or a path, not {type(path).__name__}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    try:  # a FIFO or device is refused, a symlink's target is what gets replaced
        parent = write_target(path).parent
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_os_reason(exc)}") from None
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: no such directory {parent}")
    return path


@contextmanager
def atomic_output(path: Path | str, cancelled: Cancelled | None = None) -> Iterator[Path]:
    """:func:`gcnn_viewer.data.files.atomic_path` for exports: a temp file beside the
    destination replaces it in one step once written (a symlink's target is replaced, a FIFO
    or device is refused, an existing file keeps its mode); on any error it is removed, so a
    partial file is never left where the user looks. OS errors become one-line
    :class:`ExportError` s. ``cancelled()`` true once the file is written:
    :class:`ExportCancelled`, ``path`` as it was (the last moment a user's Cancel can still
    leave nothing behind)."""
    from gcnn_viewer.data.files import atomic_path

    path = check_destination(path)
    try:
        with atomic_path(path, before_commit=lambda: check_cancelled(cancelled)) as tmp:
            yield tmp
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_os_reason(exc)}") from None


def check_cancelled(cancelled: Cancelled | None) -> None:
    """Raise :class:`ExportCancelled` when the user has asked to stop."""
    if cancelled is not None and cancelled():
        raise ExportCancelled("export cancelled; nothing was written")


def _os_reason(exc: OSError) -> str:
    text = (exc.strerror or str(exc) or type(exc).__name__).strip()
    return text[:1].lower() + text[1:]  # "no such file", but "a FIFO" stays


def suffix_of(path: Path | str, allowed: Sequence[str], what: str) -> str:
    """The lower-case format (``"png"``) from the file name; one line when not allowed."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise ExportError(
            f"{Path(path).name}: {what} can be written as "
            f"{', '.join('.' + s for s in allowed)}, not {'.' + suffix if suffix else 'no suffix'}"
        )
    return suffix


# -- figures ---------------------------------------------------------------------------------
def check_dpi(dpi: int) -> None:
    """One line for a resolution no file should have (10 to 2400 dpi)."""
    dpi = check_number(dpi, "--dpi", error=ExportError)  # not text, True or NaN
    if not 10 <= dpi <= 2400:
        raise ExportError(f"--dpi must be between 10 and 2400, not {dpi}")


MAX_PIXELS = 100_000_000  # one PNG or animation frame (10,000 × 10,000)
MAX_ANIMATION_PIXELS = 500_000_000  # all of an animation's frames, held as RGB (1.5 GB)


def check_pixels(fig: Figure, dpi: float, frames: int = 1) -> None:
    """One line, before anything is drawn, for an image too large to make: a figure of many
    layers at 2400 dpi is billions of pixels (minutes of work, gigabytes of memory)."""
    w, h = (round(float(v) * dpi) for v in fig.get_size_inches())
    if w * h > MAX_PIXELS:
        fit = max(1, int(dpi * math.sqrt(MAX_PIXELS / (w * h))))
        raise ExportError(
            f"at {dpi:g} dpi this image would be {w}×{h} pixels, more than "
            f"{MAX_PIXELS // 10**6} megapixels: choose {fit} dpi or less"
        )
    if frames * w * h > MAX_ANIMATION_PIXELS:
        most = MAX_ANIMATION_PIXELS // (w * h)
        raise ExportError(
            f"{frames} frames of {w}×{h} pixels are more than {MAX_ANIMATION_PIXELS // 10**6} "
            f"megapixels in all: choose {most} frames or fewer, or a lower dpi"
        )


def save_figure(
    fig: Figure | Sequence[Figure],
    path: Path | str,
    record: dict[str, Any],
    dpi: int,
    cancelled: Cancelled | None = None,
) -> Path:
    """Write ``fig`` as PNG/SVG/PDF (by suffix) atomically, with ``record`` as metadata:
    PNG text chunks, PDF document info, SVG Dublin Core description. Several figures: the
    pages of one PDF (PNG and SVG hold one)."""
    from matplotlib.figure import Figure

    pages = [fig] if isinstance(fig, Figure) else list(fig)
    fmt = suffix_of(path, FIGURE_FORMATS, "a figure")
    if len(pages) > 1 and fmt != "pdf":
        raise ExportError(f"only a PDF has pages: {Path(path).name} holds one figure")
    check_dpi(dpi)
    text = provenance_json(record)
    title = record.get("title", "gcnn-viewer export")
    software = f"gcnn-viewer {__version__}"
    if fmt == "png":
        metadata = {"Title": title, "Software": software, "Description": text, META_KEY: text}
    elif fmt == "pdf":
        metadata = {
            "Title": title,
            "Creator": software,
            "Subject": text,
            "Keywords": "gcnn-viewer provenance (JSON in Subject)",
            "CreationDate": None,  # reproducible files: the provenance says what matters
        }
    else:
        metadata = {"Title": title, "Creator": software, "Description": text, "Date": None}
    if fmt == "png":
        for page in pages:
            check_pixels(page, dpi)
    with atomic_output(path, cancelled) as tmp, rc_context():
        if len(pages) == 1:
            pages[0].savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
        else:
            from matplotlib.backends.backend_pdf import PdfPages

            with PdfPages(tmp, metadata=metadata) as pdf:
                for page in pages:
                    pdf.savefig(page, dpi=dpi, facecolor="white")
    return Path(path)

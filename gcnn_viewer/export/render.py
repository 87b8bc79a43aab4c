"""The exports themselves: one function per kind, shared by the app and the command line.

Each takes a :class:`~gcnn_viewer.export.common.ViewSpec` and a destination, computes what it
needs with the viewer's pipeline, and writes atomically (temp file in the destination folder,
then ``os.replace``), recording provenance in the file. Long work takes ``progress(done,
total)`` and ``cancelled()`` callbacks, so a GUI can show a bar and stop it from another thread.
Qt-free.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, PngImagePlugin

from gcnn_viewer import __version__
from gcnn_viewer.data.files import json_text
from gcnn_viewer.errors import ExportError, check_int, check_number
from gcnn_viewer.export.common import (
    Progress,
    ViewSpec,
    angle_text,
    frame,
    frame_stream,
    provenance,
)
from gcnn_viewer.export.figures import ViewFigure, rotate_and_cycle_figure, sweep_figure
from gcnn_viewer.export.group_figure import GroupFigure, group_choice
from gcnn_viewer.export.kinds import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_STEP,
    RC_LAYER,
    ExportKind,
    export_kind,
)
from gcnn_viewer.figure_output import (
    DEFAULT_DPI,
    FIGURE_FORMATS,
    META_KEY,
    Cancelled,
    atomic_output,
    check_cancelled,
    check_destination,
    check_dpi,
    check_pixels,
    provenance_json,
    rc_context,
    save_figure,
    suffix_of,
)
from gcnn_viewer.viewer.inference import FrameResult, SweepRequest, run_sweep

ANIMATION_FORMATS = export_kind("animation").formats
SWEEP_FORMATS = export_kind("sweep").formats
DATA_FORMATS = export_kind("data").formats
ANIMATION_DPI = export_kind("animation").dpi
MIN_STEP = 0.1  # degrees between sweep angles: at most 3600 angles, a few seconds' work
MP4_MISSING = (
    "MP4 needs imageio-ffmpeg: pip install 'gcnn-viewer[mp4]' (or imageio-ffmpeg); "
    "GIF, WebP and PNG work without it"
)
# A PDF of the view whose one page would be larger than this (inches, tabloid: A4 or Letter
# print it at 70% or more) is split into pages: one model a page, and as many of its angles
# as fit.
PDF_PAGE_MAX = (17.0, 11.0)


def _subtitle(spec: ViewSpec) -> str:
    return f"gcnn-viewer {__version__} · colour scales fixed per layer, as in the app"


def view_pages(spec: ViewSpec, frames: Sequence[FrameResult], pdf: bool) -> list[Figure]:
    """The view's figure, shaped for a landscape page or slide (rows side by side); for a
    PDF whose one page would exceed :data:`PDF_PAGE_MAX`, pages of one model each, with as
    many of its angles as fit (at least one)."""

    def fits(view: ViewFigure) -> bool:
        return view.sheet.width <= PDF_PAGE_MAX[0] and view.sheet.height <= PDF_PAGE_MAX[1]

    figure = ViewFigure(spec, frames, subtitle=_subtitle(spec))
    if not pdf or fits(figure) or (len(spec.models) < 2 and len(frames) < 2):
        return [figure.figure]
    pages = []
    for i, m in enumerate(spec.models):  # each model keeps its panel's colour
        one = dataclasses.replace(m, panel=m.panel if m.panel is not None else i)
        start = 0
        while start < len(frames):
            for count in range(len(frames) - start, 0, -1):
                chunk = frames[start : start + count]
                page = dataclasses.replace(spec, models=[one], angles=tuple(f.angle for f in chunk))
                view = ViewFigure(page, chunk, subtitle=_subtitle(spec))
                if count == 1 or fits(view):
                    break
            pages.append(view.figure)
            start += count
    return pages


def figure_frames(
    spec: ViewSpec,
    stabilised: bool | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[FrameResult]:
    """The app's frame at each of the spec's angles (progress counts angles, and one more
    step for drawing and writing the file)."""
    out = []
    for a in spec.angles:
        check_cancelled(cancelled)
        out.append(frame(spec, a, stabilised))
        if progress is not None:
            progress(len(out), len(spec.angles) + 1)
    return out


def export_figure(
    spec: ViewSpec,
    path: Path | str,
    *,
    dpi: int = DEFAULT_DPI,
    rotate_and_cycle: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Path:
    """The current view (every chosen layer of every model at every angle) or, with
    ``rotate_and_cycle``, the lecture figure of one layer (the first chosen, default l1).
    ``progress(done, total)``/``cancelled()`` as for :func:`export_animation`."""
    _check_spec(spec)
    check_destination(path)
    suffix_of(path, FIGURE_FORMATS, "a figure")
    spec.check()
    with rc_context():
        if rotate_and_cycle:
            layer = spec.layers[0] if spec.layers else RC_LAYER
            raw = figure_frames(spec, False, progress, cancelled)
            fig = rotate_and_cycle_figure(spec, raw, layer, subtitle=_subtitle(spec))
            kind = "rotate-and-cycle figure"
            title = f"{' vs '.join(m.title for m in spec.models)} {layer}: rotate and cycle"
            more = {"layer": layer}
        else:
            frames = figure_frames(spec, None, progress, cancelled)
            fig = view_pages(spec, frames, suffix_of(path, FIGURE_FORMATS, "a figure") == "pdf")
            kind = "figure"
            title = f"{' vs '.join(m.title for m in spec.models)} feature maps"
            more = {"pages": len(fig)} if len(fig) > 1 else {}
    record = provenance(spec, kind, title=title, **more)
    check_cancelled(cancelled)
    save_figure(fig, path, record, dpi, cancelled)
    if progress is not None:
        progress(len(spec.angles) + 1, len(spec.angles) + 1)
    return Path(path)


def preview(spec: ViewSpec, kind: str = "figure", *, dpi: int = 40) -> np.ndarray:
    """A small picture of what an export of ``kind`` (``"figure"``, ``"rotate-and-cycle"``,
    ``"animation"``: its first frame, ``"sweep"``; ``"data"``: the figure of its maps) would
    show: uint8 RGB ``[H, W, 3]``, for the app's live thumbnail. Writes nothing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    record = export_kind(kind)
    if record.maps:  # a sweep shows probabilities: no layers or channels to check
        spec.check()
    with rc_context():
        fig = PREVIEWS[record.previewed_as](spec)
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])


def _preview_figure(spec: ViewSpec) -> Figure:
    return ViewFigure(spec, figure_frames(spec), raster_dpi=None).figure


def _preview_rotate_and_cycle(spec: ViewSpec) -> Figure:
    layer = spec.layers[0] if spec.layers else RC_LAYER
    return rotate_and_cycle_figure(spec, figure_frames(spec, stabilised=False), layer)


def _preview_animation(spec: ViewSpec) -> Figure:  # its first frame
    return ViewFigure(spec, [frame(spec, 0.0)], animation=True, raster_dpi=None).figure


def _preview_sweep(spec: ViewSpec) -> Figure:
    angles = sweep_angles(DEFAULT_STEP)
    result = run_sweep(_sweep_request(spec, angles))
    return sweep_figure(spec, angles, result.probabilities)


def _preview_group_view(spec: ViewSpec) -> Figure:
    raw = figure_frames(spec, stabilised=False)
    return GroupFigure(spec, group_choice(spec, raw[0]), raw).figure


def _preview_group_animation(spec: ViewSpec) -> Figure:  # its first frame
    first = frame(spec, 0.0, stabilised=False)
    return GroupFigure(spec, group_choice(spec, first), [first]).figure


# kind -> its thumbnail (a kind with preview_as set borrows another's)
PREVIEWS = {
    "figure": _preview_figure,
    "rotate-and-cycle": _preview_rotate_and_cycle,
    "animation": _preview_animation,
    "sweep": _preview_sweep,
    "group-view": _preview_group_view,
    "group-animation": _preview_group_animation,
}


def _sweep_request(spec: ViewSpec, angles: np.ndarray) -> SweepRequest:
    return SweepRequest(
        seq=0,
        snapshot=spec.input.snapshot,
        models=tuple((m.name, m.model) for m in spec.models),
        angles=angles,
    )


# -- animation ----------------------------------------------------------------------------------
def animation_angles(frames: int) -> np.ndarray:
    """``frames`` angles from 0° up to (not including) 360°: the loop closes seamlessly."""
    return np.arange(frames, dtype=np.float64) * (360.0 / frames)


def mp4_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def _check_spec(spec: object) -> None:
    if not isinstance(spec, ViewSpec):
        raise ExportError(f"spec must be a ViewSpec, not {type(spec).__name__}")


def check_animation_options(frames: int, fps: float, dpi: int) -> None:
    """One line for values no animation can have."""
    frames = check_int(frames, "--frames", error=ExportError)  # 2.5 frames is not 2 or 3
    fps = check_number(fps, "--fps", error=ExportError)
    if not 2 <= frames <= 3600:
        raise ExportError(f"--frames must be between 2 and 3600, not {frames}")
    if not 0.1 <= fps <= 100:
        raise ExportError(f"--fps must be between 0.1 and 100, not {fps}")
    check_dpi(dpi)


def export_animation(
    spec: ViewSpec,
    path: Path | str,
    *,
    frames: int = DEFAULT_FRAMES,
    fps: float = DEFAULT_FPS,
    dpi: int = ANIMATION_DPI,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Path:
    """The input turning 0→360° in ``frames`` steps with the chosen layers: GIF, animated
    WebP, animated PNG, or MP4 (needs ``imageio-ffmpeg``). ``spec.angles`` is ignored."""
    fmt = _check_animation(spec, path, frames, fps, dpi)
    angles = animation_angles(frames)
    images = _paint_frames(
        frame_stream(spec, angles),
        lambda first: ViewFigure(
            spec, [first], subtitle=_subtitle(spec), animation=True, raster_dpi=None
        ),
        frames,
        dpi,
        progress,
        cancelled,
    )
    record = provenance(
        spec, "animation", frames=frames, fps=fps, animation_angles=[float(a) for a in angles]
    )
    return _save_animation(images, path, fmt, fps, record, angles, cancelled)


def _check_animation(spec: ViewSpec, path: Path | str, frames: int, fps: float, dpi: int) -> str:
    """Every check an animation makes before any work; its format (the file's suffix)."""
    _check_spec(spec)
    check_destination(path)
    fmt = suffix_of(path, ANIMATION_FORMATS, "an animation")
    if fmt == "mp4" and not mp4_available():
        raise ExportError(MP4_MISSING)
    check_animation_options(frames, fps, dpi)
    spec.check()
    return fmt


def _paint_frames(
    stream: Iterator[FrameResult],
    make_view: Callable[[FrameResult], ViewFigure | GroupFigure],
    frames: int,
    dpi: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> list[Image.Image]:
    """One image per frame of ``stream``, drawn by the figure ``make_view`` makes from the
    first frame (:class:`_Painter`: the static parts once)."""
    images: list[Image.Image] = []
    with rc_context():
        first = next(stream)
        view = make_view(first)
        view.figure.set_dpi(dpi)  # frames are rasterised at the figure's dpi, not savefig's
        check_pixels(view.figure, dpi, frames)
        painter = _Painter(view)
        for i, f in enumerate(itertools.chain([first], stream)):
            check_cancelled(cancelled)
            images.append(painter.paint([f]))
            if progress is not None:
                progress(i + 1, frames)
    return images


def _save_animation(
    images: list[Image.Image],
    path: Path | str,
    fmt: str,
    fps: float,
    record: dict,
    angles: np.ndarray,
    cancelled: Cancelled | None,
) -> Path:
    """Write the frames atomically, with ``record`` (its angles: the turn's first and 360°)."""
    record["angles"] = [float(angles[0]), 360.0]
    check_cancelled(cancelled)
    with atomic_output(path, cancelled) as tmp:
        _write_animation(images, tmp, fmt, fps, provenance_json(record))
    return Path(path)


class _Painter:
    """Renders animation frames of a figure with ``figure``, ``dynamic_artists()`` and
    ``update(frames)`` (:class:`ViewFigure`, :class:`GroupFigure`): the static parts (titles,
    labels, colour bars) are drawn once and kept as a background; each frame redraws only what
    changes (maps, input, texts)."""

    def __init__(self, view: ViewFigure | GroupFigure) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.view = view
        self.canvas = FigureCanvasAgg(view.figure)
        self.dynamic = view.dynamic_artists()
        for artist in self.dynamic:
            artist.set_animated(True)  # left out of canvas.draw(): drawn per frame below
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(view.figure.bbox)

    def paint(self, frames: Sequence[FrameResult]) -> Image.Image:
        self.view.update(frames)
        self.canvas.restore_region(self.background)
        for artist in self.dynamic:
            self.view.figure.draw_artist(artist)
        rgba = np.asarray(self.canvas.buffer_rgba())
        return Image.fromarray(np.ascontiguousarray(rgba[..., :3]))


def _write_animation(images: list[Image.Image], tmp: Path, fmt: str, fps: float, text: str) -> None:
    duration = max(20, round(1000.0 / fps))  # ms per frame (GIF counts in 10 ms)
    first, rest = images[0], images[1:]
    if fmt == "gif":
        frames = _shared_palette(images)
        frames[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=duration,
            loop=0,
            comment=text.encode("ascii"),
            disposal=1,  # frames after the first store only the box that changed
        )
    elif fmt == "webp":
        first.save(
            tmp,
            format="WEBP",
            save_all=True,
            append_images=rest,
            duration=duration,
            loop=0,
            lossless=True,
            method=4,
            xmp=_xmp(text),
        )
    elif fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text(META_KEY, text)
        info.add_text("Software", f"gcnn-viewer {__version__}")
        first.save(
            tmp,
            format="PNG",
            save_all=True,
            append_images=rest,
            duration=duration,
            loop=0,
            pnginfo=info,
        )
    else:
        _write_mp4(images, tmp, fps, text)


def _shared_palette(images: list[Image.Image]) -> list[Image.Image]:
    """Palette images with one palette for the whole animation, made by median cut from a few
    frames side by side: unchanged pixels keep their index from frame to frame, so the GIF
    writer stores only what changed. No dithering: flat colour fields stay flat."""
    sample = images[:: max(1, len(images) // 6)][:6]
    w, h = sample[0].size
    montage = Image.new("RGB", (w * len(sample), h))
    for k, im in enumerate(sample):
        montage.paste(im, (k * w, 0))
    palette = montage.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=0)
    return [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]


def _xmp(text: str) -> bytes:
    """An XMP packet with the provenance JSON as the Dublin Core description."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escaped}</rdf:li></rdf:Alt>'
        f"</dc:description><dc:creator><rdf:Seq><rdf:li>gcnn-viewer {__version__}</rdf:li>"
        '</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _write_mp4(images: list[Image.Image], tmp: Path, fps: float, text: str) -> None:
    import imageio_ffmpeg

    w, h = images[0].size
    w2, h2 = w + (w % 2), h + (h % 2)  # H.264 with yuv420p needs even sides
    writer = imageio_ffmpeg.write_frames(
        str(tmp),
        (w2, h2),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        output_params=["-metadata", f"comment={text}", "-f", "mp4"],
    )
    writer.send(None)
    for im in images:
        canvas = np.full((h2, w2, 3), 255, np.uint8)
        canvas[:h, :w] = np.asarray(im)
        writer.send(np.ascontiguousarray(canvas))
    writer.close()


# -- the group view of one channel ----------------------------------------------------------
def export_group_view(
    spec: ViewSpec,
    path: Path | str,
    *,
    dpi: int = DEFAULT_DPI,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Path:
    """One channel of one p4 / p4m layer (the first chosen; channel: the first chosen, else
    the strongest) as GrouPy's figure, one diagram per model and angle: at θ and θ + 90°
    the planes have moved one step round the circle."""
    _check_spec(spec)
    check_destination(path)
    suffix_of(path, FIGURE_FORMATS, "a figure")
    spec.check()
    with rc_context():
        raw = figure_frames(spec, False, progress, cancelled)  # planes as computed
        choice = group_choice(spec, raw[0])
        fig = GroupFigure(spec, choice, raw, subtitle=_subtitle(spec)).figure
    title = f"{' vs '.join(m.title for m in choice.models)} {choice.layer}: group view"
    record = provenance(spec, "group view", title=title, layer=choice.layer, channel=choice.channel)
    check_cancelled(cancelled)
    save_figure(fig, path, record, dpi, cancelled)
    if progress is not None:
        progress(len(spec.angles) + 1, len(spec.angles) + 1)
    return Path(path)


def export_group_animation(
    spec: ViewSpec,
    path: Path | str,
    *,
    frames: int = DEFAULT_FRAMES,
    fps: float = DEFAULT_FPS,
    dpi: int = ANIMATION_DPI,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> Path:
    """The group view of one channel as the input turns 0→360° (formats and options as
    :func:`export_animation`; ``spec.angles`` is ignored)."""
    fmt = _check_animation(spec, path, frames, fps, dpi)
    angles = animation_angles(frames)
    choice = group_choice(spec, frame(spec, 0.0, stabilised=False))
    raw = dataclasses.replace(
        spec, models=choice.models, layers=(choice.layer,), stabilised=False
    )  # only what the diagrams show, as computed
    images = _paint_frames(
        frame_stream(raw, angles),
        lambda first: GroupFigure(spec, choice, [first], subtitle=_subtitle(spec)),
        frames,
        dpi,
        progress,
        cancelled,
    )
    record = provenance(
        spec,
        "group view animation",
        layer=choice.layer,
        channel=choice.channel,
        frames=frames,
        fps=fps,
        animation_angles=[float(a) for a in angles],
    )
    return _save_animation(images, path, fmt, fps, record, angles, cancelled)


# -- probability vs angle -----------------------------------------------------------------------
def sweep_angles(step: float) -> np.ndarray:
    """0, step, … below 360 (default 5°: 0…355)."""
    step = check_number(step, "--step", error=ExportError)
    if not MIN_STEP <= step <= 180:
        raise ExportError(
            f"--step must be between {MIN_STEP:g} and 180 degrees (at most "
            f"{round(360 / MIN_STEP)} angles), not {step:g}"
        )
    n = int(np.floor(360.0 / step - 1e-9)) + 1
    return np.arange(n, dtype=np.float64) * step


def export_sweep(
    spec: ViewSpec,
    path: Path | str,
    *,
    step: float = DEFAULT_STEP,
    dpi: int = DEFAULT_DPI,
    cancelled: Cancelled | None = None,
) -> Path:
    """Each model's class probabilities as the input turns: a plot (PNG/SVG/PDF) or the
    numbers (CSV: ``angle``, then per model its top probability and ``p0``…``p9``).
    A CSV's provenance goes in a sidecar ``FILE.csv.json`` (CSV has no place for it)."""
    _check_spec(spec)
    check_destination(path)
    fmt = suffix_of(path, SWEEP_FORMATS, "a sweep")
    angles = sweep_angles(step)
    result = run_sweep(_sweep_request(spec, angles))  # the app's own sweep
    check_cancelled(cancelled)
    record = provenance(spec, "sweep", step=float(step), title="probability vs angle")
    record["angles"] = [float(a) for a in angles]
    if fmt != "csv":
        with rc_context():
            fig = sweep_figure(spec, angles, result.probabilities, f"gcnn-viewer {__version__}")
        return save_figure(fig, path, record, dpi, cancelled)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["angle"]
    for m in spec.models:
        header += [f"{m.name}_top"] + [f"{m.name}_p{c}" for c in range(10)]
    writer.writerow(header)
    for k, angle in enumerate(angles):
        row = [angle_text(float(angle))]
        for m in spec.models:
            p = result.probabilities[m.name][k]
            row += [f"{float(p.max()):.6g}"] + [f"{float(v):.6g}" for v in p]
        writer.writerow(row)
    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    # the sidecar is committed first: a Cancel seen then leaves neither file
    with atomic_output(path) as tmp, atomic_output(sidecar, cancelled) as tmp_meta:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        tmp_meta.write_text(json_text(record, indent=2) + "\n", encoding="utf-8")
    return path


# -- data -------------------------------------------------------------------------------------
def feature_data(spec: ViewSpec) -> dict[str, np.ndarray]:
    """Everything a figure shows, as arrays: ``"{model}/{layer}@{angle}"`` for every layer in
    ``feature_maps`` order (group maps ``[C, G, H, W]``, planar ``[C, H, W]``, float32, as
    displayed: stabilised when asked), ``"{model}/probs@{angle}"`` ``[10]`` and
    ``"input@{angle}"`` ``[28, 28]``."""
    out: dict[str, np.ndarray] = {}
    for angle in spec.angles:
        f = frame(spec, angle)
        at = angle_text(angle)
        out[f"input@{at}"] = np.ascontiguousarray(f.input, dtype=np.float32)
        x = torch.from_numpy(np.ascontiguousarray(f.input))[None, None]  # [1, 1, 28, 28]
        for m in spec.models:
            panel = f.panel(m.name)
            probe = m.probe
            names = set(spec.layer_names(m))
            # feature_maps' order: the probe's layers (all but "logits"), then "logits"
            for name in (*probe.layers, "logits"):
                if name == "logits":
                    logits = getattr(panel, "logits", None)
                    if logits is None:  # older frames: one more forward pass
                        with torch.inference_mode():
                            logits = m.model(x)[0].float().numpy()
                    out[f"{m.name}/logits@{at}"] = np.asarray(logits, np.float32).copy()
                    continue
                if name not in names:
                    continue
                data = panel.layers[name].data  # [C, G, h, w], G = 1 planar
                if not probe.layouts[name].is_group:
                    data = data[:, 0]  # planar [C, h, w]
                out[f"{m.name}/{name}@{at}"] = np.ascontiguousarray(data, dtype=np.float32)
            out[f"{m.name}/probs@{at}"] = panel.probabilities.astype(np.float32)
    return out


def export_data(spec: ViewSpec, path: Path | str, *, cancelled: Cancelled | None = None) -> Path:
    """An NPZ of :func:`feature_data` plus ``"meta"``: the provenance as a JSON string."""
    _check_spec(spec)
    check_destination(path)
    suffix_of(path, DATA_FORMATS, "data")
    spec.check()
    arrays = feature_data(spec)
    check_cancelled(cancelled)
    record = provenance(
        spec,
        "data",
        keys="'{model}/{layer}@{angle}' (group maps [C, G, H, W], planar [C, H, W]), "
        "'{model}/logits@{angle}', '{model}/probs@{angle}' [10], 'input@{angle}' [28, 28]",
        layer_order={m.name: list(m.probe.layers) for m in spec.models},
        names={m.name: m.title for m in spec.models},
    )
    # a file object: given a name, np.savez would append ".npz" to the temp file's
    with atomic_output(path, cancelled) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, meta=np.array(json_text(record)), **arrays)
    return Path(path)


# -- by kind ----------------------------------------------------------------------------------
def check_options(kind: ExportKind, options: dict[str, Any]) -> None:
    """One line for an option value ``kind`` cannot have (``options``: those it takes)."""
    if "frames" in kind.options:
        check_animation_options(options["frames"], options["fps"], options["dpi"])
    elif "dpi" in kind.options:
        check_dpi(options["dpi"])
    if "step" in options:
        sweep_angles(options["step"])


def export(
    kind: str,
    spec: ViewSpec,
    path: Path | str,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    **options: Any,
) -> Path:
    """Write ``spec`` as an export of ``kind`` (see :mod:`gcnn_viewer.export.kinds`);
    ``options``: the kind's own (dpi, frames, fps, step)."""
    write = WRITERS[export_kind(kind).name]
    return write(spec, path, progress, cancelled, options)


def _write_figure(spec, path, progress, cancelled, options) -> Path:
    return export_figure(spec, path, progress=progress, cancelled=cancelled, **options)


def _write_rotate_and_cycle(spec, path, progress, cancelled, options) -> Path:
    return export_figure(
        spec, path, rotate_and_cycle=True, progress=progress, cancelled=cancelled, **options
    )


def _write_animation_file(spec, path, progress, cancelled, options) -> Path:
    return export_animation(spec, path, progress=progress, cancelled=cancelled, **options)


def _write_sweep(spec, path, progress, cancelled, options) -> Path:
    return export_sweep(spec, path, cancelled=cancelled, **options)  # one pass: no progress


def _write_data(spec, path, progress, cancelled, options) -> Path:
    return export_data(spec, path, cancelled=cancelled, **options)


def _write_group_view(spec, path, progress, cancelled, options) -> Path:
    return export_group_view(spec, path, progress=progress, cancelled=cancelled, **options)


def _write_group_animation(spec, path, progress, cancelled, options) -> Path:
    return export_group_animation(spec, path, progress=progress, cancelled=cancelled, **options)


# kind -> the function that writes it
WRITERS = {
    "figure": _write_figure,
    "rotate-and-cycle": _write_rotate_and_cycle,
    "animation": _write_animation_file,
    "sweep": _write_sweep,
    "data": _write_data,
    "group-view": _write_group_view,
    "group-animation": _write_group_animation,
}


__all__: Sequence[str] = [
    "ANIMATION_FORMATS",
    "DATA_FORMATS",
    "FIGURE_FORMATS",
    "SWEEP_FORMATS",
    "animation_angles",
    "export",
    "export_animation",
    "export_data",
    "export_figure",
    "export_group_animation",
    "export_group_view",
    "export_sweep",
    "feature_data",
    "mp4_available",
    "preview",
    "save_figure",
    "sweep_angles",
]

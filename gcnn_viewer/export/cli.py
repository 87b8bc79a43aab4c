"""``gcnn-viewer export figure|animation|sweep|data``: headless export, no Qt imported.

Wired into the main parser by :func:`add_export_parser`. Every error a user can cause (bad
path, model, input, layer, channel or format) ends with one line on stderr and exit status 2,
and leaves no partial file.
"""

from __future__ import annotations

import argparse
import sys

from gcnn_viewer.arguments import (
    INPUT_HELP,
    add_own_model_options,
    angle,
    model_help,
    own_model_options,
)
from gcnn_viewer.errors import GcnnViewerError
from gcnn_viewer.export.kinds import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_STEP,
    KINDS,
    ExportKind,
    export_kind,
)

DPI_RANGE = "10-2400 dpi, at most 100 megapixels"


def _common(parser: argparse.ArgumentParser, *, angles: bool, layers: bool = False) -> None:
    """``layers``: the command has its own ``--layers`` (the layers to show), which names a
    user's model's layers by module path too."""
    parser.add_argument("--model", nargs="+", required=True, metavar="M", help=model_help())
    add_own_model_options(parser, layers=not layers)
    parser.add_argument("--input", metavar="SRC", default=None, help=INPUT_HELP)
    if angles:
        parser.add_argument(
            "--angles",
            nargs="+",
            type=angle,
            default=None,
            metavar="A",
            help="degrees, counter-clockwise (default: 0 90; at most 360 angles); multiples "
            "of 90 are exact torch.rot90 turns of the 0° input",
        )


def _out(parser: argparse.ArgumentParser, formats: str) -> None:
    parser.add_argument("--out", required=True, metavar=f"FILE.{{{formats}}}", help="output file")


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``export`` and its sub-commands (:data:`COMMANDS`) to the main parser's."""
    export = subparsers.add_parser(
        "export",
        help="export figures, animations, probability sweeps and data (no Qt needed)",
        description="Export what the app shows, headless: figures (PNG/SVG/PDF), animations "
        "(GIF/WebP/PNG/MP4), probability vs angle (PNG/SVG/PDF/CSV) and data (NPZ). "
        "Every file records its provenance.",
    )
    kinds = export.add_subparsers(dest="kind", metavar="KIND", required=True)
    for add in COMMANDS.values():
        add(kinds).set_defaults(func=cmd_export)
    return export


def _dpi(parser: argparse.ArgumentParser, kind: str, what: str) -> None:
    dpi = export_kind(kind).dpi
    parser.add_argument("--dpi", type=int, default=dpi, help=f"{what}, {DPI_RANGE} (default {dpi})")


def _formats(kind: str) -> str:
    return ",".join(export_kind(kind).formats)


def _figure_command(kinds) -> argparse.ArgumentParser:
    figure = kinds.add_parser(
        "figure", help="feature maps of the current view, or the rotate-and-cycle lecture figure"
    )
    _common(figure, angles=True, layers=True)
    figure.add_argument(
        "--layers",
        nargs="+",
        metavar="L",
        help="layers (default: all; --rotate-and-cycle: the first given, default l1); "
        "for your own model, module paths such as features.3",
    )
    figure.add_argument(
        "--channels",
        nargs="+",
        type=int,
        metavar="C",
        help="channel numbers, 0-511 (default: all; --rotate-and-cycle: the 3 strongest)",
    )
    figure.add_argument(
        "--stabilised",
        action="store_true",
        help="undo the input's quarter turns on the maps (as the app's toggle)",
    )
    other = figure.add_mutually_exclusive_group()
    other.add_argument(  # the kind rotate-and-cycle (export/kinds.py)
        "--rotate-and-cycle",
        action="store_true",
        help="one layer at each angle as rows, models side by side, the "
        "cyclic shift of the orientation axis outlined",
    )
    other.add_argument(  # the kind group-view
        "--group-view",
        action="store_true",
        help="one channel of one p4/p4m layer (the first given; channel: the first given, "
        "else the strongest) as GrouPy's figure: its planes on a circle, arrows labelled "
        "by the generators; at θ and θ+90° the planes move one step round",
    )
    _dpi(figure, "figure", "PNG resolution")
    _out(figure, _formats("figure"))
    return figure


def _animation_command(kinds) -> argparse.ArgumentParser:
    animation = kinds.add_parser("animation", help="the input turning 0→360° with the maps")
    _common(animation, angles=False, layers=True)
    animation.add_argument(
        "--layers",
        nargs="+",
        metavar="L",
        help="layers (default: all); for your own model, module paths such as features.3",
    )
    animation.add_argument(
        "--channels", nargs="+", type=int, metavar="C", help="channel numbers, 0-511 (default: all)"
    )
    animation.add_argument(
        "--frames",
        type=int,
        default=DEFAULT_FRAMES,
        help=f"frames per turn, 2-3600 (default {DEFAULT_FRAMES}); all frames together at most "
        "500 megapixels",
    )
    animation.add_argument(
        "--fps",
        type=float,
        default=float(DEFAULT_FPS),
        help=f"frames/s, 0.1-100 (default {DEFAULT_FPS})",
    )
    animation.add_argument("--stabilised", action="store_true", help="stabilised maps")
    animation.add_argument(  # the kind group-animation (export/kinds.py)
        "--group-animation",
        action="store_true",
        help="the group view of one channel of one p4/p4m layer (as figure --group-view) "
        "while the input turns",
    )
    _dpi(animation, "animation", "resolution")
    _out(animation, _formats("animation"))
    return animation


def _sweep_command(kinds) -> argparse.ArgumentParser:
    sweep = kinds.add_parser("sweep", help="class probabilities as the input turns")
    _common(sweep, angles=False)
    sweep.add_argument(
        "--step",
        type=float,
        default=DEFAULT_STEP,
        help=f"degrees between angles, 0.1-180 (default {DEFAULT_STEP:g}: 0…355; at most 3600 "
        "angles)",
    )
    _dpi(sweep, "sweep", "PNG resolution")
    _out(sweep, _formats("sweep"))
    return sweep


def _data_command(kinds) -> argparse.ArgumentParser:
    data = kinds.add_parser("data", help="NPZ of every layer's maps, probabilities, inputs")
    _common(data, angles=True)
    data.add_argument("--stabilised", action="store_true", help="stabilised maps")
    _out(data, _formats("data"))
    return data


# sub-command -> the function that adds it, in --help's order; every export kind is written
# by one of them (ExportKind.sub_command)
COMMANDS = {
    "figure": _figure_command,
    "animation": _animation_command,
    "sweep": _sweep_command,
    "data": _data_command,
}


def cmd_export(args: argparse.Namespace) -> int:
    """Run one export; user errors print one line and return 2."""
    try:
        path = _run(args)
    except GcnnViewerError as exc:
        print(f"gcnn-viewer: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _kind_of(args: argparse.Namespace) -> ExportKind:
    """The kind a sub-command writes (``export figure --rotate-and-cycle``: that kind; a
    kind written by another's sub-command is asked for by a flag of its name)."""
    for kind in KINDS:
        flag = kind.name.replace("-", "_")
        if kind.sub_command == args.kind != kind.name and getattr(args, flag, False):
            return kind
    return export_kind(args.kind)


def _run(args: argparse.Namespace):
    from gcnn_viewer.errors import ExportError
    from gcnn_viewer.export import common, render
    from gcnn_viewer.figure_output import check_destination, suffix_of

    kind = _kind_of(args)
    # everything that can be checked before loading models: the output path, format, options
    check_destination(args.out)
    fmt = suffix_of(args.out, kind.formats, f"export {args.kind}")
    if fmt == "mp4" and not render.mp4_available():
        raise ExportError(render.MP4_MISSING)
    options = {name: getattr(args, name) for name in kind.options}
    render.check_options(kind, options)
    from gcnn_viewer.models.user import is_model_spec
    from gcnn_viewer.viewer.sources import OwnModelOptions, skipped_notes

    own = own_model_options(args)
    if not any(is_model_spec(m) for m in args.model):
        own["layers"] = None  # --layers: the shipped models' layers to show, as ever
    models = common.resolve_models(args.model, own=OwnModelOptions(**own))
    for line in skipped_notes(models):
        print(f"gcnn-viewer: {line}", file=sys.stderr)
    source = common.resolve_input(args.input)
    angles = getattr(args, "angles", None) or common.DEFAULT_ANGLES
    spec = common.ViewSpec(
        models,
        source,
        angles=angles,
        layers=getattr(args, "layers", None),
        channels=getattr(args, "channels", None),
        stabilised=bool(getattr(args, "stabilised", False)),
        extra={"command": ["gcnn-viewer", "export", args.kind, *_argv_tail(args)]},
    )
    if kind.animated:
        return _with_progress_bar(kind, spec, args.out, options)
    return render.export(kind.name, spec, args.out, **options)


def _with_progress_bar(kind: ExportKind, spec, out: str, options: dict):
    from tqdm import tqdm

    from gcnn_viewer.export import render

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # made with the first frame: an early error prints only its line
            bar = tqdm(total=total, desc="frames", unit="frame", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    try:
        return render.export(kind.name, spec, out, progress=progress, **options)
    finally:
        if bar is not None:
            bar.close()


def _argv_tail(args: argparse.Namespace) -> list[str]:
    """The command's options as given (for the provenance), from the invocation if known."""
    invocation = getattr(args, "invocation", None)
    if invocation and "export" in invocation:
        return list(invocation[invocation.index("export") + 2 :])
    return []

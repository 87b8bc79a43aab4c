"""``gcnn-viewer analyse equivariance|accuracy|filters`` (``analyze`` too): the analysis views'
numbers and figures, headless, no Qt imported.

Wired into the main parser by :func:`add_analyse_parser`. Every error a user can cause (bad
model, input, angle, layer, channel, path or format; missing data) ends with one line on
stderr and exit status 2, and leaves no partial file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gcnn_viewer.arguments import (
    INPUT_HELP,
    add_own_model_options,
    angle,
    int_in,
    model_help,
    own_model_options,
)
from gcnn_viewer.errors import GcnnViewerError

DEFAULT_EQUIVARIANCE_STEP = 5.0  # 72 angles: 0, 5, …, 355
DEFAULT_UPRIGHT_ANGLES = (0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0)
MAX_EQUIVARIANCE_ANGLES = 3600  # one per 0.1°; computed CURVE_BATCH at a time, with progress
CURVE_BATCH = 256  # ~0.4 MB per angle per model held at once (1440 angles in one batch: 1.9 GB)
MAX_UPRIGHT_ANGLES = 360  # each is a pass over 10,000 digits


def add_analyse_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``analyse`` (alias ``analyze``) and its three kinds to the main parser."""
    analyse = subparsers.add_parser(
        "analyse",
        aliases=["analyze"],
        help="equivariance error, accuracy vs angle, the shared filters (no Qt needed)",
        description="Measure what the app shows: each layer's equivariance error against the "
        "input angle, the test error against the digit's angle, and the filter bank a group "
        "convolution applies. --json prints the numbers; --out writes a figure "
        "(PNG/SVG/PDF) or the numbers (CSV/NPZ) with their provenance.",
    )
    kinds = analyse.add_subparsers(dest="analysis", metavar="KIND", required=True)

    eq = kinds.add_parser(
        "equivariance",
        help="err_L(θ) = ‖f_L(R_θ x) − T_θ f_L(x)‖ / ‖T_θ f_L(x)‖ for every layer",
    )
    eq.add_argument("--model", nargs="+", required=True, metavar="M", help=model_help())
    add_own_model_options(eq)
    _lab_options(eq)
    eq.add_argument("--input", metavar="SRC", default=None, help=INPUT_HELP)
    eq.add_argument(
        "--angles",
        nargs="+",
        type=angle,
        metavar="A",
        help=f"degrees, counter-clockwise (default: 0 5 … 355; at most {MAX_EQUIVARIANCE_ANGLES})",
    )
    _outputs(eq, "png,svg,pdf,csv,npz")
    eq.set_defaults(func=cmd_analyse)

    acc = kinds.add_parser("accuracy", help="test error against the digit's angle")
    acc.add_argument("--model", nargs="+", required=True, metavar="M", help=model_help())
    add_own_model_options(acc)
    acc.add_argument(
        "--source",
        choices=("mnist-rot", "mnist-upright"),
        default="mnist-rot",
        help="mnist-rot (default): the 50,000 test digits binned by their recorded angle; "
        "mnist-upright: the 10,000 MNIST test digits turned by each --angles (some of them "
        "were MNIST-rot training digits)",
    )
    acc.add_argument(
        "--bins",
        type=int_in(1, 360),
        default=36,
        metavar="N",
        help="mnist-rot: angle bins, 1-360 (default 36)",
    )
    acc.add_argument(
        "--angles",
        nargs="+",
        type=angle,
        metavar="A",
        help=f"mnist-upright: degrees (default: 0 45 … 315; at most {MAX_UPRIGHT_ANGLES})",
    )
    acc.add_argument(
        "--no-cache",
        action="store_true",
        help="compute again even if this model's predictions are cached",
    )
    _outputs(acc, "png,svg,pdf,csv,npz")
    acc.set_defaults(func=cmd_analyse)

    _filters_parser(kinds)
    return analyse


def _filters_parser(kinds) -> None:  # noqa: ANN001
    filt = kinds.add_parser("filters", help="a layer's stored filter and the bank it applies")
    filt.add_argument(
        "--model",
        required=True,
        metavar="M",
        help=model_help("a model"),
    )
    add_own_model_options(filt, several=False)
    filt.add_argument(
        "--layer",
        default=None,
        metavar="L",
        help="l1 … l6 or top (default l2); your own model's: a layer's module path (default: "
        "its first convolution)",
    )
    filt.add_argument("--channel", type=int_in(0), default=0, metavar="C", help="output channel")
    _outputs(filt, "png,svg,pdf,npz")
    filt.set_defaults(func=cmd_analyse)


def _lab_options(parser: argparse.ArgumentParser) -> None:
    """The equivariance lab's switches (docs/lab.md); --input-size and --weights are the
    own-model options', with a meaning for the shipped models too."""
    lab = parser.add_argument_group(
        "the equivariance lab (docs/lab.md)",
        "With a shipped model or a checkpoint, --input-size N draws the digit into an N×N "
        "field the MNIST way and runs the network on it (N 20-64; below 28 the layers a "
        "map is too small for are n/a), and --weights FILE adds a curve set: the same "
        "network with FILE's weights (a state_dict or a checkpoint), one FILE per model in "
        '--model\'s order. The JSON echoes every switch under "settings" and adds the '
        "readout at 90°: the first layer whose error leaves float32 rounding, and why.",
    )
    lab.add_argument(
        "--rotation",
        default="native",
        metavar="METHOD",
        help="how the input is turned between quarter turns: native (the app's, default: "
        "bicubic on the digit's own pixels, then averaged down), nearest, bilinear, bicubic, "
        "or supersample:K (bicubic at K× resolution, then K×K blocks averaged; K 1-16); "
        "quarter turns are exact rot90 whatever the method",
    )
    lab.add_argument(
        "--mask",
        choices=("none", "disc"),
        default="none",
        help="disc: zero the corners outside the field's central disc before the model, "
        "upright and turned alike (default none)",
    )


def _outputs(parser: argparse.ArgumentParser, formats: str) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--out", metavar=f"FILE.{{{formats}}}", help="write a figure or the numbers"
    )
    parser.add_argument(
        "--dpi",
        type=int,
        default=200,
        help="PNG resolution, 10-2400 dpi, at most 100 megapixels (default 200)",
    )


def cmd_analyse(args: argparse.Namespace) -> int:
    """Run one analysis; user errors print one line and return 2."""
    try:
        return {"equivariance": _equivariance, "accuracy": _accuracy, "filters": _filters}[
            args.analysis
        ](args)
    except GcnnViewerError as exc:
        print(f"gcnn-viewer: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> list[str]:
    invocation = getattr(args, "invocation", None)
    return list(invocation) if invocation else ["gcnn-viewer", "analyse", args.analysis]


def _check_out(args: argparse.Namespace, formats) -> str | None:
    from gcnn_viewer.analysis.figures import check_output
    from gcnn_viewer.figure_output import check_dpi

    if args.out is None:
        return None
    fmt = check_output(args.out, formats, f"analyse {args.analysis}")
    if fmt in ("png", "svg", "pdf"):
        check_dpi(args.dpi)
    return fmt


def _resolve(resolve_models, args: argparse.Namespace, texts: list[str]):  # noqa: ANN001, ANN202
    """The models ``--model`` names, a user's own with ``--weights``, ``--name``,
    ``--input-size`` and ``--layers``."""
    from gcnn_viewer.viewer.sources import OwnModelOptions

    models = resolve_models(texts, own=OwnModelOptions(**own_model_options(args)))
    _notes(models)
    return models


def _notes(models) -> None:  # noqa: ANN001
    """One line on stderr per layer of a user's model that is not shown."""
    from gcnn_viewer.viewer.sources import skipped_notes

    for line in skipped_notes(models):
        print(f"gcnn-viewer: {line}", file=sys.stderr)


def _subtitle(models) -> str:
    from gcnn_viewer import __version__

    parts = [
        f"{m.title} {'trained' if m.trained else 'UNTRAINED'}, weights sha256 {m.sha256[:12]}"
        for m in models
    ]
    return f"gcnn-viewer {__version__} · " + " · ".join(parts)


# -- equivariance ----------------------------------------------------------------------------
def _equivariance(args: argparse.Namespace) -> int:
    import numpy as np

    from gcnn_viewer.analysis import figures
    from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
    from gcnn_viewer.analysis.lab import READOUT_ANGLE, lab_readout
    from gcnn_viewer.data.files import json_text
    from gcnn_viewer.viewer.sources import resolve_input

    fmt = _check_out(args, figures.EQUIVARIANCE_FORMATS)
    if args.angles and len(args.angles) > MAX_EQUIVARIANCE_ANGLES:
        raise _UsageError(
            f"--angles: at most {MAX_EQUIVARIANCE_ANGLES} angles (one per 0.1°), "
            f"not {len(args.angles)}"
        )
    sets = _lab_models(args)  # [(ExportModel, its --weights file or None)]
    models = [m for m, _ in sets]
    _notes(models)
    source = resolve_input(args.input)
    if args.angles:
        angles = [float(a) for a in args.angles]
    else:
        angles = list(np.arange(0.0, 360.0, DEFAULT_EQUIVARIANCE_STEP))
    digit = source.snapshot.digit
    labs = {m.name: _curve(m, digit, angles, _settings(args, m)) for m in models}
    curves = {name: lab.errors for name, lab in labs.items()}
    objects = []
    for m, weights in sets:
        lab = labs[m.name]
        readout = lab_readout(m.model, digit, lab.settings, READOUT_ANGLE, curves=lab)
        objects.append(
            {
                "model": m.name,
                "input": source.source,
                "angles": angles,
                "error": lab.as_json()["error"],
                "settings": {**lab.settings.as_json(), "weights": weights},
                "readout": readout.as_json(),
            }
        )
    if args.json:
        print(json_text(objects[0] if len(objects) == 1 else objects))
    elif args.out is None:
        for obj in objects:
            _print_equivariance(obj, EXACT_TOLERANCE)
    if args.out is None:
        return 0
    meta = figures.record(
        "analysis-equivariance",
        models,
        input=source.source,
        angles=angles,
        exact_tolerance=EXACT_TOLERANCE,
        definition="err_L(θ) = ‖f_L(R_θ x) − T_θ f_L(x)‖ / ‖T_θ f_L(x)‖, L2 inside each map's "
        "central disc; T_θ: rot90 by round(θ/90°), the orientation axis permuted by the "
        "group's rotation nearest θ (C8: round(θ/45°) steps), then the rest turned bilinearly; "
        "escnn component layers by escnn's own transform; logits compared directly",
        settings={obj["model"]: obj["settings"] for obj in objects},
        readout={obj["model"]: obj["readout"]["text"] for obj in objects},
        command=_command(args),
    )
    if fmt == "csv":
        header, rows = figures.equivariance_rows(curves, angles)
        path = figures.write_csv(args.out, header, rows, meta)
    elif fmt == "npz":
        arrays = {"angles": np.asarray(angles, np.float64)}
        for name, layers in curves.items():
            for layer, err in layers.items():
                arrays[f"{name}/{layer}"] = err
        meta["layer_order"] = {name: list(layers) for name, layers in curves.items()}
        path = figures.write_npz(args.out, arrays, meta)
    else:
        titled = {m.title: curves[m.name] for m in models}
        label = source.source  # and the lab's switches, where any is not the default
        if not all(lab.settings.is_default for lab in labs.values()):
            label += " · " + " / ".join(dict.fromkeys(x.settings.describe() for x in labs.values()))
        fig = figures.with_rc(figures.equivariance_figure, titled, angles, label, _subtitle(models))
        path = figures.write_figure(fig, args.out, meta, args.dpi)
    print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _lab_models(args: argparse.Namespace) -> list:
    """The curve sets: each ``--model`` (a user's own with its options), then, where no
    ``--model`` is a user's, each ``--weights FILE`` as the same network as the ``--model``
    in its place with FILE's weights. ``[(ExportModel, the --weights file or None)]``."""
    from dataclasses import replace

    from gcnn_viewer.models.user import is_model_spec
    from gcnn_viewer.viewer.sources import OwnModelOptions, resolve_models

    own = own_model_options(args)
    if any(is_model_spec(t) for t in args.model):  # --weights, --input-size: the user's model's
        models = resolve_models(args.model, own=OwnModelOptions(**own))
        return [
            (m, own["weights"][i] if i < len(own["weights"]) else None)
            for i, m in enumerate(models)
        ]
    files = own["weights"]
    models = resolve_models(
        args.model, own=OwnModelOptions(**{**own, "weights": (), "input_size": None})
    )
    if len(files) > len(models):
        raise _UsageError(
            f"--weights: {len(files)} files for {len(models)} model(s); give one per model, "
            "in the order of --model"
        )
    sets = [(m, None) for m in models]
    taken = {m.name for m in models}
    for base, file in zip(models, files, strict=False):
        other = _with_weights(base, file)
        name = other.name if other.name not in taken else f"{base.name}@{other.name}"
        taken.add(name)
        sets.append((replace(other, name=name), str(file)))
    return sets


def _with_weights(base, file: str):  # noqa: ANN001, ANN202
    """``base``'s network with the weights in ``file`` (a state_dict or a checkpoint, read
    with ``weights_only``), frozen, as an ExportModel named after the file."""
    from dataclasses import replace

    from gcnn_viewer.data.mnist import sha256_file
    from gcnn_viewer.models.user import load_weights

    path = Path(file).expanduser()
    model = base.model.unfrozen_copy()
    load_weights(model, path, f"--weights for {base.name}")  # one line when it cannot
    model.freeze()
    return replace(
        base,
        name=path.stem,
        source=f"{base.arch} with the weights of {path.name}",
        sha256=sha256_file(path),
        model=model,
        title=f"{base.title} ({path.name})",
        trained=True,
        path=path,
        origin=path.name,
        panel=None,
        _probe=None,
    )


def _settings(args: argparse.Namespace, model):  # noqa: ANN001, ANN202
    """The lab's settings for ``model``: a shipped network or checkpoint at --input-size
    (default 28); a user's model at the size its digit is drawn at (its input size, or 28
    where the drawing cannot make that size and the model pads the digit itself)."""
    from gcnn_viewer.analysis.lab import LabSettings
    from gcnn_viewer.viewer.inference import drawn_size

    ours = callable(getattr(model.model, "stages", None))
    size = (args.input_size or 28) if ours else drawn_size(model.model)
    return LabSettings(size, args.rotation, args.mask)


def _curve(model, digit, angles: list[float], settings) -> Any:  # noqa: ANN001
    """:func:`~gcnn_viewer.analysis.lab.lab_curves` (:data:`CURVE_BATCH` angles per pass, so
    memory stays bounded: 20,000 angles in one batch died in the allocator) with a progress
    bar."""
    from gcnn_viewer.analysis.lab import lab_curves

    progress, close = _bar(f"{model.name}: equivariance")
    try:
        return lab_curves(model.model, digit, angles, settings, progress=progress)
    finally:
        close()


def _print_equivariance(obj: dict[str, Any], tolerance: float) -> None:
    import numpy as np

    angles = np.asarray(obj["angles"])
    quarter = np.isclose(np.mod(angles, 90.0), 0.0) | np.isclose(np.mod(angles, 90.0), 90.0)
    settings = obj["settings"]
    n = settings["input_size"]
    weights = f", weights {settings['weights']}" if settings.get("weights") else ""
    print(
        f"{obj['model']}: equivariance error, input {obj['input']}, {len(angles)} angles; "
        f"{n}×{n}, rotation {settings['rotation']}, mask {settings['mask']}{weights}"
    )
    print(f"  {'layer':<8}{'quarter turns (max)':>22}{'between (mean)':>18}{'max':>10}")
    for layer, values in obj["error"].items():
        if values is None:
            print(f"  {layer:<8}{'n/a':>22}{'n/a':>18}{'n/a':>10}")
            continue
        err = np.asarray(values)
        q = f"{err[quarter].max():.2e}" if quarter.any() else "-"
        b = f"{err[~quarter].mean():.3f}" if (~quarter).any() else "-"
        print(f"  {layer:<8}{q:>22}{b:>18}{err.max():>10.3f}")
    print(f"  (below {tolerance:g}: equal up to float32 rounding)")
    print(f"  {obj['readout']['text']}")


# -- accuracy ----------------------------------------------------------------------------------
def _data_for(model) -> Any:
    """MNIST-rot as ``gcnn-viewer evaluate`` loads it for this model: the checkpoint's
    recorded variant, else the standard set (fetched and generated on first use)."""
    from dataclasses import fields, replace

    from gcnn_viewer.data import load_mnist_rot
    from gcnn_viewer.data.mnist_rot import MnistRotSpec

    spec = MnistRotSpec()
    path = model.path
    if model.origin != "shipped" and path is not None:
        from gcnn_viewer.training import read_checkpoint

        recorded = (read_checkpoint(Path(path)).get("data") or {}).get("spec")
        if recorded:
            names = {f.name for f in fields(MnistRotSpec)} - {"version"}
            spec = replace(spec, **{k: v for k, v in recorded.items() if k in names})
    return load_mnist_rot(spec, progress=lambda msg: print(msg, file=sys.stderr))


def _bar(desc: str):
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=total, desc=desc, unit="batch", file=sys.stderr, leave=False
            )
        bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        if "bar" in state:
            state["bar"].close()

    return progress, close


def _accuracy(args: argparse.Namespace) -> int:
    from gcnn_viewer.analysis import figures
    from gcnn_viewer.data.files import json_text
    from gcnn_viewer.viewer.sources import resolve_models

    fmt = _check_out(args, figures.ACCURACY_FORMATS)
    upright = args.source == "mnist-upright"
    if args.angles and not upright:
        raise _UsageError("--angles is for --source mnist-upright; mnist-rot uses --bins")
    if args.angles and len(args.angles) > MAX_UPRIGHT_ANGLES:
        raise _UsageError(
            f"--angles: at most {MAX_UPRIGHT_ANGLES} angles (each classifies 10,000 digits), "
            f"not {len(args.angles)}"
        )
    models = _resolve(resolve_models, args, args.model)
    results = _accuracy_results(args, models, upright)
    objects = [r.to_json(name) for name, r in results.items()]
    if upright:
        note = next(iter(results.values())).note
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json_text(objects[0] if len(objects) == 1 else objects))
    elif args.out is None:
        for name, r in results.items():
            _print_accuracy(name, r, upright)
    if args.out is None:
        return 0
    path = _write_accuracy(args, fmt, models, results, objects, upright)
    print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _accuracy_results(args: argparse.Namespace, models, upright: bool) -> dict:
    """Each model's error against angle (model name -> result), with a progress bar."""
    from gcnn_viewer.analysis.accuracy import rot_accuracy, upright_accuracy

    results = {}
    for m in models:
        progress, close = _bar(f"{m.name}: {args.source}")
        sha = None if args.no_cache else m.sha256
        try:
            if upright:
                angles = args.angles or DEFAULT_UPRIGHT_ANGLES
                results[m.name] = upright_accuracy(
                    m.model, angles, weights_sha256=sha, progress=progress
                )
            else:
                data = _data_for(m)
                results[m.name] = rot_accuracy(
                    m.model, data, bins=args.bins, weights_sha256=sha, progress=progress
                )
        finally:
            close()
    return results


def _write_accuracy(args, fmt: str, models, results: dict, objects: list, upright: bool):
    """``--out``: the results as CSV, NPZ or a figure, with their provenance."""
    from gcnn_viewer.analysis import figures

    meta = figures.record(
        f"analysis-accuracy-{args.source}",
        models,
        results=objects,
        command=_command(args),
    )
    first = next(iter(results.values()))
    if upright:
        meta["note"] = first.note
    else:
        meta["data_hash"] = first.data_hash
        meta["note"] = (
            "MNIST-rot regenerated from MNIST with the Larochelle et al. (2007) protocol; "
            "bins by each test digit's recorded angle; predictions as `gcnn-viewer evaluate`"
        )
    if fmt == "csv":
        header, rows = _accuracy_table(results, upright)
        return figures.write_csv(args.out, header, rows, meta)
    if fmt == "npz":
        return figures.write_npz(args.out, _accuracy_arrays(results, upright), meta)
    titled = {m.title: results[m.name] for m in models}
    fig = figures.with_rc(figures.accuracy_figure, titled, _subtitle(models))
    return figures.write_figure(fig, args.out, meta, args.dpi)


def _accuracy_table(results: dict, upright: bool) -> tuple[list, list]:
    """CSV header and rows: an angle's errors (upright), or a bin's counts and errors."""
    first = next(iter(results.values()))
    if upright:
        header = ["angle"] + [f"{name}_error" for name in results]
        rows = [[a] + [r.errors[k] for r in results.values()] for k, a in enumerate(first.angles)]
        return header, rows
    header = ["from", "to"]
    for name in results:
        header += [f"{name}_n", f"{name}_error"]
    rows = []
    for k, b in enumerate(first.bins):
        row: list = [b.lo, b.hi]
        for r in results.values():
            row += [r.bins[k].n, r.bins[k].error]
        rows.append(row)
    return header, rows


def _accuracy_arrays(results: dict, upright: bool) -> dict:
    import numpy as np

    arrays = {}
    for name, r in results.items():
        if upright:
            arrays[f"{name}/angles"] = np.asarray(r.angles, np.float64)
            arrays[f"{name}/error"] = np.asarray(r.errors, np.float64)
        else:
            arrays[f"{name}/edges"] = np.asarray([b.lo for b in r.bins] + [r.bins[-1].hi])
            arrays[f"{name}/n"] = np.asarray([b.n for b in r.bins], np.int64)
            arrays[f"{name}/wrong"] = np.asarray([b.wrong for b in r.bins], np.int64)
    return arrays


def _print_accuracy(name: str, r, upright: bool) -> None:
    if upright:
        print(f"{name}: error on {r.n:,} upright MNIST test digits turned by")
        for a, e in zip(r.angles, r.errors, strict=True):
            print(f"  {a:>7g}°  {100 * e:6.2f}%")
        return
    print(f"{name}: {100 * r.error:.2f}% error on {r.n:,} MNIST-rot test digits; by angle:")
    for b in r.bins:
        err = f"{100 * b.error:6.2f}%" if b.error is not None else "     -"
        print(f"  {b.lo:>6g}–{b.hi:<6g}° {b.n:>6,} digits  {err}")


class _UsageError(GcnnViewerError):
    """A combination of options that does not go together."""


# -- filters -----------------------------------------------------------------------------------
def _filters(args: argparse.Namespace) -> int:
    from gcnn_viewer.analysis import figures
    from gcnn_viewer.analysis.filters import filter_bank, layer_parameters, parameter_counts
    from gcnn_viewer.data.files import json_text
    from gcnn_viewer.viewer.sources import resolve_models

    fmt = _check_out(args, figures.FILTER_FORMATS)
    (model,) = _resolve(resolve_models, args, [args.model])
    net = model.model
    if args.layer is None:
        from gcnn_viewer.analysis.filters import conv_layers

        args.layer = "l2" if hasattr(net, "convs") else next(iter(conv_layers(net)))
    bank = filter_bank(net, args.layer, args.channel)
    params = layer_parameters(net, args.layer)
    counts = parameter_counts(net)
    totals = (sum(p.params for p in counts), sum(p.plain_params for p in counts))
    obj = {
        "model": model.name,
        "layer": args.layer,
        "channel": bank.channel,
        "group": bank.group.name if bank.group else None,
        "orientations": bank.output_labels,
        "stored": bank.stored.tolist(),
        "expanded": bank.expanded.tolist(),
        "parameters": {
            "layer": params.params,
            "plain_layer": params.plain_params,
            "model": totals[0],
            "plain_model": totals[1],
        },
    }
    if args.json:
        print(json_text(obj))
    elif args.out is None:
        print(
            f"{model.name} {args.layer} channel {bank.channel}: stored {list(bank.stored.shape)}"
            f" (input channels, input orientations, k, k), applied as "
            f"{bank.expanded.shape[0]} cop{'ies' if bank.expanded.shape[0] > 1 else 'y'}"
        )
        print(f"  {'layer':<6}{'maps in':>9}{'maps out':>10}{'params':>9}{'plain CNN':>11}")
        for p in counts:
            print(
                f"  {p.layer:<6}{p.maps_in:>9}{p.maps_out:>10}{p.params:>9,}{p.plain_params:>11,}"
            )
        print(f"  {'all':<6}{'':>9}{'':>10}{totals[0]:>9,}{totals[1]:>11,}")
    if args.out is None:
        return 0
    meta = figures.record(
        "analysis-filters",
        [model],
        layer=args.layer,
        channel=bank.channel,
        parameters=obj["parameters"],
        command=_command(args),
    )
    if fmt == "npz":
        arrays = {"stored": bank.stored, "expanded": bank.expanded}
        meta["keys"] = (
            "stored [C_in, G_in, k, k]; expanded [G, C_in, G_in, k, k], one copy per output "
            f"orientation {' '.join(bank.output_labels)}"
        )
        path = figures.write_npz(args.out, arrays, meta)
    else:
        title = f"{model.title} {args.layer}, output channel {bank.channel}: one filter, turned"
        fig = figures.with_rc(
            figures.filters_figure, bank, params, totals, title, _subtitle([model])
        )
        path = figures.write_figure(fig, args.out, meta, args.dpi)
    print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0

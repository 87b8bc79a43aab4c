"""Command line: ``gcnn-viewer [SUBCOMMAND]``; with no subcommand it launches the app.

Every error a user can cause (bad path or value, corrupt, crafted or foreign checkpoint,
missing data, a full disk) ends with one line on stderr and a non-zero exit status, never a
traceback: those are the project's :class:`GcnnViewerError` and ``OSError`` s naming a file.
Anything else is a bug and surfaces with its traceback and a request to report it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from gcnn_viewer import __version__
from gcnn_viewer.arguments import (
    add_own_model_options,
    int_in,
    model_help,
    number,
    own_model_options,
)
from gcnn_viewer.errors import GcnnViewerError
from gcnn_viewer.models.registry import model_names, table_models  # torch-free, as the next
from gcnn_viewer.models.train_config import MAX_SEED, TrainConfig, TrainOption, train_options

MAX_SUPERSAMPLE = 16  # as MnistRotSpec


class CliError(GcnnViewerError):
    """An error the user can fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (not the usage block), like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _progress(message: str) -> None:
    print(message, file=sys.stderr)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _device(name: str) -> str:
    """Validate ``--device`` before any data is loaded; ConfigError names what exists."""
    from gcnn_viewer.training import resolve_device

    resolve_device(name)
    return name


def _load_data(args: argparse.Namespace, recorded: dict[str, Any] | None = None):
    """MNIST-rot from the cache (fetched and generated on first use): the variant the command
    line names, else the one a checkpoint ``recorded``, else the standard set."""
    from dataclasses import fields, replace

    from gcnn_viewer.data import load_mnist_rot
    from gcnn_viewer.data.mnist_rot import MnistRotSpec

    spec = MnistRotSpec()
    if recorded:  # the generator's version stays this one's: a resume checks the content hash
        names = {f.name for f in fields(MnistRotSpec)} - {"version"}
        spec = replace(spec, **{k: v for k, v in recorded.items() if k in names})
    chosen = {
        name: getattr(args, name)
        for name in ("supersample", "interpolation")
        if getattr(args, name, None) is not None
    }
    try:
        spec = replace(spec, **chosen)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return load_mnist_rot(spec, progress=_progress)


# -- data --------------------------------------------------------------------------------
def cmd_data(args: argparse.Namespace) -> int:
    from gcnn_viewer.data import data_info, fetch_mnist
    from gcnn_viewer.data.files import json_text

    if args.action == "fetch":
        directory = fetch_mnist(Path(args.source) if args.source else None, progress=_progress)
        print(f"MNIST verified in {directory}")
        if not args.no_generate:
            data = _load_data(args)
            print(f"MNIST-rot ready: {data.path} (content hash {data.content_hash[:16]}…)")
        return 0
    info = data_info()
    if args.json:
        print(json_text(info, indent=2, default=str))
        return 0
    mnist = info["mnist"]
    print(f"cache: {info['cache_dir']}")
    print(f"MNIST: {'complete, verified' if mnist['complete'] else 'incomplete'} ({mnist['dir']})")
    for name, entry in mnist["files"].items():
        if not entry["verified"]:
            print(f"  {name}: {'present but BAD checksum' if entry['present'] else 'missing'}")
    for entry in info["mnist_rot"]:
        if "error" in entry:
            print(f"MNIST-rot {entry['path']}: unreadable ({entry['error']})")
            continue
        spec = entry["spec"]
        print(
            f"MNIST-rot {entry['path']}\n  splits {entry['splits']}\n  seed {spec['seed']}, "
            f"{spec['interpolation']} x{spec['supersample']}, hash {entry['content_hash']}"
        )
    if not info["mnist_rot"]:
        print("MNIST-rot: not generated yet (gcnn-viewer data fetch)")
    return 0


# -- train -------------------------------------------------------------------------------------
class _TrainingBars:
    """The training bar (steps, with the epoch's numbers) and, once the epochs are done, one
    bar per end-of-run pass."""

    def __init__(self, trainer, label: str) -> None:
        from tqdm import tqdm

        self.tqdm, self.label = tqdm, label
        self.bar = tqdm(
            total=trainer.steps_total,
            initial=trainer.global_step,
            desc=label,
            unit="step",
            dynamic_ncols=True,
            file=sys.stderr,
        )
        self.phase_bar = None

    def show(self, p) -> None:
        if p.kind == "finishing":
            self._show_phase(p)
        else:
            self._show_step(p)
        if p.kind == "epoch":
            valid = "" if p.valid_error is None else f", valid error {100 * p.valid_error:.2f}%"
            self.bar.write(
                f"epoch {p.epoch}/{p.epochs}: loss {p.loss:.4f}, train error "
                f"{100 * p.error:.2f}%{valid}, {p.images_per_s:.0f} img/s",
                file=sys.stderr,
            )

    def _show_phase(self, p) -> None:
        self.bar.close()
        desc = f"{self.label}: {p.phase}"
        if self.phase_bar is None or self.phase_bar.desc != desc:
            if self.phase_bar is not None:
                self.phase_bar.close()
            self.phase_bar = self.tqdm(
                total=p.phase_total, desc=desc, unit="batch", dynamic_ncols=True, file=sys.stderr
            )
        self.phase_bar.update(p.phase_done - self.phase_bar.n)

    def _show_step(self, p) -> None:
        self.bar.update(p.step - self.bar.n)
        # a "step" belongs to the epoch under way; an "epoch" record ends one
        current = p.epoch + 1 if p.kind == "step" else p.epoch
        postfix = {
            "epoch": f"{current}/{p.epochs}",
            "loss": f"{p.loss:.3f}",
            "err": f"{100 * p.error:.2f}%",
            "img/s": f"{p.images_per_s:.0f}",
        }
        if p.valid_error is not None:
            postfix["valid"] = f"{100 * p.valid_error:.2f}%"
        self.bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        self.bar.close()
        if self.phase_bar is not None:
            self.phase_bar.close()


def _drive(trainer, label: str) -> int:
    """Run a trainer with progress bars (training, then one per end-of-run pass); the first
    Ctrl-C stops at the next record with the checkpoint saved and says how to resume."""
    stop = {"asked": False}

    def ask_to_stop(signum, frame):  # noqa: ARG001
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True

    previous = signal.signal(signal.SIGINT, ask_to_stop)
    bars = _TrainingBars(trainer, label)
    try:
        for p in trainer.run():
            bars.show(p)
            if p.kind == "done":
                bars.close()
                _report_done(trainer, label, p)
                return 0
            if stop["asked"]:
                bars.close()
                _report_stopped(trainer, p, trainer.save())
                return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        bars.close()
    return 0


def _report_done(trainer, label: str, p) -> None:
    final = trainer.final or {}
    if p.test_error is not None:
        print(
            f"{label}: test error {100 * p.test_error:.2f}% "
            f"({final.get('n_test')} digits), {p.elapsed / 60:.1f} min training"
        )
    if final.get("finish_seconds") is not None:
        print(
            f"end-of-run passes (BN statistics, evaluations): {final['finish_seconds']:.1f} s",
            file=sys.stderr,
        )
    print(f"checkpoint: {p.checkpoint}")


def _report_stopped(trainer, p, path) -> None:
    if p.kind == "finishing":
        print(
            f"stopped during the final evaluation ({p.phase}); the trained model "
            f"is saved. Finish the evaluation with: gcnn-viewer train --resume {path}",
            file=sys.stderr,
        )
    else:
        print(
            f"stopped at step {trainer.global_step}; resume with: "
            f"gcnn-viewer train --resume {path}",
            file=sys.stderr,
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _check_out(
    out: Path, overwrite: bool, resume: Path | None = None, held: contextlib.ExitStack | None = None
) -> None:
    """The one rule for ``--out``, with or without ``--resume``: an existing file is replaced
    only with ``--overwrite`` (resuming in place is the normal case, not a replacement); and
    the destination must be writable before any training starts. ``held``: the run claims
    ``out`` there first (a lock beside it), so two runs cannot both find it free."""
    from gcnn_viewer.data.files import claim_output
    from gcnn_viewer.training import check_writable

    if held is not None and not out.is_dir():
        held.enter_context(claim_output(out))  # one line when another run holds it
    if out.is_dir():
        raise CliError(f"--out {out} is a directory; name a checkpoint file, e.g. {out / 'run.pt'}")
    in_place = resume is not None and _same_file(out, resume)
    if out.exists() and not overwrite and not in_place:
        hint = f"resume it with --resume {out}, " if resume is None else ""
        raise CliError(f"{out} exists: {hint}choose another --out, or pass --overwrite")
    check_writable(out)


def cmd_train(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as held:  # the claim on --out, released when the run ends
        return _train(args, held)


def _train(args: argparse.Namespace, held: contextlib.ExitStack) -> int:
    from gcnn_viewer.training import Datasets, Trainer, check_writable

    command = args.invocation
    _device(args.device)
    if args.resume:
        from gcnn_viewer.training import read_run

        source = Path(args.resume)
        record = read_run(source)  # validated: one line naming a bad field
        if record.complete:
            raise CliError(f"{source}: this run is already complete")
        out = Path(args.out) if args.out else source
        _check_out(out, args.overwrite, resume=source, held=held)
        data = Datasets.from_mnist_rot(_load_data(args, record.data_spec))
        trainer = Trainer.resume(
            source, data, device=args.device, command=command, checkpoint_path=out
        )
        if args.diagnostics:
            trainer.config.diagnostics = True
        check_writable(out, trainer.payload())  # a full disk shows now, not after an epoch
        if trainer.epoch >= trainer.config.epochs:
            print(f"training is done; finishing the evaluation into {out}", file=sys.stderr)
        label = f"{trainer.config.model_name} seed {trainer.config.seed}"
        return _drive(trainer, label)
    if args.init_from and not args.model:
        _model_of_run(args)
    if not args.model:
        raise CliError("train needs --model NAME (or --resume PATH, or --init-from PATH)")
    # every TrainConfig field has its option (_add_train_options): ConfigError for a bad value
    config = TrainConfig(**{o.name: getattr(args, o.name) for o in train_options()})
    config.check_model_options()  # before any data is loaded
    stem = re.sub(r"[^\w.-]", "_", config.model_name)  # a user's --name may hold anything
    out = Path(args.out) if args.out else Path("runs") / f"{stem}-seed{config.seed}.pt"
    _check_out(out, args.overwrite, held=held)
    data = Datasets.from_mnist_rot(_load_data(args), config.train_split)
    trainer = Trainer(config, data, checkpoint_path=out, command=command)
    check_writable(out, trainer.payload())  # a full disk shows now, not after an epoch
    what = config.model_name + (f" ({config.model})" if config.is_user_model else "")
    print(
        f"training {what} ({config.protocol} protocol, {_plural(config.epochs, 'epoch')})"
        f" on {trainer.device}; checkpoint {out}",
        file=sys.stderr,
    )
    return _drive(trainer, f"{config.model_name} seed {config.seed}")


def _model_of_run(args: argparse.Namespace) -> None:
    """``--init-from PATH`` without ``--model``: the run's model. A run of a user's own model
    starts from its weights as ``--weights`` would, under its recorded spec, name and size."""
    from gcnn_viewer.training import read_run

    record = read_run(args.init_from)
    if record.user_spec is None:
        args.model = record.name
        return
    args.model, args.weights, args.init_from = record.user_spec, args.init_from, None
    args.name = args.name or record.name
    if args.input_size is None:
        args.input_size = record.model_config["input_size"]


# -- evaluate ----------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from gcnn_viewer.data.files import json_text
    from gcnn_viewer.models.pretrained import load_pretrained
    from gcnn_viewer.training import iter_evaluate, load_checkpoint, resolve_device, to_tensor

    device = resolve_device(args.device)
    if (args.target is None) == (args.model is None):
        raise CliError("evaluate takes one model: NAME_OR_CHECKPOINT or --model SPEC")
    args.target = args.target if args.target is not None else args.model
    target = Path(args.target)
    own = {k: v for k, v in own_model_options(args).items() if v}
    if _is_model_spec(args.target) and not target.exists():  # your own model (issue 22)
        from gcnn_viewer.models.user import load_user_model

        weights = own.pop("weights", (None,))[0]
        name = own.pop("names", (None,))[0]
        model = load_user_model(args.target, weights=weights, name=name, **own)
        source, name, recorded = args.target, model.name, None
        for line in model.skipped_lines():
            print(f"gcnn-viewer: note: {line}", file=sys.stderr)
    elif own:
        raise CliError(
            "--weights, --name, --input-size and --layers go with your own model "
            "(FILE.py:FACTORY or package.module:FACTORY)"
        )
    elif args.target in model_names():  # a model's name means it, whatever files are here
        model, source, name = load_pretrained(args.target), "shipped", args.target
        recorded = None
    elif not target.exists():
        raise CliError(
            f"{args.target}: neither a shipped model ({', '.join(model_names())}) "
            "nor an existing checkpoint file"
        )
    else:
        checkpoint = load_checkpoint(target)
        model, source, name = checkpoint.model, str(args.target), checkpoint.name
        recorded = checkpoint.record.data_spec
    data = _load_data(args, recorded)
    images, labels = data.split(args.split)
    passes = iter_evaluate(
        model.to(device), to_tensor(images, device), torch.from_numpy(labels).to(device)
    )
    # progress on stderr: with --json, stdout stays one JSON object
    with tqdm(
        desc=f"{name}: {args.split} error", unit="batch", dynamic_ncols=True, file=sys.stderr
    ) as bar:
        while True:
            try:
                done, total = next(passes)
            except StopIteration as stop:
                error = stop.value
                break
            bar.total = total
            bar.update(done - bar.n)
    result = {
        "model": name,
        "source": source,
        "split": args.split,
        "n": int(len(labels)),
        "error": error,
        "device": str(device),
        "data_hash": data.content_hash,
    }
    if args.json:
        print(json_text(result))
    else:
        print(f"{name} ({source}): {100 * error:.2f}% error on {len(labels)} {args.split} digits")
    return 0


# -- reproduce ---------------------------------------------------------------------------------
def _write_table(out_dir: Path, models: list[str]) -> None:
    """Write results.json and results.md for the runs in ``out_dir``; print the table."""
    from gcnn_viewer.training.reproduce import markdown_table, write_summary

    print(markdown_table(write_summary(out_dir, models)), end="")
    print(f"written: {out_dir / 'results.json'}, {out_dir / 'results.md'}", file=sys.stderr)


def _refinalise(args: argparse.Namespace, out_dir: Path, data: Any) -> int:
    from gcnn_viewer.training.reproduce import refinalise

    done = 0
    for model, seed, previous, final in refinalise(
        args.models,
        args.seeds,
        out_dir,
        data,
        device=args.device,
        command=args.invocation,
        diagnostics=args.diagnostics,
    ):
        before = (previous or {}).get("test_error")
        was = f"{100 * before:.2f}%" if before is not None else "–"
        print(
            f"{model} seed {seed}: test error {was} -> {100 * final['test_error']:.2f}%",
            file=sys.stderr,
        )
        done += 1
    if not done:
        raise CliError(f"no finished runs of those models and seeds in {out_dir}")
    _write_table(out_dir, list(args.models))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from gcnn_viewer.training import Datasets
    from gcnn_viewer.training.reproduce import reproduce

    _device(args.device)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {out_dir} is a file; reproduce needs a folder for its runs")
    out_dir.mkdir(parents=True, exist_ok=True)  # an OSError here names the folder
    data = Datasets.from_mnist_rot(_load_data(args))
    command = args.invocation
    if args.refinalise:
        return _refinalise(args, out_dir, data)
    if args.epochs is not None:
        print(
            "note: --epochs differs from the paper's; these runs are reported as 'custom', "
            "not 'faithful'",
            file=sys.stderr,
        )
    if args.jobs > 1 or args.ray:
        return _reproduce_many(args, out_dir, data)
    current, phase = None, None
    for model, seed, p in reproduce(
        args.models,
        args.seeds,
        out_dir,
        data,
        device=args.device,
        epochs=args.epochs,
        command=command,
        diagnostics=args.diagnostics,
        threads=args.threads,
    ):
        if (model, seed) != current:
            current, phase = (model, seed), None
            print(f"{model} seed {seed}: {_plural(p.epochs, 'epoch')}", file=sys.stderr)
        if p.kind == "finishing" and p.phase != phase:
            phase = p.phase
            print(f"  {p.phase} ({_plural(p.phase_total, 'batch')})", file=sys.stderr)
        if p.kind == "epoch" and (p.epoch % 10 == 0 or p.epoch == p.epochs):
            print(
                f"  epoch {p.epoch}/{p.epochs} loss {p.loss:.4f} train error "
                f"{100 * p.error:.2f}% {p.images_per_s:.0f} img/s",
                file=sys.stderr,
            )
        if p.kind == "done":
            print(f"  {model} seed {seed}: test error {100 * p.test_error:.2f}%", file=sys.stderr)
    _write_table(out_dir, list(args.models))
    return 0


def _reproduce_many(args: argparse.Namespace, out_dir: Path, data: Any) -> int:
    """``--jobs N`` (processes here) or ``--ray ADDRESS`` (Ray tasks): see docs/training.md,
    "Many runs at once"."""
    from gcnn_viewer.training import parallel
    from gcnn_viewer.training.many_cli import drive_many
    from gcnn_viewer.training.reproduce import RunTask, run_path

    runs = [
        RunTask(m, s, str(run_path(out_dir, m, s)), args.epochs, args.device, args.threads)
        for m in args.models
        for s in args.seeds
    ]
    worker = parallel.RunWorker(args.invocation, args.diagnostics)
    connected = False
    if args.ray:
        connected = parallel.connect_ray(args.ray)
    try:
        if args.ray:
            backend = parallel.RayTasks(
                data, device=args.device, runs_per_gpu=args.runs_per_gpu, retries=args.retries
            )
            slots = len(runs)
        else:
            devices = parallel.run_devices(args.device, args.jobs, args.runs_per_gpu)
            cpu = not devices[0].startswith("cuda")
            if cpu and len(devices) * args.threads > parallel.default_jobs():
                print(
                    f"note: {len(devices)} runs × {args.threads} threads is more than this "
                    f"machine's {parallel.default_jobs()} cores; they will share them",
                    file=sys.stderr,
                )
            backend = parallel.LocalProcesses(data, devices, retries=args.retries)
            slots = len(devices)
        many = parallel.ManyRuns(runs, backend, worker=worker)
        return drive_many(many, data, min(slots, len(runs)), out_dir, list(args.models))
    finally:
        if connected:
            parallel.disconnect_ray()


# -- parser ------------------------------------------------------------------------------------
def _add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "MNIST-rot variant (default: the standard set; a checkpoint's own when resuming or "
        "evaluating it)"
    )
    group.add_argument(
        "--supersample",
        type=int_in(1, MAX_SUPERSAMPLE),
        metavar="N",
        help="rotate each digit at N×28 px (bicubic up, box filter down); 1 (the standard) "
        "rotates the 28 px digit directly",
    )
    group.add_argument(
        "--interpolation",
        choices=("bilinear", "bicubic"),
        help="the rotation's resampling filter (standard: bicubic)",
    )


def _option_type(option: TrainOption):
    """The argparse type that checks an option's range as TrainConfig does."""
    if option.kind is int:
        return int_in(int(option.low), None if option.high is None else int(option.high))
    if option.kind is float:
        return number(positive=option.low_exclusive)
    return str


class _ModelChoices(tuple):
    """``train --model``'s choices: the shipped models (as listed), and any model spec."""

    def __contains__(self, value: object) -> bool:
        return tuple.__contains__(self, value) or (isinstance(value, str) and _is_model_spec(value))


def _is_model_spec(text: str) -> bool:
    from gcnn_viewer.models.user import is_model_spec

    return is_model_spec(text)


def _model_argument(text: str) -> str:
    """An argparse type: a shipped model's name or ``FILE.py:FACTORY`` /
    ``package.module:FACTORY`` (one line naming both kinds otherwise)."""
    if text in model_names() or _is_model_spec(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is neither a shipped model ({', '.join(model_names())}) nor a model of your "
        "own, FILE.py:FACTORY or package.module:FACTORY"
    )


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`TrainConfig` field, with its default, choices, range and help
    (``--model`` has no default: ``--resume`` and ``--init-from`` name the model too)."""
    for option in train_options():
        kwargs: dict[str, Any] = {"dest": option.name, "help": option.help}
        if option.kind is bool:
            kwargs["action"] = "store_false" if option.default else "store_true"
        else:
            kwargs["default"] = None if option.name == "model" else option.default
            if option.name == "model":  # a shipped model, or FILE.py:FACTORY
                kwargs["choices"] = _ModelChoices(option.choices)
                kwargs["type"] = _model_argument
            elif option.choices:
                kwargs["choices"] = option.choices
            else:
                kwargs["type"] = _option_type(option)
            if option.metavar:
                kwargs["metavar"] = option.metavar
        parser.add_argument(option.flag, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gcnn-viewer",
        description="See and teach group-equivariant CNNs (Cohen & Welling, ICML 2016). "
        "Without a command, launches the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"gcnn-viewer {__version__}")
    parser.add_argument(
        "--install-desktop",
        action="store_true",
        help="add gcnn-viewer to this user's application menu (Linux) and exit",
    )
    parser.add_argument(
        "--uninstall-desktop", action="store_true", help="remove it from the menu and exit"
    )
    _add_app_model_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for add in (_data_parser, _train_parser, _evaluate_parser, _reproduce_parser):
        add(sub)
    from gcnn_viewer.export.cli import add_export_parser

    add_export_parser(sub)
    from gcnn_viewer.analysis.cli import add_analyse_parser

    add_analyse_parser(sub)
    return parser


def _add_app_model_options(parser: argparse.ArgumentParser) -> None:
    """The app's models: ``gcnn-viewer --model SPEC [SPEC2]`` (docs/own-model.md)."""
    app = parser.add_argument_group("the app's models (without a command)")
    app.add_argument(
        "--model",
        dest="app_models",
        nargs="+",
        metavar="MODEL",
        help="open the app with MODEL in the left panel (and a second in the right): "
        f"{', '.join(model_names())}, a checkpoint path, or your own model as "
        "FILE.py:FACTORY or package.module:FACTORY (this runs that code)",
    )
    app.add_argument(
        "--weights",
        dest="app_weights",
        nargs="+",
        metavar="FILE",
        help="weights for your own model(s), one per model in --model's order: a state_dict "
        "or a gcnn-viewer checkpoint (read with weights_only=True)",
    )
    app.add_argument(
        "--name",
        dest="app_names",
        nargs="+",
        metavar="NAME",
        help="the label of your own model(s) in the app, one per model (default: the "
        "factory's name)",
    )
    app.add_argument(
        "--input-size",
        dest="app_input_size",
        type=int_in(8, 512),
        metavar="N",
        help="your model takes [B, 1, N, N] pixels (default: its input_size attribute, else 28)",
    )
    app.add_argument(
        "--layers",
        dest="app_layers",
        nargs="+",
        metavar="PATH",
        help="the modules whose outputs are shown, by module path (default: its children)",
    )


def _app_models(args: argparse.Namespace):
    """``--model`` and its options as the app's :class:`~gcnn_viewer.gui.app.AppModels`
    (None: the last session's models)."""
    from gcnn_viewer.gui.app import AppModels

    given = [
        flag
        for flag, value in (
            ("--weights", args.app_weights),
            ("--name", args.app_names),
            ("--input-size", args.app_input_size),
            ("--layers", args.app_layers),
        )
        if value is not None
    ]
    if not args.app_models:
        if given:
            raise CliError(f"{given[0]} goes with --model (the model it applies to)")
        return None
    return AppModels(
        tuple(args.app_models),
        tuple(args.app_weights or ()),
        tuple(args.app_names or ()),
        args.app_input_size,
        tuple(args.app_layers) if args.app_layers else None,
    )


def _is_model_spec(text: str) -> bool:
    from gcnn_viewer.models.user import is_model_spec

    return is_model_spec(text)


def _data_parser(sub) -> None:
    data = sub.add_parser("data", help="fetch MNIST and build MNIST-rot, or show the cache")
    data_sub = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = data_sub.add_parser("fetch", help="fetch and verify MNIST, generate MNIST-rot")
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="take the four MNIST IDX files (raw or .gz) from DIR",
    )
    fetch.add_argument("--no-generate", action="store_true", help="only fetch MNIST")
    _add_data_options(fetch)
    info = data_sub.add_parser("info", help="what the data cache holds")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    data.set_defaults(func=cmd_data)


def _train_parser(sub) -> None:
    train = sub.add_parser("train", help="train a model (faithful paper protocol by default)")
    _add_train_options(train)
    train.add_argument("--out", metavar="PATH", help="checkpoint (default runs/MODEL-seedS.pt)")
    train.add_argument("--resume", metavar="PATH", help="continue a saved run exactly")
    train.add_argument(
        "--no-recalibrate",
        dest="bn_recalibration",
        action="store_const",
        const="off",
        help="the same as --recalibrate off",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out file (also when resuming into another --out)",
    )
    _add_data_options(train)
    train.set_defaults(func=cmd_train)


def _evaluate_parser(sub) -> None:
    evaluate = sub.add_parser(
        "evaluate", help="test error of a shipped model, a checkpoint or your own model"
    )
    evaluate.add_argument(
        "target",
        nargs="?",
        metavar="NAME_OR_CHECKPOINT",
        help=model_help("the model"),
    )
    evaluate.add_argument("--model", metavar="M", help="the model, as NAME_OR_CHECKPOINT")
    add_own_model_options(evaluate, several=False)
    evaluate.add_argument("--split", choices=("test", "valid"), default="test")
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    _add_data_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)


def _reproduce_parser(sub) -> None:
    rep = sub.add_parser("reproduce", help="Table 1: faithful protocol, several models and seeds")
    rep.add_argument("--models", nargs="+", choices=model_names(), default=list(table_models()))
    rep.add_argument("--seeds", nargs="+", type=int_in(0, MAX_SEED), default=[0, 1, 2, 3, 4])
    rep.add_argument("--out", default="runs/reproduce", metavar="DIR")
    rep.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")
    rep.add_argument("--epochs", type=int_in(1), help="override (the runs are then not 'faithful')")
    rep.add_argument(
        "--no-diagnostics",
        dest="diagnostics",
        action="store_false",
        help="skip the two diagnostic test passes (BN running averages, eval-mode BN pass)",
    )
    rep.add_argument(
        "--refinalise",
        action="store_true",
        help="redo only the final evaluation of finished runs with this version (no training)",
    )
    _add_many_options(rep)
    _add_data_options(rep)
    rep.set_defaults(func=cmd_reproduce)


def _add_many_options(rep: argparse.ArgumentParser) -> None:
    """Many runs at once (docs/training.md, "Many runs at once")."""
    many = rep.add_argument_group("many runs at once")
    many.add_argument(
        "--threads",
        type=int_in(1, 1024),
        default=1,
        metavar="N",
        help="torch CPU threads of each new run (default 1): part of its recipe, recorded in "
        "its checkpoint, so a run gives the same weights whatever runs beside it",
    )
    many.add_argument(
        "--jobs",
        type=int_in(1, 1024),
        default=1,
        metavar="N",
        help="runs at once, each in its own process (default 1: one after another); "
        "with --threads T, N×T should not exceed the cores",
    )
    many.add_argument(
        "--runs-per-gpu",
        type=int_in(1, 64),
        default=4,
        metavar="K",
        help="runs sharing one GPU, with --jobs or --ray (default 4)",
    )
    many.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="each run a Ray task: auto (the cluster `ray start` runs here, the default), "
        "HOST:PORT, or local (a cluster for this command); --out must be on a filesystem "
        "every node sees (needs gcnn-viewer[ray])",
    )
    many.add_argument(
        "--retries",
        type=int_in(0, 100),
        default=2,
        metavar="N",
        help="a run whose worker dies starts again from its last checkpoint up to N times "
        "(default 2)",
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command line and return its exit status. Any failure ends in one line on
    stderr and a non-zero status, including output that cannot be written (a full disk, a
    closed stdout) and warnings of libraries, which are kept off stderr (matplotlib's about
    its cache folder)."""
    closed = sys.stdout is None
    if closed:  # the next file opened would get fd 1: torch or a C library would write in it
        _stdout_to_devnull()
    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # e.g. "created a temporary cache"
    real = sys.stdout
    sys.stdout = stream = _Stdout(real)
    try:
        return _flush_stdout(stream.release(_run(argv, stdout_closed=closed)))
    finally:
        if isinstance(sys.stdout, _Stdout):
            sys.stdout = real


class _Stdout:
    """``sys.stdout`` while a command runs, remembering the first error writing to it (print
    may raise it in the middle of a command, and argparse swallows it). With ``held`` a list,
    what is printed is kept until :meth:`release`: a ``--json`` command prints its object only
    once everything else (writing ``--out``) has succeeded."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.error: OSError | None = None
        self.held: list[str] | None = None
        # a terminal that cannot show "°" or "×" (PYTHONIOENCODING=ascii, a Latin-1 locale)
        # gets \xb0, as stderr always does, instead of a UnicodeEncodeError in the middle
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")

    def release(self, status: int) -> int:
        """Print what was held when the command succeeded (``status`` 0); else drop it."""
        held, self.held = self.held, None
        if held and status == 0:
            with contextlib.suppress(OSError):  # recorded in self.error
                self.write("".join(held))
        return status

    def write(self, text: str) -> int:
        if self.held is not None:
            self.held.append(text)
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self.error = self.error or exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _stdout_to_devnull() -> None:
    """Point fd 1 (and ``sys.stdout``) at the null device: what is still buffered or printed
    from now on goes nowhere, without a second error when Python flushes at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = os.open(os.devnull, os.O_WRONLY)
        if fd != 1:
            os.dup2(fd, 1)
            os.close(fd)
        if sys.stdout is None:
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115  fd 1 lives as long as we do


def _stdout_error(exc: OSError | None = None) -> int:
    """One line: the standard output cannot take what the command prints."""
    from gcnn_viewer.errors import describe_os_error

    reason = "it is closed" if exc is None else describe_os_error(exc)
    _stdout_to_devnull()
    print(f"gcnn-viewer: error: cannot write to the standard output: {reason}", file=sys.stderr)
    return 2


def _stdout_broken() -> OSError | None:
    """The first error writing or flushing stdout, if any (None: stdout is fine)."""
    stream = sys.stdout
    try:
        if stream is not None:
            stream.flush()
    except OSError as exc:
        return exc
    return stream.error if isinstance(stream, _Stdout) else None


def _flush_stdout(status: int) -> int:
    """Push out what was printed: a stdout that cannot take it (``> /dev/full``) is one line
    and a non-zero status, never the interpreter's complaint at exit; a reader that left
    (``| head -1``) is fine, as Python's documented recipe has it."""
    exc = _stdout_broken()
    if exc is None:
        return status
    if isinstance(exc, BrokenPipeError):
        _stdout_to_devnull()
        return status or 141
    if status:  # the command failed already and said why in its own line
        _stdout_to_devnull()
        return status
    return _stdout_error(exc)


# what to ask for less of when memory runs out: only options the command has
_MEMORY_OPTIONS = (
    ("batch_size", "a smaller --batch-size"),
    ("step", "a larger --step"),
    ("angles", "fewer --angles"),
    ("frames", "fewer --frames"),
    ("bins", "fewer --bins"),
    ("layers", "fewer --layers"),
    ("channels", "fewer --channels"),
    ("dpi", "a smaller --dpi"),
)


def _memory_hint(args: argparse.Namespace, device: bool = False) -> str:
    """``try a smaller --batch-size or --device cpu``, naming only the command's options."""
    given = vars(args)
    hints = [hint for name, hint in _MEMORY_OPTIONS if name in given]
    if "device" in given:
        hints.append("--device cpu" if device else "a --device with more memory")
    if not device:
        hints.append("a machine with more memory")
    return "try " + (", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0])


def _run(argv: list[str] | None, stdout_closed: bool = False) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (one line, status 2)
        code = exc.code if isinstance(exc.code, int) else 2
        return _stdout_error() if stdout_closed and code == 0 else code  # (else: flushed)
    args.invocation = ["gcnn-viewer", *(sys.argv[1:] if argv is None else argv)]
    if stdout_closed and (args.command is not None or args.install_desktop):
        return _stdout_error()  # refused before any work: what it would print would be lost
    _note_shadowed_files(args)
    if getattr(args, "json", False) and isinstance(sys.stdout, _Stdout):
        sys.stdout.held = []  # one complete object, printed only when the command succeeds
    try:
        if args.install_desktop or args.uninstall_desktop:
            from gcnn_viewer.desktop import main as desktop_main

            return desktop_main(["--uninstall"] if args.uninstall_desktop else [])
        if args.command is None:
            from gcnn_viewer.gui.app import run_app  # Qt only when the app is wanted

            return run_app(models=_app_models(args))
        return args.func(args)
    except GcnnViewerError as exc:  # what a user can fix: one line
        print(f"gcnn-viewer: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gcnn-viewer data info | head -1`: the reader left, fine
        # Python's documented recipe: no second BrokenPipeError when stdout is flushed at exit
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except MemoryError:
        print(f"gcnn-viewer: error: out of memory; {_memory_hint(args)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:
            broken = _stdout_broken()
            if broken is not None:  # printing failed: a full disk or a closed stdout
                return _stdout_error(broken)
            return _report_bug()  # not about a file the user named: a bug
        from gcnn_viewer.errors import describe_os_error

        name = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        print(f"gcnn-viewer: error: {name}: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gcnn-viewer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  anything else is a bug, never dressed up as a user error
        if type(exc).__name__ == "OutOfMemoryError":  # torch's, for CUDA (a RuntimeError)
            print(
                f"gcnn-viewer: error: out of memory on the device ({_one_line(exc)[:120]}); "
                f"{_memory_hint(args, device=True)}",
                file=sys.stderr,
            )
            return 2
        return _report_bug()


def _note_shadowed_files(args: argparse.Namespace) -> None:
    """A model argument that is a model's name (``p4cnn``) always means that model, even
    when a file of that name is in the current folder (``./p4cnn`` means the file): say so
    when there is such a file, so nobody wonders which one was used."""
    if args.command in (None, "train", "reproduce", "data"):  # names only, never files there
        return
    given = getattr(args, "target", None) or getattr(args, "model", None) or []
    for text in [given] if isinstance(given, str) else given:
        if text in model_names() and Path(text).exists():
            print(
                f"gcnn-viewer: note: {text} means the model {text}, not the file {text} in this "
                f"folder; for the file, write ./{text}",
                file=sys.stderr,
            )


def _one_line(exc: BaseException) -> str:
    """The whole message on one line (a user error's message may wrap: keep all of it)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _report_bug() -> int:
    """A real bug: its traceback, then one line asking for a report."""
    traceback.print_exc()
    print(
        f"gcnn-viewer: internal error (a bug in gcnn-viewer {__version__}, not in your input); "
        "please report this with the traceback above",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``gcnn-viewer [SUBCOMMAND]``; with no subcommand it launches the app.

Every error a user can cause (bad path, corrupt or foreign checkpoint, missing data) ends with
one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from gcnn_viewer import __version__

MODEL_CHOICES = ("z2cnn", "p4cnn", "p4cnn_rotpool", "p4mcnn")
TABLE_MODELS = ("z2cnn", "p4cnn_rotpool", "p4cnn")


class CliError(Exception):
    """An error the user can fix; printed as one line, exit status 2."""


def _progress(message: str) -> None:
    print(message, file=sys.stderr)


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


def _recorded_data(record: dict[str, Any]) -> dict[str, Any] | None:
    """The MNIST-rot spec a checkpoint says its run used."""
    return (record.get("data") or {}).get("spec")


# -- data --------------------------------------------------------------------------------
def cmd_data(args: argparse.Namespace) -> int:
    from gcnn_viewer.data import data_info, fetch_mnist

    if args.action == "fetch":
        directory = fetch_mnist(Path(args.source) if args.source else None, progress=_progress)
        print(f"MNIST verified in {directory}")
        if not args.no_generate:
            data = _load_data(args)
            print(f"MNIST-rot ready: {data.path} (content hash {data.content_hash[:16]}…)")
        return 0
    info = data_info()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
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
def _drive(trainer, label: str) -> int:
    """Run a trainer with a progress bar; the first Ctrl-C saves a checkpoint and stops."""
    from tqdm import tqdm

    stop = {"asked": False}

    def ask_to_stop(signum, frame):  # noqa: ARG001
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True

    previous = signal.signal(signal.SIGINT, ask_to_stop)
    bar = tqdm(
        total=trainer.steps_total,
        initial=trainer.global_step,
        desc=label,
        unit="step",
        dynamic_ncols=True,
        file=sys.stderr,
    )
    try:
        for p in trainer.run():
            bar.update(p.step - bar.n)
            postfix = {
                "epoch": f"{p.epoch}/{p.epochs}",
                "loss": f"{p.loss:.3f}",
                "err": f"{100 * p.error:.2f}%",
                "img/s": f"{p.images_per_s:.0f}",
            }
            if p.valid_error is not None:
                postfix["valid"] = f"{100 * p.valid_error:.2f}%"
            bar.set_postfix(postfix, refresh=False)
            if p.kind == "epoch":
                valid = "" if p.valid_error is None else f", valid error {100 * p.valid_error:.2f}%"
                bar.write(
                    f"epoch {p.epoch}/{p.epochs}: loss {p.loss:.4f}, train error "
                    f"{100 * p.error:.2f}%{valid}, {p.images_per_s:.0f} img/s",
                    file=sys.stderr,
                )
            if p.kind == "done":
                bar.close()
                if p.test_error is not None:
                    print(
                        f"{label}: test error {100 * p.test_error:.2f}% "
                        f"({trainer.final.get('n_test')} digits), {p.elapsed / 60:.1f} min training"
                    )
                print(f"checkpoint: {p.checkpoint}")
                return 0
            if stop["asked"]:
                bar.close()
                path = trainer.save()
                print(
                    f"stopped at step {trainer.global_step}; resume with: "
                    f"gcnn-viewer train --resume {path}",
                    file=sys.stderr,
                )
                return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from gcnn_viewer.training import Datasets, TrainConfig, Trainer

    command = args.invocation
    if args.resume:
        from gcnn_viewer.training import read_checkpoint

        data = Datasets.from_mnist_rot(
            _load_data(args, _recorded_data(read_checkpoint(args.resume)))
        )
        trainer = Trainer.resume(
            args.resume, data, device=args.device, command=command, checkpoint_path=args.out
        )
        if trainer.complete:
            raise CliError(f"{args.resume}: this run is already complete")
        label = f"{trainer.config.model} seed {trainer.config.seed}"
        return _drive(trainer, label)
    if args.init_from and not args.model:
        from gcnn_viewer.training import read_checkpoint

        args.model = read_checkpoint(args.init_from)["model_config"]["name"]
    if not args.model:
        raise CliError("train needs --model NAME (or --resume PATH, or --init-from PATH)")
    try:
        config = TrainConfig(
            model=args.model,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            lr_schedule=args.lr_schedule,
            weight_decay=args.weight_decay,
            seed=args.seed,
            augment=args.augment,
            train_split=args.train_split,
            bn_recalibration=args.recalibrate,
            eval_every=args.eval_every,
            device=args.device,
            init_from=args.init_from,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out) if args.out else Path("runs") / f"{config.model}-seed{config.seed}.pt"
    if out.exists() and not args.overwrite:
        raise CliError(f"{out} exists: resume it with --resume {out}, or pass --overwrite")
    data = Datasets.from_mnist_rot(_load_data(args), config.train_split)
    trainer = Trainer(config, data, checkpoint_path=out, command=command)
    print(
        f"training {config.model} ({config.protocol} protocol, {config.epochs} epochs) on "
        f"{trainer.device}; checkpoint {out}",
        file=sys.stderr,
    )
    return _drive(trainer, f"{config.model} seed {config.seed}")


# -- evaluate ----------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    import torch

    from gcnn_viewer.models import MODEL_NAMES, load_pretrained
    from gcnn_viewer.training import evaluate, load_checkpoint, resolve_device, to_tensor

    device = resolve_device(args.device)
    if args.target in MODEL_NAMES and not Path(args.target).exists():
        model, source, name = load_pretrained(args.target), "shipped", args.target
        recorded = None
    else:
        checkpoint = load_checkpoint(args.target)
        model, source, name = checkpoint.model, str(args.target), checkpoint.name
        recorded = _recorded_data(checkpoint.meta)
    data = _load_data(args, recorded)
    images, labels = data.split(args.split)
    error = evaluate(
        model.to(device), to_tensor(images, device), torch.from_numpy(labels).to(device)
    )
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
        print(json.dumps(result))
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
        args.models, args.seeds, out_dir, data, device=args.device, command=args.invocation
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

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
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
    current = None
    for model, seed, p in reproduce(
        args.models,
        args.seeds,
        out_dir,
        data,
        device=args.device,
        epochs=args.epochs,
        command=command,
    ):
        if (model, seed) != current:
            current = (model, seed)
            print(f"{model} seed {seed}: {p.epochs} epochs", file=sys.stderr)
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


# -- parser ------------------------------------------------------------------------------------
def _add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "MNIST-rot variant (default: the standard set; a checkpoint's own when resuming or "
        "evaluating it)"
    )
    group.add_argument(
        "--supersample",
        type=int,
        metavar="N",
        help="rotate each digit at N×28 px (bicubic up, box filter down); 1 (the standard) "
        "rotates the 28 px digit directly",
    )
    group.add_argument(
        "--interpolation",
        choices=("bilinear", "bicubic"),
        help="the rotation's resampling filter (standard: bicubic)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gcnn-viewer",
        description="See and teach group-equivariant CNNs (Cohen & Welling, ICML 2016). "
        "Without a command, launches the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"gcnn-viewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    train = sub.add_parser("train", help="train a model (faithful paper protocol by default)")
    train.add_argument("--model", choices=MODEL_CHOICES)
    train.add_argument("--epochs", type=int, help="default: the paper's (300 z2cnn, else 100)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--augment",
        choices=("paper", "none", "rotation"),
        default="paper",
        help="paper (default, faithful): the original code's ±π-degree jitter; "
        "rotation: a random angle over the full circle",
    )
    train.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N")
    train.add_argument("--out", metavar="PATH", help="checkpoint (default runs/MODEL-seedS.pt)")
    train.add_argument("--resume", metavar="PATH", help="continue a saved run exactly")
    train.add_argument(
        "--init-from",
        metavar="PATH",
        help="fine-tune: start from this checkpoint's weights (a new run, never 'faithful')",
    )
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument(
        "--train-split",
        choices=("trainval", "train"),
        default="trainval",
        help="trainval: all 12k digits (paper); train: 10k, keeping valid unseen",
    )
    train.add_argument(
        "--eval-every",
        type=int,
        default=1,
        metavar="N",
        help="evaluate the valid split every N epochs (0: never)",
    )
    train.add_argument(
        "--recalibrate",
        choices=("paper", "eval", "off"),
        default="paper",
        help="BN population statistics before the final test: paper (default) recomputes them "
        "as the paper's code, in training mode with dropout and augmentation; eval with the "
        "model as at evaluation; off keeps the running averages",
    )
    train.add_argument(
        "--no-recalibrate",
        dest="recalibrate",
        action="store_const",
        const="off",
        help="the same as --recalibrate off",
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    _add_data_options(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="test error of a shipped model or a checkpoint")
    evaluate.add_argument("target", metavar="NAME_OR_CHECKPOINT")
    evaluate.add_argument("--split", choices=("test", "valid"), default="test")
    evaluate.add_argument("--device", default="auto")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    _add_data_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    rep = sub.add_parser("reproduce", help="Table 1: faithful protocol, several models and seeds")
    rep.add_argument("--models", nargs="+", choices=MODEL_CHOICES, default=list(TABLE_MODELS))
    rep.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    rep.add_argument("--out", default="runs/reproduce", metavar="DIR")
    rep.add_argument("--device", default="auto")
    rep.add_argument("--epochs", type=int, help="override (the runs are then not 'faithful')")
    rep.add_argument(
        "--refinalise",
        action="store_true",
        help="redo only the final evaluation of finished runs with this version (no training)",
    )
    _add_data_options(rep)
    rep.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.invocation = ["gcnn-viewer", *(sys.argv[1:] if argv is None else argv)]
    from gcnn_viewer.data import DataError
    from gcnn_viewer.training.checkpoint import CheckpointError

    try:
        if args.command is None:
            from gcnn_viewer.gui.app import run_app  # Qt only when the app is wanted

            return run_app()
        return args.func(args)
    except (CliError, DataError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"gcnn-viewer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gcnn-viewer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Table 1 of Cohen & Welling (2016), reproduced: the faithful protocol for several models and
seeds, resumable, summarised as JSON and Markdown beside the paper's numbers."""

from __future__ import annotations

import platform
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gcnn_viewer.data.files import claim_output, json_text, write_text
from gcnn_viewer.errors import CheckpointError
from gcnn_viewer.models.registry import model_spec
from gcnn_viewer.models.train_config import TrainConfig
from gcnn_viewer.training.checkpoint import read_run
from gcnn_viewer.training.loop import Datasets, Progress, Trainer, ran_on


def run_path(out_dir: Path, model: str, seed: int) -> Path:
    return out_dir / f"{model}-seed{seed}.pt"


def reproduce(
    models: list[str],
    seeds: list[int],
    out_dir: Path,
    data: Datasets,
    *,
    device: str = "auto",
    epochs: int | None = None,
    command: list[str] | None = None,
    diagnostics: bool = True,
    threads: int = 1,
) -> Iterator[tuple[str, int, Progress]]:
    """Train every (model, seed) not yet finished, one after another in this process; an
    interrupted run resumes from its last checkpoint. Yields ``(model, seed, progress)``.
    ``diagnostics`` (on here, unlike ``train``) records the test error with BN's running
    averages and with the eval-mode BN pass beside the reported one, the columns Table 1
    shows. ``threads``: each new run's torch threads (see :class:`RunTask`); many runs at
    once are :mod:`gcnn_viewer.training.parallel`'s."""
    for model in models:
        for seed in seeds:
            run = RunTask(model, seed, str(run_path(out_dir, model, seed)), epochs, device, threads)
            # claimed first: two reproduce runs in one folder never train the same run twice
            with claim_output(run.path):
                trainer = open_run(run, data, command=command, diagnostics=diagnostics)
                if trainer is None:
                    continue
                for progress in trainer.run():
                    yield model, seed, progress


@dataclass(frozen=True)
class RunTask:
    """One run of a reproduction: what to train and where its checkpoint lives. ``threads``
    (torch's CPU threads) is part of the run's recipe, as its seed is, and is recorded in
    the checkpoint; a resumed run keeps the one it was started with."""

    model: str
    seed: int
    path: str  # the checkpoint
    epochs: int | None = None  # None: the paper's
    device: str = "auto"
    threads: int = 1

    @property
    def label(self) -> str:
        return f"{self.model} seed {self.seed}"


def open_run(
    run: RunTask, data: Datasets, *, command: list[str] | None = None, diagnostics: bool = True
) -> Trainer | None:
    """The trainer of ``run``: resumed from its checkpoint when there is one, else new;
    None when the checkpoint holds a finished run. The caller holds the claim on the path."""
    path = Path(run.path)
    if not path.exists():
        config = TrainConfig(
            model=run.model,
            seed=run.seed,
            epochs=run.epochs,
            device=run.device,
            diagnostics=diagnostics,
            threads=run.threads,
        )
        return Trainer(config, data, checkpoint_path=path, command=command)
    record = read_run(path)
    if record.complete and record.train_config is None:
        # it would neither be trained (that replaces the file) nor be in the table
        raise CheckpointError(
            f"{path}: train_config is missing: not a training run; move it "
            f"away to train {run.label} here"
        )
    if record.complete:
        return None
    trainer = Trainer.resume(path, data, device=run.device, command=command)
    trainer.config.diagnostics = diagnostics
    return trainer


def refinalise(
    models: list[str],
    seeds: list[int],
    out_dir: Path,
    data: Datasets,
    *,
    device: str = "auto",
    command: list[str] | None = None,
    diagnostics: bool = True,
) -> Iterator[tuple[str, int, dict[str, Any] | None, dict[str, Any]]]:
    """Redo the final evaluation of every finished run with the current code, without
    retraining; a run recorded as faithful is evaluated as the faithful protocol now defines
    it (its BN recalibration). Yields ``(model, seed, previous final, new final)``."""
    for model in models:
        for seed in seeds:
            path = run_path(out_dir, model, seed)
            record = read_run(path) if path.exists() else None
            if record is None or not record.complete:
                continue
            trainer = Trainer.resume(path, data, device=device)
            trainer.config.diagnostics = diagnostics
            if record.protocol == "faithful":
                faithful = TrainConfig(model=model)
                trainer.config.bn_recalibration = faithful.bn_recalibration
            previous = trainer.final
            trainer.refinalise(command)
            assert trainer.final is not None
            yield model, seed, previous, trainer.final


def data_label(spec: dict[str, Any] | None) -> str:
    """How a table names a run's MNIST-rot: "" for the standard set, else its variant."""
    if not spec:
        return ""
    supersample, interpolation = spec.get("supersample", 1), spec.get("interpolation", "bicubic")
    if (supersample, interpolation) == (1, "bicubic"):
        return ""
    at = f" at {supersample}× resolution" if supersample > 1 else ""
    return f"MNIST-rot, {interpolation} rotation{at}"


def summarise(out_dir: Path, models: list[str] | None = None) -> dict[str, Any]:
    """Collect every finished run in ``out_dir`` into a JSON-able summary: a row per model
    and protocol, ``models`` first, then any other model the folder holds runs of (a table
    never drops a finished run because this command named fewer models). Checkpoints it
    cannot count (unfinished, unreadable, not a training run, no test error) are listed
    in ``left_out`` with the reason, and the Markdown table says so."""
    runs: list[dict[str, Any]] = []
    left_out: list[dict[str, str]] = []
    for path in sorted(out_dir.glob("*-seed*.pt")):
        run = _finished_run(path)
        if "reason" in run:
            left_out.append(run)
        else:
            runs.append(run)
    rows = []
    names = list(dict.fromkeys([*(models or []), *(r["model"] for r in runs)]))
    variants = list(dict.fromkeys(r["data"] for r in runs))  # "" (the standard set) and others
    for name in names:
        for protocol, data in ((p, d) for p in ("faithful", "custom") for d in variants):
            group = [
                r
                for r in runs
                if r["model"] == name and r["protocol"] == protocol and r["data"] == data
            ]
            row = _table_row(name, protocol, data, group)
            if row is not None:
                rows.append(row)
    return {
        "rows": rows,
        "runs": runs,
        "left_out": left_out,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
    }


def _finished_run(path: Path) -> dict[str, Any]:
    """What the summary records of one checkpoint, or ``{"checkpoint", "reason"}`` when it
    cannot count."""
    try:
        record = read_run(path)  # every field validated
    except CheckpointError as exc:
        return {"checkpoint": path.name, "reason": str(exc)}
    if not record.complete:
        return {"checkpoint": path.name, "reason": "not finished"}
    config = record.train_config
    if config is None:  # e.g. weights saved under a run's name
        return {"checkpoint": path.name, "reason": "not a training run"}
    final = record.final
    if final.get("test_error") is None:
        return {"checkpoint": path.name, "reason": "no test error recorded"}
    where = ran_on(record)[-1:] or [{}]  # the session that finished it
    return {
        "model": record.name,
        "seed": config.seed,
        "epochs": config.epochs,
        "protocol": record.protocol or config.protocol,
        "test_error": final.get("test_error"),
        "bn_recalibration": final.get("bn_recalibration"),
        "test_error_eval_recalibration": final.get("test_error_eval_recalibration"),
        "n_test": final.get("n_test"),
        "train_seconds": final.get("elapsed"),
        "data_hash": record.content_hash,
        "data": data_label(record.data_spec),
        "checkpoint": path.name,
        "versions": record.versions,
        "threads": config.threads or None,  # 0: an older run, before threads were recorded
        "host": where[0].get("host"),
        "device": where[0].get("device"),
    }


def _table_row(name: str, protocol: str, data: str, group: list[dict]) -> dict[str, Any] | None:
    """One row of the table: the runs of one model, protocol and data set (None: none)."""
    errors = [100 * r["test_error"] for r in group if r["test_error"] is not None]
    if not errors:
        return None
    # the same runs with BN recalibrated in eval mode (dropout off, no augmentation)
    eval_recal = [
        100 * r["test_error_eval_recalibration"]
        for r in group
        if r["test_error_eval_recalibration"] is not None
    ]
    return {
        "model": name,
        "protocol": protocol,
        "data": data,
        "epochs": sorted({r["epochs"] for r in group}),
        "seeds": [r["seed"] for r in group],
        "mean": statistics.fmean(errors),
        "std": statistics.stdev(errors) if len(errors) > 1 else 0.0,
        "errors": errors,
        "mean_eval_recalibration": (
            statistics.fmean(eval_recal) if len(eval_recal) == len(errors) else None
        ),
        "paper": model_spec(name).paper_error,
        "poster": model_spec(name).poster_error,
        "train_seconds": sum(r["train_seconds"] or 0 for r in group),
    }


def markdown_table(summary: dict[str, Any]) -> str:
    lines = [
        "| model | protocol | epochs | seeds | test error % (mean ± std) | per seed | paper | "
        "seed poster | mean, BN recalibrated in eval mode |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        per_seed = ", ".join(f"{e:.2f}" for e in row["errors"])
        paper = f"{row['paper']:.2f}" if row["paper"] is not None else "–"
        poster = f"{row['poster']:.2f}" if row["poster"] is not None else "–"
        protocol = f"{row['protocol']}, {row['data']}" if row.get("data") else row["protocol"]
        eval_recal = row.get("mean_eval_recalibration")
        eval_recal = f"{eval_recal:.2f}" if eval_recal is not None else "–"
        lines.append(
            f"| {model_spec(row['model']).title} | {protocol} | "
            f"{'/'.join(map(str, row['epochs']))} | {len(row['seeds'])} | "
            f"{row['mean']:.2f} ± {row['std']:.2f} | {per_seed} | {paper} | {poster} | "
            f"{eval_recal} |"
        )
    left_out = summary.get("left_out") or []
    if left_out:
        lines.append("")
        lines.append(f"Left out of the table ({len(left_out)}):")
        lines += [f"- {e['checkpoint']}: {e['reason']}" for e in left_out]
    return "\n".join(lines) + "\n"


def write_summary(out_dir: Path, models: list[str] | None = None) -> dict[str, Any]:
    """Write ``results.json`` and ``results.md`` in ``out_dir``; return the summary."""
    summary = summarise(out_dir, models)
    write_text(out_dir / "results.json", json_text(summary, indent=2) + "\n")
    write_text(out_dir / "results.md", markdown_table(summary))
    return summary

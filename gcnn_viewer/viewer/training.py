"""Training from the app, Qt-free: a session around :meth:`Trainer.run` that can pause,
resume and cancel between progress records, and hands out cheap weight snapshots.

The app's worker thread calls :meth:`TrainingSession.run`; it drives the *same* generator the
CLI drives. Between two records the trainer stands at a step boundary, so that is where the
session looks at its flags: a pause waits there, a cancel saves a resumable checkpoint there
(atomically) and stops. Nothing here touches Qt; the callbacks are plain functions.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gcnn_viewer.errors import ConfigError, first_line
from gcnn_viewer.models.train_config import TrainConfig

if TYPE_CHECKING:
    # torch and the training loop are imported where they are used: the app builds its
    # Train panel before torch is loaded (docs/ARCHITECTURE.md, "Start-up")
    import torch

    from gcnn_viewer.models.networks import GCNNModel
    from gcnn_viewer.training.loop import Datasets, Progress, Trainer

SNAPSHOT_EVERY = 50  # optimizer steps between weight snapshots (at most)
SNAPSHOT_MIN_INTERVAL_S = 2.0  # and never more often than this: each one costs a re-render
REPORT_EVERY = 10  # steps between "step" records (as the CLI)
TRAINING_NICENESS = 10  # the training thread yields the CPU to the window and its inference

DataLoader = Callable[[Callable[[str], None]], "Datasets"]


# -- devices ---------------------------------------------------------------------------------
def device_choices(probe: bool = True) -> list[tuple[str, str]]:
    """``(label, device)`` for the device selector: auto, each CUDA GPU by name, MPS, CPU.
    ``probe=False``: auto and the CPU only, without importing torch (the app's first
    second; it asks again once torch is loaded)."""
    cores = os.cpu_count() or 1
    cpu = (f"CPU ({cores} core{'s' if cores != 1 else ''})", "cpu")
    if not probe:
        return [("Auto", "auto"), cpu]
    import torch

    from gcnn_viewer.training.loop import mps_available

    choices: list[tuple[str, str]] = []
    cuda = torch.cuda.is_available()
    mps = mps_available()
    best = "CUDA GPU" if cuda else ("Apple MPS" if mps else "CPU")
    choices.append((f"Auto ({best})", "auto"))
    if cuda:
        for i in range(torch.cuda.device_count()):
            choices.append((f"GPU {i}: {torch.cuda.get_device_name(i)}", f"cuda:{i}"))
    if mps:
        choices.append(("Apple GPU (MPS)", "mps"))
    choices.append(cpu)
    return choices


def default_threads() -> int:
    """Threads for training on the CPU: all cores but one, which the window keeps."""
    return max(1, (os.cpu_count() or 1) - 1)


# -- data ------------------------------------------------------------------------------------
def mnist_rot_cached(root: Path | None = None) -> bool:
    """Whether the default MNIST-rot is in the cache (only looks; never downloads)."""
    from gcnn_viewer.data import MnistRotSpec, cache_dir, mnist_rot_path

    try:
        folder = Path(root) if root is not None else cache_dir(create=False)
        return mnist_rot_path(MnistRotSpec(), folder).is_file()
    except Exception:  # noqa: BLE001  an unusable cache setting is "not cached"
        return False


def cache_location() -> str:
    from gcnn_viewer.data import cache_dir

    try:
        return str(cache_dir(create=False))
    except Exception as exc:  # noqa: BLE001
        return f"(unusable: {exc})"


def mnist_rot_loader(train_split: str = "trainval") -> DataLoader:
    """The real data: MNIST-rot from the cache, fetched and generated on first use."""

    def load(progress: Callable[[str], None]) -> Datasets:
        from gcnn_viewer.data import load_mnist_rot
        from gcnn_viewer.training.loop import Datasets

        return Datasets.from_mnist_rot(load_mnist_rot(progress=progress), train_split)

    return load


# -- progress arithmetic ----------------------------------------------------------------------
def eta_seconds(p: Progress) -> float | None:
    """Seconds left at the rate so far (training time only; ``None`` before the first step)."""
    if p.step <= 0 or p.elapsed <= 0:
        return None
    return max(0.0, (p.steps_total - p.step) * p.elapsed / p.step)


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def lower_thread_priority(niceness: int) -> bool:
    """Make the calling thread nicer by ``niceness`` (Linux: niceness is per thread), so that
    CPU training yields to the GUI thread; a no-op elsewhere. It cannot be raised back, so
    call it on a thread that ends with the run."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    except OSError:
        return False
    return True


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    return (oom and isinstance(exc, oom)) or "out of memory" in str(exc).lower()


def failure_message(exc: BaseException, device: str) -> str:
    """One line for the user; out-of-memory says what to do about it."""
    if is_out_of_memory(exc):
        return (
            f"out of memory on {device}: choose a smaller batch size or train on the CPU "
            "(the app carries on)"
        )
    return f"{type(exc).__name__}: {first_line(exc)}"


# -- curves ----------------------------------------------------------------------------------
@dataclass
class TrainingCurves:
    """The Train panel's curves as plain lists: per-interval training loss and error, and the
    validation error per epoch.

    A progress record carries the *running* mean over its epoch so far, which restarts at each
    epoch: plotted as is, the curve jumps at every epoch boundary (a fresh mean over a few
    batches after a mean over the whole epoch). The mean over the interval between two records
    of one epoch follows from two running means: ``(m2·s2 − m1·s1) / (s2 − s1)`` with ``s`` the
    steps done in that epoch (weighted by steps; only the last batch of an epoch may be
    smaller). x is in epochs, at the end of each interval.
    """

    x: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    error: list[float] = field(default_factory=list)  # %
    vx: list[float] = field(default_factory=list)
    valid: list[float] = field(default_factory=list)  # %
    _last: tuple[int, int, float, float] | None = None  # epoch index, steps in it, loss, error

    def add(self, p: Progress) -> bool:
        """Add a record's interval; False when it adds no point (finishing, done, repeats)."""
        if p.kind not in ("step", "epoch") or p.epochs <= 0 or p.steps_total <= 0:
            return False
        per_epoch = max(1, round(p.steps_total / p.epochs))
        index = p.epoch if p.kind == "step" else p.epoch - 1  # the epoch the record belongs to
        done = p.step - index * per_epoch  # steps done in that epoch
        added = False
        if done > 0 and math.isfinite(p.loss) and math.isfinite(p.error):
            loss, error = p.loss, p.error
            if self._last is not None and self._last[0] == index:
                _, before, loss0, error0 = self._last
                if done > before:
                    loss = (p.loss * done - loss0 * before) / (done - before)
                    error = (p.error * done - error0 * before) / (done - before)
                else:
                    loss = error = math.nan  # the same steps again: no new interval
            if math.isfinite(loss):
                self.x.append(p.step / per_epoch)
                self.loss.append(loss)
                self.error.append(100 * error)
                added = True
            self._last = (index, done, p.loss, p.error)
        if p.kind == "epoch" and p.valid_error is not None:
            self.vx.append(float(p.epoch))
            self.valid.append(100 * p.valid_error)
            added = True
        return added

    def add_history(self, history: list[dict[str, Any]]) -> None:
        """A continued run's finished epochs: one point per epoch (its mean)."""
        for h in history:
            self.x.append(float(h["epoch"]))
            self.loss.append(float(h["loss"]))
            self.error.append(100 * float(h["error"]))
            if h.get("valid_error") is not None:
                self.vx.append(float(h["epoch"]))
                self.valid.append(100 * float(h["valid_error"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "loss": self.loss,
            "error": self.error,
            "vx": self.vx,
            "valid": self.valid,
            "last": list(self._last) if self._last is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> TrainingCurves:
        """The curves :meth:`to_dict` wrote; ValueError for anything else (a file is input)."""

        def numbers(key: str) -> list[float]:
            values = data.get(key)
            if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            ):
                raise ValueError(f"curves: {key} must be a list of finite numbers")
            return [float(v) for v in values]

        if not isinstance(data, dict):
            raise ValueError("curves: not an object")
        curves = cls(*(numbers(k) for k in ("x", "loss", "error", "vx", "valid")))
        if not len(curves.x) == len(curves.loss) == len(curves.error) or len(curves.vx) != len(
            curves.valid
        ):
            raise ValueError("curves: lists of different lengths")
        last = data.get("last")
        if last is not None:
            if not (
                isinstance(last, list)
                and len(last) == 4
                and all(isinstance(v, int) and not isinstance(v, bool) for v in last[:2])
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in last[2:])
            ):
                raise ValueError("curves: last must be [epoch, steps, loss, error]")
            curves._last = (int(last[0]), int(last[1]), float(last[2]), float(last[3]))
        return curves


# -- a run's curves beside its checkpoint ------------------------------------------------------
CURVES_SUFFIX = ".curves.json"


def curves_path(checkpoint: Path | str) -> Path:
    """Where the app keeps the curves of the run saved at ``checkpoint``: beside it."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + CURVES_SUFFIX)


def save_curves(curves: TrainingCurves, checkpoint: Path | str) -> Path:
    """Write the curves drawn up to ``checkpoint`` beside it (atomically), tied to that
    file's sha256: the checkpoint holds one mean per finished epoch, and a run continued
    later (after a restart too) is drawn point for point. Raises OSError."""
    from gcnn_viewer.data.files import json_text, write_text
    from gcnn_viewer.data.mnist import sha256_file

    record = {"checkpoint_sha256": sha256_file(Path(checkpoint)), "curves": curves.to_dict()}
    return write_text(curves_path(checkpoint), json_text(record) + "\n")


def load_curves(checkpoint: Path | str) -> TrainingCurves | None:
    """The curves :func:`save_curves` kept for ``checkpoint``; None when there are none, or
    they are not for this very file (another run's, a changed file) or cannot be read."""
    import json

    from gcnn_viewer.data.mnist import sha256_file

    path = curves_path(checkpoint)
    try:
        if not path.is_file() or path.stat().st_size > 64 * 2**20:
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            return None
        if record.get("checkpoint_sha256") != sha256_file(Path(checkpoint)):
            return None
        return TrainingCurves.from_dict(record.get("curves"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


# -- data fetch progress ---------------------------------------------------------------------
_COUNT = re.compile(r"(\d[\d,]*)\s*/\s*(\d[\d,]*)")


def fetch_fraction(message: str) -> float | None:
    """How far a data message says the work is, from a ``done/total`` count in it (the data
    layer reports e.g. "rotating digits 37200/62000"); None when it has no count."""
    match = _COUNT.search(message)
    if match is None:
        return None
    done, total = (int(g.replace(",", "")) for g in match.groups())
    if total <= 0:
        return None
    return min(1.0, max(0.0, done / total))


def finishing_text(p: Progress) -> str | None:
    """The end-of-run pass a "finishing" record is in, e.g. "test error: batch 3/100"."""
    if p.kind != "finishing":
        return None
    phase = getattr(p, "phase", None) or "final evaluation"
    total = int(getattr(p, "phase_total", 0) or 0)
    done = int(getattr(p, "phase_done", 0) or 0)
    return f"{phase}: batch {done}/{total}" if total > 0 else f"{phase}…"


def finishing_fraction(p: Progress) -> float | None:
    total = int(getattr(p, "phase_total", 0) or 0)
    if p.kind != "finishing" or total <= 0:
        return None
    return min(1.0, max(0.0, int(getattr(p, "phase_done", 0) or 0) / total))


# -- snapshots -------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """Detached CPU weights of the model in training, at ``step``."""

    model_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    step: int
    epoch: int
    epochs: int

    def build(self) -> GCNNModel:
        """A fresh model holding these weights (eval mode), never shared with the trainer."""
        from gcnn_viewer.models.record import CheckpointRecord

        record = CheckpointRecord(self.model_config, self.state_dict)
        return record.build_model("snapshot", check=False)  # weights of our own live model


def take_snapshot(trainer: Trainer) -> Snapshot:
    from gcnn_viewer.models.record import CheckpointRecord

    record = CheckpointRecord.from_model(trainer.model)  # a detached CPU copy of the weights
    return Snapshot(
        record.model_config,
        record.state_dict,
        trainer.global_step,
        trainer.epoch,
        int(trainer.config.epochs or 0),
    )


# -- the session -----------------------------------------------------------------------------
Status = Literal["done", "cancelled", "failed"]


@dataclass
class SessionResult:
    status: Status
    checkpoint: Path | None = None  # the last complete checkpoint (None if none was written)
    message: str = ""  # one line (failures)
    last: Progress | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class TrainingSession:
    """One training run driven from a worker thread; control methods are thread-safe.

    Callbacks (called on the running thread): ``on_message(str)`` while data loads,
    ``on_progress(Progress)`` for every record, ``on_snapshot(Snapshot)`` at most every
    ``snapshot_every`` steps and ``snapshot_min_interval_s`` seconds (plus one at the start
    and one at the end), ``on_paused(bool)``.
    """

    def __init__(
        self,
        config: TrainConfig,
        load_data: DataLoader,
        checkpoint_path: Path | str,
        *,
        report_every: int = REPORT_EVERY,
        snapshot_every: int = SNAPSHOT_EVERY,
        snapshot_min_interval_s: float = SNAPSHOT_MIN_INTERVAL_S,
        threads: int | None = None,
        niceness: int = 0,
        resume_from: Path | str | None = None,
    ) -> None:
        self.config = config
        self.load_data = load_data
        self.checkpoint_path = Path(checkpoint_path)
        self.report_every = report_every
        self.snapshot_every = max(1, snapshot_every)
        self.snapshot_min_interval_s = snapshot_min_interval_s
        self.threads = threads
        self.niceness = niceness
        self.resume_from = Path(resume_from) if resume_from is not None else None
        self.on_message: Callable[[str], None] = lambda _text: None
        self.on_progress: Callable[[Progress], None] = lambda _p: None
        self.on_snapshot: Callable[[Snapshot], None] = lambda _s: None
        self.on_paused: Callable[[bool], None] = lambda _paused: None
        self.trainer: Trainer | None = None
        self.device_name = config.device
        self._cancel = threading.Event()
        self._running = threading.Event()  # set: not paused
        self._running.set()
        self._last_checkpoint: Path | None = None

    # -- control (any thread) -----------------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused run so that it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- the run (worker thread) --------------------------------------------------------------
    def run(self) -> SessionResult:
        """Load the data, train, and return how it ended; never raises."""
        import torch

        from gcnn_viewer.training.loop import Trainer

        previous_threads = torch.get_num_threads()
        last: Progress | None = None
        try:
            if self.threads:
                torch.set_num_threads(self.threads)
            if self.niceness:
                lower_thread_priority(self.niceness)
            self.on_message("loading data…")
            data = self.load_data(self.on_message)
            if self._cancel.is_set():
                return SessionResult("cancelled")
            self.on_message("building the model…")
            if self.resume_from is not None:
                trainer = Trainer.resume(
                    self.resume_from,
                    data,
                    checkpoint_path=self.checkpoint_path,
                    device=self.config.device,
                    command=["gcnn-viewer (app)", "resume"],
                    report_every=self.report_every,
                )
            else:
                trainer = Trainer(
                    self.config,
                    data,
                    checkpoint_path=self.checkpoint_path,
                    command=["gcnn-viewer (app)", "train", self.config.model],
                    report_every=self.report_every,
                )
            self.trainer = trainer
            self.device_name = str(trainer.device)
            self.on_snapshot(take_snapshot(trainer))
            snap_step, snap_time = trainer.global_step, time.monotonic()
            for p in trainer.run():
                last = p
                if p.checkpoint:
                    self._last_checkpoint = Path(p.checkpoint)
                self.on_progress(p)
                if p.kind == "done":
                    self.on_snapshot(take_snapshot(trainer))
                    break
                now = time.monotonic()
                due = p.kind == "epoch" or p.step - snap_step >= self.snapshot_every
                if due and now - snap_time >= self.snapshot_min_interval_s:
                    self.on_snapshot(take_snapshot(trainer))
                    snap_step, snap_time = p.step, now
                if not self._running.is_set():
                    self.on_paused(True)
                    self._running.wait()
                    if not self._cancel.is_set():
                        self.on_paused(False)
                if self._cancel.is_set():
                    self._last_checkpoint = trainer.save()  # atomic, resumable
                    self.on_snapshot(take_snapshot(trainer))
                    return SessionResult(
                        "cancelled", self._last_checkpoint, "", last, list(trainer.history)
                    )
            return SessionResult("done", self._last_checkpoint, "", last, list(trainer.history))
        except Exception as exc:  # noqa: BLE001  the app stays up: report one line
            if self.trainer is not None and self.trainer.device.type == "cuda":
                torch.cuda.empty_cache()
            history = list(self.trainer.history) if self.trainer is not None else []
            return SessionResult(
                "failed",
                self._last_checkpoint,
                failure_message(exc, self.device_name),
                last,
                history,
            )
        finally:
            torch.set_num_threads(previous_threads)


def describe_run(progress: Progress | None, status: str) -> str:
    """A short line on where a run in the app stands, for the model's detail text."""
    if progress is None:
        return f"trained in the app ({status})"
    parts = [f"trained in the app: epoch {progress.epoch}/{progress.epochs}"]
    if progress.kind != "done":
        parts.append(status)
    if progress.valid_error is not None:
        parts.append(f"valid error {100 * progress.valid_error:.2f}%")
    if progress.test_error is not None:
        parts.append(f"test error {100 * progress.test_error:.2f}%")
    return " · ".join(parts)


def save_model_file(model: GCNNModel, path: Path | str, source: Path | None = None) -> Path:
    """Write ``model`` as a checkpoint in our format at ``path`` (atomically).

    ``source``: a checkpoint known to hold exactly these weights; it is copied instead, so its
    training history and metrics travel with it.
    """
    from gcnn_viewer.models.record import CheckpointRecord
    from gcnn_viewer.training.checkpoint import read_run, save_checkpoint

    path = Path(path)
    if source is not None and Path(source).is_file():
        if Path(source).resolve() == path.resolve():
            return path
        return save_checkpoint(path, read_run(source))
    return save_checkpoint(path, CheckpointRecord.from_model(model))


# -- starting a run from the app -------------------------------------------------------------
@dataclass(frozen=True)
class RunPlan:
    """What the Train panel's Start or Continue… will run, decided without Qt."""

    config: TrainConfig
    checkpoint_path: Path  # the new run's own file (an earlier file is never written over)
    resume_from: Path | None = None  # continue this unfinished run exactly
    fine_tune: Path | None = None  # a new run starting from this model's weights
    history: list[dict[str, Any]] = field(default_factory=list)  # a continued run's epochs
    threads: int | None = None  # CPU threads for training (None: leave torch's)

    @property
    def action(self) -> Literal["train", "continue", "fine-tune"]:
        if self.resume_from is not None:
            return "continue"
        return "fine-tune" if self.fine_tune is not None else "train"


def plan_run(
    settings: TrainConfig,
    runs_dir: Path | str,
    resume_from: Path | str | None = None,
    *,
    stamp: str | None = None,
    number: int = 1,
) -> RunPlan:
    """Decide a run from the panel's ``settings``, or from the checkpoint ``resume_from``:

    - an unfinished run (it holds its training state) is continued exactly — weights,
      optimizer, data order, its own settings — on the panel's device, into
      ``<stem>-continued-<stamp>.pt``;
    - a finished run, or a bare saved model, is fine-tuned: a new run from its weights with
      the panel's settings (its architecture), into ``<stem>-finetuned-<stamp>.pt``;
    - no checkpoint: a new run, ``<model>-seed<seed>-<stamp>-<number>.pt``.

    Raises :class:`~gcnn_viewer.errors.CheckpointError` or
    :class:`~gcnn_viewer.errors.ConfigError` (one line) for an unusable file or setting.
    """
    runs_dir = Path(runs_dir)
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    if resume_from is None:
        config = settings
        path = runs_dir / f"{config.model}-seed{config.seed}-{stamp}-{number}.pt"
        plan = RunPlan(config, path)
    else:
        from gcnn_viewer.training.checkpoint import read_run

        source = Path(resume_from)
        record = read_run(source)  # validated: one line naming a bad field
        if record.user_spec is not None:  # the panel trains the shipped architectures only
            raise ConfigError(
                f"{source.name} is a run of your own model {record.user_spec}: continue it "
                f"with gcnn-viewer train --resume {source}, or start from it with --init-from"
            )
        if record.resumable:
            assert record.train_config is not None  # (resumable says so)
            config = dataclasses.replace(record.train_config, device=settings.device)
            path = runs_dir / f"{source.stem}-continued-{stamp}.pt"
            plan = RunPlan(config, path, resume_from=source, history=record.history)
        else:
            config = dataclasses.replace(settings, model=record.name, init_from=str(source))
            path = runs_dir / f"{source.stem}-finetuned-{stamp}.pt"
            plan = RunPlan(config, path, fine_tune=source)
    threads = default_threads() if config.device in ("cpu", "auto") else None
    return dataclasses.replace(plan, threads=threads)

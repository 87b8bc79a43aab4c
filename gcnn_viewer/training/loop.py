"""The training loop as a plain generator of progress records.

The CLI and the app's worker thread drive the same :meth:`Trainer.run` generator; between two
records the trainer is at a consistent step boundary, so a caller may :meth:`Trainer.save` a
resumable checkpoint there (Ctrl-C in the CLI, Cancel in the app) or simply stop iterating.

The faithful protocol (the paper's code; docs/ARCHITECTURE.md, “Training protocol”): Adam lr
1e-3, batch 128, no weight decay, global pixel mean/std of the training set, train on all 12k
digits, the registry's ``paper_epochs`` (300 for Z2CNN, 100 for the group networks), the code's
±π-degree rotation jitter (``augment="paper"``), BN population statistics recomputed over the
training set before the final evaluation on the 50k test digits.
"""

from __future__ import annotations

import math
import shlex
import socket
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gcnn_viewer.errors import CheckpointError, ConfigError, GcnnViewerError
from gcnn_viewer.models.networks import GCNNModel, build_model
from gcnn_viewer.models.record import CheckpointRecord, check_state_dict
from gcnn_viewer.models.train_config import MAX_SEED, TrainConfig
from gcnn_viewer.training.checkpoint import load_checkpoint, read_run, save_checkpoint
from gcnn_viewer.training.user_models import (
    MNIST_SIZE,
    Logits,
    build_user_model,
    check_same_code,
    fit_images,
    has_batch_norm,
)

__all__ = ["MAX_SEED", "TrainConfig"]  # (defined with the checkpoint record; read here too)


class TrainingError(GcnnViewerError):
    """A run that cannot go on (its loss became NaN or infinite); one line for the user."""


ProgressKind = Literal["step", "epoch", "finishing", "done"]


@dataclass
class Progress:
    """One progress record. ``kind`` is "step" (every few steps), "epoch", "finishing" (every
    batch of an end-of-run pass: the BN recalibration, each evaluation; ``phase`` names it and
    ``phase_done``/``phase_total`` count its batches) or "done"."""

    kind: ProgressKind
    epoch: int  # epochs completed (a "step" record belongs to epoch ``epoch + 1``)
    epochs: int
    step: int  # optimizer steps done
    steps_total: int
    loss: float  # mean training loss over the current epoch so far
    error: float  # training error over the current epoch so far (dropout on, BN in batch mode)
    images_per_s: float  # training throughput over the current epoch so far
    elapsed: float  # seconds of training, summed over resumed sessions
    lr: float
    valid_error: float | None = None
    test_error: float | None = None
    checkpoint: str | None = None
    phase: str | None = None  # "finishing" records: e.g. "BN statistics", "test error"
    phase_done: int = 0  # batches of this phase done
    phase_total: int = 0  # batches in this phase

    @property
    def fraction(self) -> float:
        return self.step / self.steps_total if self.steps_total else 1.0


@dataclass
class Datasets:
    """The splits a run uses: uint8 images ``[N, 28, 28]`` and int64 labels ``[N]``."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray] | None = None
    test: tuple[np.ndarray, np.ndarray] | None = None
    description: dict[str, Any] = field(default_factory=dict)  # data spec and content hash

    @classmethod
    def from_mnist_rot(cls, data: Any, train_split: str = "trainval") -> Datasets:
        info = data.info()
        description = {
            "name": "mnist-rot (regenerated)",
            "content_hash": data.content_hash,
            "spec": info.get("spec"),
        }
        return cls(
            train=data.split(train_split),
            valid=data.split("valid"),
            test=data.split("test"),
            description=description,
        )


def mps_available() -> bool:
    """Whether Apple's MPS backend is usable here (older torch builds lack the module)."""
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def available_devices() -> list[str]:
    """The devices this machine can train and evaluate on, as ``--device`` spells them."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    if mps_available():
        found.append("mps")
    return found


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when present, then Apple's MPS, else the CPU. Anything this machine
    cannot run on is a :class:`ConfigError` saying what exists."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    here = f"this machine has: auto, {', '.join(available_devices())}"
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ConfigError(f"unknown device {device!r}; {here}") from None
    if resolved.type == "cpu":
        return torch.device("cpu")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r}: torch sees no CUDA device; {here}")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r} does not exist; {here}")
        return resolved
    if resolved.type == "mps":
        if not mps_available():
            raise ConfigError(f"device {device!r}: Apple's MPS is not available; {here}")
        return resolved
    raise ConfigError(f"device {device!r} cannot run these models; {here}")


def to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` → float32 ``[N, 1, 28, 28]`` in [0, 1] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).unsqueeze(1).float() / 255.0


def rotate_batch(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each image of ``x`` ``[B, 1, H, W]`` counter-clockwise by ``degrees`` ``[B]``
    (bilinear, zeros outside), for full-circle augmentation."""
    theta = torch.deg2rad(degrees.to(x.device, x.dtype))
    cos, sin = torch.cos(theta), torch.sin(theta)
    # affine_grid maps output coords to input coords; y points down, so this turns the
    # content counter-clockwise on screen, like torch.rot90
    matrix = torch.stack(
        [
            torch.stack([cos, -sin, torch.zeros_like(cos)], -1),
            torch.stack([sin, cos, torch.zeros_like(cos)], -1),
        ],
        dim=1,
    )  # [B, 2, 3]
    grid = F.affine_grid(matrix, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@contextmanager
def run_threads(threads: int) -> Iterator[None]:
    """torch's CPU threads set to a run's own ``threads`` while it trains, then put back."""
    previous = torch.get_num_threads()
    if threads and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def ran_on(record: CheckpointRecord) -> list[dict[str, Any]]:
    """Where each session of a run ran (``metrics.ran_on``: host, device, threads, from_step);
    entries that are not such a dict are dropped (older checkpoints have none)."""
    sessions = (record.metrics or {}).get("ran_on")
    if not isinstance(sessions, list):
        return []
    return [
        s
        for s in sessions
        if isinstance(s, dict)
        and isinstance(s.get("host"), str)
        and isinstance(s.get("device"), str)
    ]


PassProgress = Generator[tuple[int, int], None, float]


def iter_evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500
) -> PassProgress:
    """:func:`evaluate` one batch at a time: yields ``(batches done, batches total)`` (first
    ``(0, total)``) and returns the error. Closing it early restores the model's mode."""
    was_training = model.training
    model.eval()
    n = len(images)
    total = math.ceil(n / batch_size)
    wrong = torch.zeros((), dtype=torch.long, device=images.device)
    try:
        yield 0, total
        for i, start in enumerate(range(0, n, batch_size)):
            with torch.no_grad():  # per batch: grad mode must not leak to the caller on yield
                logits = model(images[start : start + batch_size])  # [b, 10]
                wrong += (logits.argmax(1) != labels[start : start + batch_size]).sum()
            yield i + 1, total
    finally:
        model.train(was_training)
    return wrong.item() / max(n, 1)


def _drain(passes: Generator[Any, None, Any]) -> Any:
    """Run a pass generator to the end; its return value."""
    while True:
        try:
            next(passes)
        except StopIteration as stop:
            return stop.value


def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500
) -> float:
    """Classification error of ``model`` (eval mode) on float images ``[N, 1, 28, 28]``."""
    return _drain(iter_evaluate(model, images, labels, batch_size))


def augmentation_angles(augment: str, n: int, generator: torch.Generator) -> torch.Tensor | None:
    """Rotation angles in degrees ``[n]`` for one pass over ``n`` images (None: unrotated)."""
    if augment == "rotation":
        return torch.rand(n, generator=generator) * 360.0
    if augment == "paper":  # uniform(-0.5, 0.5)·2π, read as degrees (see TrainConfig.augment)
        return (torch.rand(n, generator=generator) - 0.5) * (2 * math.pi)
    return None


def iter_recalibrate_batch_norm(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 128,
    *,
    mode: Literal["paper", "eval"] = "eval",
    augment: str = "none",
    seed: int = 0,
) -> Generator[tuple[int, int], None, None]:
    """:func:`recalibrate_batch_norm` one batch at a time, yielding ``(batches done, total)``
    (first ``(0, total)``). The seeded random stream of ``paper`` mode is swapped in only
    around each batch, so the caller's RNG and grad mode are untouched between yields, and
    the result is the same however the passes are interleaved. Closing it early leaves BN's
    statistics partial (the caller restores the weights) but its settings restored."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in norms]
    n = len(images)
    total = math.ceil(n / batch_size)
    try:
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over all batches
        yield 0, total
        if mode == "paper":
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(n, generator=generator)
            angles = augmentation_angles(augment, n, generator)
            cuda = images.device if images.device.type == "cuda" else None
            # seeded dropout: torch.manual_seed's state, kept aside between batches
            caller = _rng_state(cuda)
            torch.manual_seed(seed)
            ours = _rng_state(cuda)
            _set_rng_state(caller, cuda)
            model.train()
            for i, start in enumerate(range(0, n, batch_size)):
                index = order[start : start + batch_size]
                x = images[index.to(images.device)]
                caller = _rng_state(cuda)
                _set_rng_state(ours, cuda)
                try:
                    with torch.no_grad():
                        model(x if angles is None else rotate_batch(x, angles[index]))
                finally:
                    ours = _rng_state(cuda)
                    _set_rng_state(caller, cuda)
                yield i + 1, total
        else:
            model.eval()
            for bn in norms:
                bn.train()
            for i, start in enumerate(range(0, n, batch_size)):
                with torch.no_grad():
                    model(images[start : start + batch_size])
                yield i + 1, total
    finally:
        for bn, momentum in zip(norms, momenta, strict=True):
            bn.momentum = momentum
        model.eval()


def _rng_state(cuda: torch.device | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    return torch.get_rng_state(), torch.cuda.get_rng_state(cuda) if cuda is not None else None


def _set_rng_state(state: tuple[torch.Tensor, torch.Tensor | None], cuda: torch.device | None):
    torch.set_rng_state(state[0])
    if cuda is not None and state[1] is not None:
        torch.cuda.set_rng_state(state[1], cuda)


def recalibrate_batch_norm(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 128,
    *,
    mode: Literal["paper", "eval"] = "eval",
    augment: str = "none",
    seed: int = 0,
) -> None:
    """Replace BN running statistics by population statistics over ``images`` ``[N, 1, H, W]``:
    the mean over batches of each batch's statistics, as chainer's fine-tuning pass computes.

    ``eval``: the model as at evaluation (dropout off), the images as they are, in order.
    ``paper``: what the paper's code did before testing, one more training-mode epoch without
    updates: shuffled, rotated per ``augment`` and with dropout on (its masks and the order are
    drawn from ``seed``, so the result depends on nothing else). Leaves the model in eval mode.
    """
    _drain(
        iter_recalibrate_batch_norm(
            model, images, batch_size, mode=mode, augment=augment, seed=seed
        )
    )


def _split_command(command: str) -> list[str]:
    """A recorded command line back into words (kept whole if it does not parse)."""
    try:
        return shlex.split(command)
    except ValueError:  # e.g. an unbalanced quote in a hand-edited file
        return [command]


class Trainer:
    """One training run, resumable at any step boundary."""

    def __init__(
        self,
        config: TrainConfig,
        data: Datasets,
        *,
        checkpoint_path: Path | str | None = None,
        command: list[str] | None = None,
        report_every: int = 10,
        initial_weights: bool = True,
    ) -> None:
        """``initial_weights=False`` skips loading ``config.init_from`` (a resumed run's own
        weights replace them anyway)."""
        self.config = config
        self.data = data
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.command = command if command is not None else list(sys.argv)
        self.report_every = max(1, report_every)
        self.device = resolve_device(config.device)
        if config.threads == 0:  # this process's default, recorded as the number it is
            config.threads = torch.get_num_threads()

        torch.manual_seed(config.seed)
        config.check_model_options()
        # a user's own model's record (training/user_models.py); None: ours (model.config)
        self.model_config: dict[str, Any] | None = None
        self.model: nn.Module
        if config.is_user_model:
            self.model, self.model_config = build_user_model(
                config, initial_weights=initial_weights
            )
        else:
            self.model = self._build_shipped(data, initial_weights)
        self.input_size = self.model_config["input_size"] if self.model_config else MNIST_SIZE
        self.model.to(self.device)
        # what the passes call: a user's module with its output read as logits [B, 10]
        self.net = Logits(self.model) if self.model_config else self.model
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.shuffle = torch.Generator().manual_seed(config.seed)  # order and augmentation
        self.epoch = 0  # epochs completed
        self.step_in_epoch = 0
        self.global_step = 0
        self.elapsed = 0.0
        self.history: list[dict[str, Any]] = []
        self._epoch_shuffle_state = self.shuffle.get_state()
        self._epoch_sums = torch.zeros(3, dtype=torch.float64)  # loss·n, wrong, n this epoch
        self._epoch_time = 0.0
        self.final: dict[str, Any] | None = None
        self.resumed_with: list[str] = []  # the commands that continued this run, if any
        # where each session of the run ran: {"host", "device", "threads", "from_step"}
        self.ran_on: list[dict[str, Any]] = []
        # the trained weights while the end-of-run passes change BN's statistics: what a save
        # then writes, and what a cancelled finish restores
        self._trained_state: dict[str, torch.Tensor] | None = None
        self._finish_time = 0.0  # seconds spent in the end-of-run passes
        self.last_saved: tuple[Path, int] | None = None  # (checkpoint, epochs it holds)
        self.diverged = False  # the loss became non-finite: weights unusable, never saved

        self._images = fit_images(to_tensor(data.train[0], self.device), self.input_size)
        self._labels = torch.from_numpy(data.train[1]).to(self.device)

    def _build_shipped(self, data: Datasets, initial_weights: bool) -> GCNNModel:
        """One of our architectures, normalising with the training pixels' mean and std, and
        ``init_from``'s weights (and normalisation) when given."""
        config = self.config
        model = build_model(config.model)
        train_images = data.train[0].astype(np.float64) / 255.0
        model.set_normalisation(float(train_images.mean()), float(train_images.std()))
        if config.init_from and initial_weights:
            start = load_checkpoint(config.init_from)  # every field validated
            if start.name != config.model or start.record.user_spec is not None:
                raise CheckpointError(
                    f"{config.init_from}: holds a {start.name} model, not a {config.model}"
                )
            # its weights and the normalisation they were trained with (the architecture's
            # arguments, e.g. channels, must be the ones this run builds)
            check_state_dict(model, start.model.state_dict(), config.init_from)
            model.load_state_dict(start.model.state_dict())
        return model

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self._labels) / self.config.batch_size)

    @property
    def steps_total(self) -> int:
        return self.steps_per_epoch * self.config.epochs

    @property
    def complete(self) -> bool:
        return self.final is not None

    def lr_at(self, step: int) -> float:
        if self.config.lr_schedule == "cosine":
            return self.config.lr * 0.5 * (1 + math.cos(math.pi * step / self.steps_total))
        return self.config.lr

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> Iterator[Progress]:
        """Train to the end, yielding progress; resumes from wherever this trainer stands.

        After the last epoch the trained weights are checkpointed first; then the end-of-run
        passes (BN recalibration, evaluations) yield "finishing" records. Stopping during them
        keeps that checkpoint, and resuming it runs only the missing passes."""
        cfg = self.config
        self.ran_on.append(
            {
                "host": socket.gethostname(),
                "device": str(self.device),
                "threads": cfg.threads,
                "from_step": self.global_step,
            }
        )
        with run_threads(cfg.threads):
            yield from self._run()

    def _run(self) -> Iterator[Progress]:
        """:meth:`run` with the run's own thread count set."""
        cfg = self.config
        while self.epoch < cfg.epochs:
            if self.step_in_epoch == 0:
                self._epoch_shuffle_state = self.shuffle.get_state()
                self._epoch_sums.zero_()
                self._epoch_time = 0.0
            else:  # resumed mid-epoch: replay this epoch's order and angles
                self.shuffle.set_state(self._epoch_shuffle_state)
            n = len(self._labels)
            order = torch.randperm(n, generator=self.shuffle)
            angles = augmentation_angles(cfg.augment, n, self.shuffle)  # degrees, this epoch
            self.net.train()
            sums = torch.zeros(3, dtype=torch.float64, device=self.device)
            mark = time.perf_counter()  # time spent by the consumer between records is excluded
            while self.step_in_epoch < self.steps_per_epoch:
                s = self.step_in_epoch * cfg.batch_size
                index = order[s : s + cfg.batch_size]
                idx = index.to(self.device)
                x, y = self._images[idx], self._labels[idx]
                if angles is not None:
                    x = rotate_batch(x, angles[index])
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr_at(self.global_step)
                logits = self.net(x)
                loss = F.cross_entropy(logits, y)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                with torch.no_grad():  # accumulate on the device: no sync per step
                    sums[0] += loss.detach().double() * len(y)
                    sums[1] += (logits.argmax(1) != y).sum()
                    sums[2] += len(y)
                self.step_in_epoch += 1
                self.global_step += 1
                last = self.step_in_epoch == self.steps_per_epoch
                if last or self.global_step % self.report_every == 0:
                    self._epoch_sums += sums.cpu()  # waits for the device
                    sums.zero_()
                    if not math.isfinite(self._epoch_sums[0].item()):
                        self._diverge(self._epoch_sums[0].item())
                    now = time.perf_counter()
                    self._epoch_time += now - mark
                    self.elapsed += now - mark
                    if not last:
                        yield self._record("step")
                    mark = time.perf_counter()
            self.epoch += 1
            self.step_in_epoch = 0
            if not self._weights_finite():  # the epoch's last update overflowed
                self._diverge(float("nan"))
            entry = self._record("epoch")
            if cfg.eval_every and self.data.valid is not None and self.epoch % cfg.eval_every == 0:
                entry.valid_error = self._evaluate_split(self.data.valid)
            self.history.append(
                {
                    "epoch": self.epoch,
                    "loss": entry.loss,
                    "error": entry.error,
                    "valid_error": entry.valid_error,
                    "images_per_s": entry.images_per_s,
                    "elapsed": entry.elapsed,
                }
            )
            if self.checkpoint_path is not None:  # the last epoch too: before the final passes
                entry.checkpoint = str(self.save())
            yield entry
        if self.final is None:
            self.final = yield from self._finishing(running_stats=True)
        yield self._done()

    def _diverge(self, value: float) -> None:
        """Stop a run whose loss is no longer finite: its weights are garbage from here on."""
        self.diverged = True
        kept = (
            f"the last good checkpoint, {self.last_saved[0]} (epoch {self.last_saved[1]}), is kept"
            if self.last_saved is not None
            else "no checkpoint was written"
        )
        raise TrainingError(
            f"training stopped: the loss became {value} in epoch {self.epoch + 1} "
            f"(step {self.global_step}); {kept}. Try a lower learning rate (--lr)"
        )

    def _weights_finite(self) -> bool:
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    def _record(self, kind: ProgressKind) -> Progress:
        loss_sum, wrong, n = self._epoch_sums.tolist()
        return Progress(
            kind=kind,
            epoch=self.epoch,
            epochs=self.config.epochs,
            step=self.global_step,
            steps_total=self.steps_total,
            loss=loss_sum / n if n else float("nan"),
            error=wrong / n if n else float("nan"),
            images_per_s=n / self._epoch_time if self._epoch_time > 0 else 0.0,
            elapsed=self.elapsed,
            lr=self.lr_at(self.global_step),
        )

    def _evaluate_split(self, split: tuple[np.ndarray, np.ndarray]) -> float:
        return _drain(self._iter_evaluate(split))

    def _iter_evaluate(self, split: tuple[np.ndarray, np.ndarray]) -> PassProgress:
        images = fit_images(to_tensor(split[0], self.device), self.input_size)  # [N, 1, n, n]
        labels = torch.from_numpy(split[1]).to(self.device)
        return iter_evaluate(self.net, images, labels)

    def _iter_recalibrate(self, mode: Literal["paper", "eval"]) -> Generator:
        cfg = self.config
        return iter_recalibrate_batch_norm(
            self.net, self._images, cfg.batch_size, mode=mode, augment=cfg.augment, seed=cfg.seed
        )

    def _phase(self, label: str, passes: Generator[tuple[int, int], None, Any]):
        """Yield a "finishing" record per batch of one end-of-run pass; return its result.
        Only the time spent in the pass itself counts (not the consumer's, between records)."""
        mark = time.perf_counter()
        try:
            while True:
                try:
                    done, total = next(passes)
                except StopIteration as stop:
                    self._finish_time += time.perf_counter() - mark
                    return stop.value
                self._finish_time += time.perf_counter() - mark
                record = self._record("finishing")
                record.phase, record.phase_done, record.phase_total = label, done, total
                yield record
                mark = time.perf_counter()
        finally:
            passes.close()  # stopped early: the pass restores what it changed

    def _finishing(self, running_stats: bool = True) -> Generator[Progress, None, dict]:
        """The end-of-run passes, with the trained weights kept aside: a consumer that stops
        iterating here gets them back in the model (and a :meth:`save` meanwhile writes them)."""
        self._trained_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self._finish_time = 0.0
        try:
            final = yield from self._final_steps(running_stats)
        except BaseException:  # stopped (GeneratorExit) or failed: back to the trained model
            self.model.load_state_dict(self._trained_state)
            self._trained_state = None
            raise
        self._trained_state = None
        return final

    def _final_steps(self, running_stats: bool) -> Generator[Progress, None, dict]:
        """Recalibrate BN per the config, then measure the errors reported for the run.
        ``diagnostics`` adds, first, the test error with BN's running averages (while they are
        there; ``running_stats``) and, for ``paper``, with the pass done in eval mode."""
        mode = self.config.bn_recalibration
        test, valid = self.data.test, self.data.valid
        final: dict[str, Any] = {"bn_recalibration": mode}
        if mode != "off" and not has_batch_norm(self.model):  # a user's model may have none
            final["bn_note"] = "the model has no batch-norm layers: nothing to recalibrate"
            mode = "off"
        if self.config.diagnostics and mode != "off" and test is not None:
            # recorded to show what the recalibration, and the way it is done, change
            if running_stats:
                final["test_error_running_stats"] = yield from self._phase(
                    "test error, BN running averages", self._iter_evaluate(test)
                )
            if mode == "paper":
                yield from self._phase("BN statistics, eval mode", self._iter_recalibrate("eval"))
                final["test_error_eval_recalibration"] = yield from self._phase(
                    "test error, BN from eval mode", self._iter_evaluate(test)
                )
        if mode != "off":
            yield from self._phase("BN statistics", self._iter_recalibrate(mode))
        if test is not None:
            final["test_error"] = yield from self._phase("test error", self._iter_evaluate(test))
            final["n_test"] = len(test[1])
        if valid is not None:
            final["valid_error"] = yield from self._phase("valid error", self._iter_evaluate(valid))
        final["elapsed"] = self.elapsed
        final["finish_seconds"] = self._finish_time
        return final

    def _done(self) -> Progress:
        assert self.final is not None
        done = self._record("done")
        done.test_error = self.final.get("test_error")
        done.valid_error = self.final.get("valid_error")
        if self.checkpoint_path is not None:
            done.checkpoint = str(self.save())
        return done

    def refinalise(self, command: list[str] | None = None) -> Progress:
        """Redo a finished run's final evaluation (BN recalibration, test and valid errors) with
        this code and this config, keeping earlier results in ``final["previous"]``; training
        is not repeated. Saves the checkpoint when the run has a path."""
        if self.final is None:
            raise CheckpointError("only a finished run can be re-finalised; resume it instead")
        earlier = {k: v for k, v in self.final.items() if k not in ("previous", "refinalised_with")}
        # the first finalisation replaced BN's running averages: keep what it measured of them
        with run_threads(self.config.threads):
            final = _drain(self._finishing(running_stats=False))
        if "test_error_running_stats" in earlier and self.config.diagnostics:
            final["test_error_running_stats"] = earlier["test_error_running_stats"]
        final["previous"] = [*self.final.get("previous", []), earlier]
        final["refinalised_with"] = shlex.join(command if command is not None else sys.argv)
        self.final = final
        return self._done()

    # -- checkpoints ----------------------------------------------------------------------------
    def payload(self) -> dict[str, Any]:
        """The checkpoint contents at this step boundary, as the dict a file holds."""
        return self.record().to_dict()

    def record(self) -> CheckpointRecord:
        """The checkpoint at this step boundary: during the end-of-run passes, the trained
        weights kept aside (what a cancelled finish restores), not BN's changing ones."""
        resume = None
        if not self.complete:
            resume = {
                "epoch": self.epoch,
                "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step,
                "elapsed": self.elapsed,
                "epoch_time": self._epoch_time,
                "epoch_sums": self._epoch_sums.clone(),
                "optimizer": self.optimizer.state_dict(),
                "epoch_shuffle_state": self._epoch_shuffle_state,
                "shuffle_state": self.shuffle.get_state(),
                "torch_rng_state": torch.get_rng_state(),
                "cuda_rng_state": (
                    torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
                ),
            }
        return CheckpointRecord.from_model(
            self.model,
            self._trained_state,
            model_config=self.model_config,  # a user model's; None: the shipped model's own
            train_config=self.config,
            protocol=self.config.protocol,
            command=shlex.join(self.command),
            resumed_with=list(self.resumed_with),
            data=self.data.description,
            metrics={"history": list(self.history), "final": self.final, "ran_on": self.ran_on},
            complete=self.complete,
            resume=resume,
        )

    def save(self, path: Path | str | None = None) -> Path:
        """Write a checkpoint here (atomically); default: the run's checkpoint path."""
        target = Path(path) if path is not None else self.checkpoint_path
        if target is None:
            raise ValueError("no checkpoint path given")
        if self.diverged or (self._trained_state is None and not self._weights_finite()):
            raise TrainingError(
                f"not saving {target}: the weights are no longer finite (the loss diverged)"
            )
        saved = save_checkpoint(target, self.record())
        if target == self.checkpoint_path:
            self.last_saved = (saved, self.epoch)
        return saved

    @classmethod
    def resume(
        cls,
        path: Path | str,
        data: Datasets,
        *,
        checkpoint_path: Path | str | None = None,
        device: str | None = None,
        command: list[str] | None = None,
        report_every: int = 10,
    ) -> Trainer:
        """Continue the run saved at ``path`` exactly (weights, optimizer, RNG, position).
        Every field is validated first (:func:`read_checkpoint`); one that does not fit this
        run is a :class:`CheckpointError` naming it."""
        record = read_run(path)
        if record.train_config is None:
            raise CheckpointError(f"{path}: holds no training state to resume")
        config = record.train_config
        if device is not None:
            config.device = device
        expected = record.content_hash
        if expected and data.description.get("content_hash") not in (None, expected):
            raise CheckpointError(
                f"{path}: was trained on other data (content hash {expected[:12]}…)"
            )
        complete = bool(record.complete)
        if not complete and record.resume is None:
            raise CheckpointError(f"{path}: resume is missing (the run's training state)")
        if not complete and not isinstance(record.metrics, dict):
            raise CheckpointError(f"{path}: metrics is missing (the run's history)")
        trainer = cls(
            config,
            data,
            checkpoint_path=checkpoint_path if checkpoint_path is not None else path,
            command=_split_command(record.command or ""),
            report_every=report_every,
            initial_weights=False,
        )
        check_same_code(record, trainer.model_config, path)  # a user's model: the same code
        trainer.resumed_with = list(record.resumed_with or [])
        if command is not None:
            trainer.resumed_with.append(shlex.join(command))
        check_state_dict(trainer.model, record.state_dict, path)
        trainer.model.load_state_dict(record.state_dict)
        trainer.history = record.history
        trainer.ran_on = ran_on(record)
        if complete:
            trainer.final = record.final
            trainer.epoch = config.epochs
            trainer.global_step = trainer.steps_total
            trainer.elapsed = trainer.final.get("elapsed", 0.0)
            return trainer
        state = record.resume
        spe = trainer.steps_per_epoch
        if state["epoch"] > config.epochs or (
            state["epoch"] == config.epochs and state["step_in_epoch"] != 0
        ):
            raise CheckpointError(f"{path}: resume.epoch is beyond the run's {config.epochs}")
        if state["step_in_epoch"] >= spe:
            raise CheckpointError(
                f"{path}: resume.step_in_epoch must be below {spe} (steps per epoch here)"
            )
        if state["global_step"] != state["epoch"] * spe + state["step_in_epoch"]:
            raise CheckpointError(f"{path}: resume.global_step does not match its epoch and step")
        trainer._load_optimizer(state["optimizer"], path)
        trainer.epoch = state["epoch"]
        trainer.step_in_epoch = state["step_in_epoch"]
        trainer.global_step = state["global_step"]
        trainer.elapsed = float(state["elapsed"])
        trainer._epoch_time = float(state["epoch_time"])
        trainer._epoch_sums = state["epoch_sums"].to(torch.float64).clone()
        trainer._epoch_shuffle_state = state["epoch_shuffle_state"]
        try:
            trainer.shuffle.set_state(state["shuffle_state"])
            torch.set_rng_state(state["torch_rng_state"])
            if trainer.device.type == "cuda" and state.get("cuda_rng_state") is not None:
                torch.cuda.set_rng_state(state["cuda_rng_state"], trainer.device)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: resume holds a bad random state ({exc})") from None
        trainer.last_saved = (Path(path), trainer.epoch)
        return trainer

    def _load_optimizer(self, state: dict[str, Any], path: Path | str) -> None:
        """Adam's state from a checkpoint, checked against this model's parameters first
        (torch would only fail later, at the first step, with a shape error)."""
        params = list(self.model.parameters())
        groups = state["param_groups"]
        try:
            indices = [i for g in groups for i in g["params"]]
        except (TypeError, KeyError):
            raise CheckpointError(f"{path}: resume.optimizer.param_groups is malformed") from None
        if sorted(indices) != list(range(len(params))):
            raise CheckpointError(
                f"{path}: resume.optimizer does not match the model's {len(params)} parameters"
            )
        for key, slot in state["state"].items():
            if not isinstance(key, int) or not 0 <= key < len(params) or not isinstance(slot, dict):
                raise CheckpointError(f"{path}: resume.optimizer.state[{key!r}] is malformed")
            for name in ("exp_avg", "exp_avg_sq"):
                value = slot.get(name)
                if not isinstance(value, torch.Tensor) or value.shape != params[key].shape:
                    raise CheckpointError(
                        f"{path}: resume.optimizer.state[{key}].{name} does not fit parameter "
                        f"{key} ({list(params[key].shape)})"
                    )
        try:
            self.optimizer.load_state_dict(state)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(f"{path}: resume.optimizer is unusable ({exc})") from None

"""``reproduce --jobs N`` / ``--ray ADDRESS`` on a terminal: one progress line per active run
and one for them all (count and ETA), Ctrl-C, the table, the exit status.

This process is the driver: it alone writes ``results.json`` and ``results.md`` (after every
run that finishes, and at the end), so they always describe every finished run in ``--out``.
"""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import Any

from gcnn_viewer.models.registry import model_spec
from gcnn_viewer.models.train_config import TrainConfig
from gcnn_viewer.training.loop import Datasets
from gcnn_viewer.training.parallel import ManyRuns, RunEvent
from gcnn_viewer.training.reproduce import RunTask, write_summary

MAX_STATUS = 100  # exit status: the number of failed runs, at most this


class ManyBars:
    """tqdm bars: the first for every run (steps of this session, runs done, failed, active:
    its ETA is the whole command's), then one per active run, reused as runs come and go."""

    def __init__(self, runs: list[RunTask], data: Datasets, slots: int) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm
        n = len(data.train[1])
        batch = TrainConfig.batch_size  # the recipe's (reproduce does not change it)
        self.left = {r.path: math.ceil(n / batch) * _epochs(r) for r in runs}  # steps to go
        self.runs = len(runs)
        self.done = self.failed = 0
        self.step: dict[str, int] = {}
        self.bars: dict[str, Any] = {}
        self.slot: dict[str, int] = {}  # each active run's line, below the overall one
        self.free = list(range(1, slots + 1))
        self.overall = tqdm(
            total=sum(self.left.values()),
            unit="step",
            position=0,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        self._describe()

    def _describe(self) -> None:
        self.overall.set_description_str(
            f"runs: {self.done}/{self.runs} done, {self.failed} failed, {len(self.bars)} running"
        )

    def write(self, line: str) -> None:
        self.tqdm.write(line, file=sys.stderr)

    def show(self, event: RunEvent) -> None:
        getattr(self, f"_{event.kind}")(event)
        self._describe()

    def _started(self, e: RunEvent) -> None:
        key = e.run.path
        to_go = e.steps_total - e.start_step
        self.overall.total += to_go - self.left.get(key, 0)
        self.left[key], self.step[key] = to_go, e.start_step
        self.overall.refresh()
        where = f"{e.host} {e.device}" + (f" node {e.node[:8]}" if e.node else "")
        self.slot[key] = self.free.pop(0) if self.free else len(self.bars) + 1
        self.bars[key] = self.tqdm(
            total=e.steps_total,
            initial=e.start_step,
            desc=f"{e.run.label} ({where})",
            unit="step",
            position=self.slot[key],
            leave=False,
            dynamic_ncols=True,
            file=sys.stderr,
        )

    def _advance(self, key: str, step: int) -> None:
        delta = step - self.step.get(key, step)
        if delta > 0:
            self.step[key] = step
            self.left[key] = self.left.get(key, 0) - delta
            self.overall.update(delta)
            if key in self.bars:
                self.bars[key].update(delta)

    def _progress(self, e: RunEvent) -> None:
        p = e.progress
        self._advance(e.run.path, p.step)
        bar = self.bars.get(e.run.path)
        if bar is None:
            return
        if p.kind == "finishing":
            bar.set_postfix_str(f"{p.phase} {p.phase_done}/{p.phase_total}", refresh=False)
        else:
            current = p.epoch + 1 if p.kind == "step" else p.epoch
            bar.set_postfix_str(
                f"epoch {current}/{p.epochs}, loss {p.loss:.3f}, {p.images_per_s:.0f} img/s",
                refresh=False,
            )

    def _end(self, key: str) -> None:
        bar = self.bars.pop(key, None)
        if bar is not None:
            self.free = sorted([*self.free, self.slot.pop(key)])
            bar.close()
        self.overall.total -= max(self.left.pop(key, 0), 0)  # what it will not do now
        self.overall.refresh()

    def _done(self, e: RunEvent) -> None:
        if e.progress is not None:
            self._advance(e.run.path, e.progress.step)
        self._end(e.run.path)
        self.done += 1
        if e.progress is None:
            self.write(f"{e.run.label}: finished before")
            return
        error = e.progress.test_error
        error = f"test error {100 * error:.2f}%" if error is not None else "done"
        self.write(f"{e.run.label}: {error} ({e.host}, {e.device})")

    def _failed(self, e: RunEvent) -> None:
        self._end(e.run.path)
        self.failed += 1
        self.write(f"{e.run.label}: failed: {e.message}")

    def _stopped(self, e: RunEvent) -> None:
        self._end(e.run.path)
        if e.message:
            step = f"({e.message})"
        elif e.progress is not None:
            step = f"at step {e.progress.step}"
        else:
            step = "before its first step"
        self.write(f"{e.run.label}: stopped {step}; its last checkpoint is kept: {e.run.path}")

    def _retry(self, e: RunEvent) -> None:
        self._end(e.run.path)
        self.write(f"{e.run.label}: {e.message}; starting it again from its last checkpoint")

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.overall.close()


def _epochs(run: RunTask) -> int:
    return run.epochs or model_spec(run.model).paper_epochs


def drive_many(many: ManyRuns, data: Datasets, slots: int, out_dir: Path, models: list[str]) -> int:
    """Run them with bars; the first Ctrl-C asks every run to save and stop, the second ends
    the workers at once (each keeps its last checkpoint). Writes the table after each run
    that finishes and at the end. Returns 130 when stopped, else the number of failed runs
    (at most :data:`MAX_STATUS`)."""
    presses = {"n": 0}
    bars = ManyBars(many.runs, data, slots)

    def on_ctrl_c(signum, frame):  # noqa: ARG001
        presses["n"] += 1
        if presses["n"] == 1:
            bars.write(
                "stopping: every run saves its checkpoint at its next step (Ctrl-C again "
                "to end them now)"
            )
            many.stop()
        elif presses["n"] == 2:
            bars.write("ending every run now; each keeps its last checkpoint")
            many.kill()
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        for event in many:
            bars.show(event)
            if event.kind == "done" and event.progress is not None:
                write_summary(out_dir, models)
    finally:
        signal.signal(signal.SIGINT, previous)
        bars.close()
    summary = write_summary(out_dir, models)
    left = len(many.runs) - len(many.finished) - len(many.failed)
    if many.stopping:
        print(
            f"stopped: {left} of {len(many.runs)} runs are not finished; their checkpoints are "
            "kept, and the same command resumes them",
            file=sys.stderr,
        )
    if many.failed:
        print(f"{len(many.failed)} of {len(many.runs)} runs failed:", file=sys.stderr)
        for e in many.failed:
            print(f"  {e.run.label}: {e.message}", file=sys.stderr)
    from gcnn_viewer.training.reproduce import markdown_table

    print(markdown_table(summary), end="")
    print(f"written: {out_dir / 'results.json'}, {out_dir / 'results.md'}", file=sys.stderr)
    if many.stopping:
        return 130
    return min(len(many.failed), MAX_STATUS)

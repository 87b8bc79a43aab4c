"""Many runs at once: a reproduction's runs as separate processes on this machine
(``reproduce --jobs N``) or as Ray tasks on a cluster (``reproduce --ray ADDRESS``).

:class:`ManyRuns` is a generator of :class:`RunEvent`s, as the training loop is of progress
records: the command line shows them and decides what to write. What holds wherever a run
runs (docs/training.md, "Many runs at once"):

- **The same result.** A run's recipe (:class:`~gcnn_viewer.training.reproduce.RunTask`)
  includes its torch thread count, never derived from how many runs share the machine, so on
  the CPU a run's weights are bit-identical alone, beside others or on another node.
- **Checkpoints** are written by the process that trains the run, atomically, in the run's
  folder: with Ray that folder must be on a filesystem every node sees at the same path.
- **Faults.** A run that fails (an exception) is reported and the others go on. A worker that
  dies (killed, out of memory, a node lost) is started again from the run's last checkpoint,
  up to ``retries`` times. :meth:`ManyRuns.stop` asks every run to save a checkpoint at its
  next step boundary and end; runs not yet started are left for the next command.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Literal

from gcnn_viewer.data.files import claim_output
from gcnn_viewer.errors import ConfigError, GcnnViewerError, first_line
from gcnn_viewer.training.loop import Datasets, Progress
from gcnn_viewer.training.reproduce import RunTask, open_run

DEFAULT_RETRIES = 2  # a worker that dies is started again from its checkpoint this many times
DEFAULT_RUNS_PER_GPU = 4  # a 25k-parameter run keeps only a sliver of a GPU busy (not measured)

EventKind = Literal["started", "progress", "done", "stopped", "failed", "retry"]
TERMINAL = ("done", "stopped", "failed")


@dataclass
class RunEvent:
    """What one run did. ``started`` (``host``, ``device`` and, under Ray, ``node`` say where),
    ``progress`` (a training record), then one of ``done`` (its last record), ``stopped``
    (saved at a step boundary after :meth:`ManyRuns.stop`) or ``failed`` (``message``: one
    line). ``retry``: its worker died (``message``) and it starts again from its checkpoint."""

    run: RunTask
    kind: EventKind
    progress: Progress | None = None
    host: str = ""
    device: str = ""
    node: str = ""  # the Ray node's id ("" outside Ray)
    message: str = ""
    start_step: int = 0  # started: the step it starts from (a resumed run's own)
    steps_total: int = 0  # started: its steps in all


Report = Callable[[RunEvent], bool]  # send an event; True: the run is asked to stop
Worker = Callable[..., RunEvent]  # (run, data, report, node="") -> its last event


def train_run(
    run: RunTask,
    data: Datasets,
    report: Report,
    *,
    command: list[str] | None = None,
    diagnostics: bool = True,
    node: str = "",
) -> RunEvent:
    """Train (or resume, or find finished) one run in this process, reporting each progress
    record; return its last event: ``done``, ``stopped`` or ``failed`` (never raises for a
    run's own fault). The run's folder must exist here: a node that does not share ``--out``
    says so instead of training into a folder nobody reads."""
    host = socket.gethostname()
    path = Path(run.path)
    if not path.parent.is_dir():
        return RunEvent(
            run,
            "failed",
            host=host,
            node=node,
            message=f"{path.parent} does not exist on {host}: the runs' folder must be on a "
            "filesystem every node sees at the same path",
        )
    try:
        with claim_output(path):
            trainer = open_run(run, data, command=command, diagnostics=diagnostics)
            if trainer is None:  # finished before: nothing to do
                return RunEvent(run, "done", host=host, node=node)
            where = {"host": host, "device": str(trainer.device), "node": node}
            started = RunEvent(
                run,
                "started",
                start_step=trainer.global_step,
                steps_total=trainer.steps_total,
                **where,
            )
            if report(started):
                return RunEvent(run, "stopped", **where)
            for p in trainer.run():
                if p.kind == "done":
                    return RunEvent(run, "done", p, **where)
                if report(RunEvent(run, "progress", p, **where)):
                    trainer.save()
                    return RunEvent(run, "stopped", p, **where)
    except GcnnViewerError as exc:
        return RunEvent(run, "failed", host=host, node=node, message=" ".join(str(exc).split()))
    except MemoryError:
        return RunEvent(run, "failed", host=host, node=node, message="out of memory")
    except Exception as exc:  # noqa: BLE001  a bug or a device error: reported, the others go on
        return RunEvent(
            run, "failed", host=host, node=node, message=f"{type(exc).__name__}: {first_line(exc)}"
        )
    raise AssertionError("a training run ends with a done record")  # pragma: no cover


@dataclass(frozen=True)
class RunWorker:
    """:func:`train_run` with the command's settings: what trains each run in its worker
    process (a class at module level, so it pickles by reference)."""

    command: list[str] | None
    diagnostics: bool

    def __call__(self, run: RunTask, data: Datasets, report: Report, node: str = "") -> RunEvent:
        return train_run(
            run, data, report, command=self.command, diagnostics=self.diagnostics, node=node
        )


def run_devices(device: str, jobs: int, runs_per_gpu: int) -> list[str]:
    """The device of each of the at most ``jobs`` runs at once on this machine: the CPU's
    runs share it (each with its own thread count); on CUDA, ``runs_per_gpu`` runs per GPU,
    spread over every GPU (``cuda:N``: that GPU only)."""
    from gcnn_viewer.training.loop import resolve_device

    resolved = resolve_device(device)
    if resolved.type != "cuda":
        return [device] * jobs
    import torch

    gpus = [resolved.index] if resolved.index is not None else range(torch.cuda.device_count())
    slots = [f"cuda:{g}" for _ in range(runs_per_gpu) for g in gpus]
    return slots[:jobs]


class ManyRuns:
    """Runs several :class:`RunTask`s at once; iterate for their :class:`RunEvent`s.

    ``backend`` is a :class:`LocalProcesses` (``--jobs``) or a :class:`RayTasks` (``--ray``).
    ``worker`` trains one run in the worker process (default :func:`train_run`); a test may
    pass its own, importable by name."""

    def __init__(self, runs: list[RunTask], backend: Any, *, worker: Worker) -> None:
        self.runs = list(runs)
        self.backend = backend
        self.worker = worker
        self.stopping = False
        self.failed: list[RunEvent] = []
        self.finished: list[RunEvent] = []

    def stop(self) -> None:
        """Ask every active run to save at its next step boundary and end; start no more."""
        self.stopping = True
        self.backend.stop()

    def kill(self) -> None:
        """End every worker now (the second Ctrl-C): each keeps its last checkpoint."""
        self.stopping = True
        self.backend.kill()

    def __iter__(self) -> Iterator[RunEvent]:
        pending: deque[RunTask] = deque(self.runs)
        retries: dict[str, int] = {}
        try:
            while pending or self.backend.active:
                while pending and self.backend.free and not self.stopping:
                    self.backend.start(pending.popleft(), self.worker)
                for event in self.backend.events(timeout=0.2):
                    if event.kind == "retry":
                        used = retries.get(event.run.path, 0)
                        if self.stopping:  # ended by kill(): its last checkpoint stays
                            event = replace(event, kind="stopped")
                        elif used < self.backend.retries:
                            retries[event.run.path] = used + 1
                            pending.appendleft(event.run)
                            yield event
                            continue
                        else:
                            event = replace(event, kind="failed")
                    if event.kind == "failed":
                        self.failed.append(event)
                    elif event.kind == "done":
                        self.finished.append(event)
                    yield event
                if self.stopping and not self.backend.active:
                    break
        finally:
            self.backend.close()


def _child(
    worker: Worker, data: Datasets, conn: Connection, stop: Any
) -> None:  # pragma: no cover  (runs in the spawned process; the tests see what it sends)
    """A worker process: trains the runs it is sent, one after another, until told to end."""
    # Ctrl-C in a terminal reaches every process of the group: the driver decides what it
    # means (save and stop, through ``stop``), so a worker never dies of it mid-write
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def report(event: RunEvent) -> bool:
        conn.send(event)
        return stop.is_set()

    while True:
        try:
            run = conn.recv()
        except (EOFError, OSError):
            run = None
        if run is None:  # every checkpoint is on disk (fsync'ed): skip the second-long teardown
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    stream.flush()
            os._exit(0)
        conn.send(worker(run, data, report))


def _context() -> Any:
    """Worker processes start fresh: from a fork server that has imported torch and this
    package once (each worker then starts in milliseconds, not seconds) where the platform
    has one, else spawned. Never a plain fork of the driver: its threads and any device
    state would be copied half-made."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


@dataclass
class _Slot:
    """One worker process of :class:`LocalProcesses` and the run it has (None: idle)."""

    device: str
    process: Any = None
    conn: Connection | None = None
    run: RunTask | None = None
    exitcode: int | None = None  # the last process's, once it has ended


class LocalProcesses:
    """Up to ``len(devices)`` runs at once, each slot a worker process of its own (a fresh
    one, so nothing of the driver's torch state leaks into a run: :func:`_context`), started
    on first use and given one run after another; one that dies is replaced."""

    def __init__(self, data: Datasets, devices: list[str], retries: int = DEFAULT_RETRIES):
        if not devices:
            raise ConfigError("no device to run on")
        self.data = data
        self.retries = retries
        self._context = _context()
        self._stop = self._context.Event()
        self._slots = [_Slot(device) for device in devices]

    @property
    def active(self) -> int:
        return sum(slot.run is not None for slot in self._slots)

    @property
    def free(self) -> bool:
        return self.active < len(self._slots)

    def start(self, run: RunTask, worker: Worker) -> None:
        slot = next(s for s in self._slots if s.run is None)
        if slot.process is None:
            slot.conn, theirs = self._context.Pipe()
            slot.process = self._context.Process(
                target=_child, args=(worker, self.data, theirs, self._stop), daemon=True
            )
            slot.process.start()
            theirs.close()  # the child holds its own copy: EOF here once it is gone
        slot.run = replace(run, device=slot.device)
        with contextlib.suppress(OSError):  # it died while idle: EOF in events() says so
            slot.conn.send(slot.run)

    def events(self, timeout: float) -> Iterator[RunEvent]:
        busy = {s.conn: s for s in self._slots if s.run is not None}
        for conn in wait(list(busy), timeout=timeout):
            slot = busy[conn]
            try:
                event = conn.recv()
            except (EOFError, OSError):  # gone without its last word: the worker died
                run = slot.run
                self._bury(slot)
                yield RunEvent(run, "retry", message=_death(slot.exitcode))
                continue
            if event.kind in TERMINAL:
                slot.run = None
            yield event

    def _bury(self, slot: _Slot) -> None:
        slot.conn.close()
        slot.process.join()
        slot.exitcode = slot.process.exitcode
        slot.process = slot.conn = slot.run = None

    def stop(self) -> None:
        self._stop.set()

    def kill(self) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.kill()

    def close(self) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.run is None:
                with contextlib.suppress(OSError):
                    slot.conn.send(None)  # an idle worker ends by itself
        for slot in self._slots:
            if slot.process is not None:
                slot.process.join(timeout=10 if slot.run is None else 0)
                if slot.process.is_alive():
                    slot.process.kill()
                self._bury(slot)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"its worker process was killed ({name})"
    return f"its worker process ended without a result (exit status {exitcode})"


# -- Ray -------------------------------------------------------------------------------------
def connect_ray(address: str) -> bool:
    """Connect to a Ray cluster: ``auto`` (the one ``ray start`` runs here), an address
    (``HOST:PORT`` or ``ray://HOST:PORT``), or ``local`` (a cluster started for this command).
    Returns whether this call connected (and so :func:`disconnect_ray` should end it); a
    process already connected keeps its connection. Ray missing is one line."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray needs Ray: pip install 'gcnn-viewer[ray]' (or pip install ray)"
        ) from None
    if ray.is_initialized():
        return False
    import logging

    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address == "local":
            ray.init(include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"--ray {address}: cannot connect ({first_line(exc)})") from None
    return True


def disconnect_ray() -> None:
    import ray

    ray.shutdown()


class RayTasks:
    """Each run a Ray task with its resources declared: ``num_cpus`` its thread count and,
    on GPUs, ``1 / runs_per_gpu`` of one. Ray places the tasks on the cluster's nodes and
    starts a task again when its worker dies (``max_retries``); the task resumes from the
    run's checkpoint, which it reads and writes in the shared runs' folder. The data go to
    the object store once and are shared by every task of a node."""

    def __init__(
        self,
        data: Datasets,
        *,
        device: str = "auto",
        runs_per_gpu: int = DEFAULT_RUNS_PER_GPU,
        retries: int = DEFAULT_RETRIES,
        max_active: int | None = None,
    ) -> None:
        import ray

        self.ray = ray
        self.retries = retries  # Ray's max_retries: the driver never retries a Ray task
        self.device, self.gpu = _ray_device(ray, device, runs_per_gpu)
        self.max_active = max_active or 1_000_000  # Ray queues the rest itself
        self._data = ray.put(data)
        self._remote = ray.remote(_ray_run)
        self._board = ray.remote(num_cpus=0)(_Board).remote()
        self._live: dict[Any, RunTask] = {}  # object ref: run

    @property
    def active(self) -> int:
        return len(self._live)

    @property
    def free(self) -> bool:
        return len(self._live) < self.max_active

    def start(self, run: RunTask, worker: Worker) -> None:
        task = self._remote.options(
            num_cpus=run.threads,
            num_gpus=self.gpu,
            max_retries=self.retries,
            retry_exceptions=False,  # a run's own failure is reported, not repeated
            name=f"gcnn-viewer {run.label}",
        )
        run = replace(run, device=self.device)
        self._live[task.remote(worker, run, self._data, self._board)] = run

    def events(self, timeout: float) -> Iterator[RunEvent]:
        ray = self.ray
        if not self._live:
            return
        done, _ = ray.wait(list(self._live), num_returns=len(self._live), timeout=timeout)
        yield from ray.get(self._board.take.remote())
        for ref in done:
            run = self._live.pop(ref)
            try:
                yield ray.get(ref)
            except ray.exceptions.TaskCancelledError:  # kill(): its last checkpoint stays
                yield RunEvent(run, "stopped", message="ended at once")
            except ray.exceptions.RayError as exc:  # its worker died more than retries times
                yield RunEvent(run, "failed", message=_ray_failure(exc, self.retries))

    def stop(self) -> None:
        self._board.stop.remote()

    def kill(self) -> None:
        for ref in self._live:
            self.ray.cancel(ref, force=True)

    def close(self) -> None:
        self.kill()
        self._live.clear()
        self.ray.kill(self._board)


def _ray_failure(exc: BaseException, retries: int) -> str:
    text = " ".join(str(exc).split())
    reason = "its worker died" if "died" in text or "crash" in text.lower() else first_line(exc)
    return f"{reason} (tried {retries + 1} times)"


def _ray_device(ray: Any, device: str, runs_per_gpu: int) -> tuple[str, float]:
    """The device every task uses and the GPU fraction it asks for. Ray gives a task its GPU
    as the only visible one, so a task's device is ``cuda``, never ``cuda:N``."""
    if device == "cpu" or device.startswith("mps"):
        return device, 0.0
    has_gpu = ray.cluster_resources().get("GPU", 0) > 0
    if device.startswith("cuda") and not has_gpu:
        raise ConfigError(f"--device {device}: the Ray cluster has no GPU")
    if device == "auto" and not has_gpu:
        return "cpu", 0.0
    return "cuda", 1.0 / runs_per_gpu


class _Board:
    """A Ray actor: the runs' progress on its way to the driver, and the driver's stop."""

    def __init__(self) -> None:
        self.posted: list[RunEvent] = []
        self.stopping = False

    def post(self, event: RunEvent) -> bool:
        self.posted.append(event)
        return self.stopping

    def take(self) -> list[RunEvent]:
        posted, self.posted = self.posted, []
        return posted

    def stop(self) -> None:
        self.stopping = True


def _ray_run(worker: Worker, run: RunTask, data: Datasets, board: Any) -> RunEvent:
    """One run as a Ray task (in a Ray worker process)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    last = {"asked": 0.0, "stopping": False}

    def report(event: RunEvent) -> bool:
        # the board's answer is waited for at most once a second: the stop is seen within
        # about a second, and a run never waits on the driver between two records
        reply = board.post.remote(event)
        now = time.monotonic()
        if event.kind == "started" or now - last["asked"] >= 1.0:
            last["asked"], last["stopping"] = now, ray.get(reply)
        return last["stopping"]

    return worker(run, _writable(data), report, node)


def _writable(data: Datasets) -> Datasets:
    """The object store's arrays are read-only: copies torch can take without a warning."""
    import numpy as np

    def own(split):
        return None if split is None else tuple(np.array(a) for a in split)

    return replace(data, train=own(data.train), valid=own(data.valid), test=own(data.test))


def default_jobs() -> int:
    """The cores this process may use (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1

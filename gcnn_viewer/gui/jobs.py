"""One background thread for a family of jobs, latest wins: the export dialog's previews and
exports (:mod:`gcnn_viewer.gui.export_runner`) and the analysis views' measurements
(:mod:`gcnn_viewer.gui.analysis_views`) each run on one.

A job is called as ``job(progress, cancelled)`` — the Qt-free core's own callbacks — and its
result or one-line error comes back in a queued signal. Each job has a kind (``"preview"``,
``"export"``, ``"accuracy"`` …) with a mailbox of one: a new job replaces one of its kind that
is waiting and tells a running one to stop. Never touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6 import QtCore

from gcnn_viewer.errors import first_line

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class JobThread(QtCore.QThread):
    """``finishedJob(kind, seq, result)``, ``failedJob(kind, seq, line)``,
    ``cancelledJob(kind, seq)``, ``progressed(kind, seq, done, total)``.

    ``cancelled_errors``: the exceptions a job raises when it stops on request, or a function
    that returns them (called on this thread: their modules may import torch, which the
    window does not load before it is shown).
    ``first``: kinds taken before any other waiting job. ``finish_when_cancelled``: emit the
    result of a job that returned although cancelled meanwhile (an export that returned has
    written its file); otherwise such a result is dropped. ``torch_threads``: torch's threads
    on this thread (1: the other core stays with the GUI on a 2-core CPU).
    """

    finishedJob = QtCore.Signal(str, int, object)
    failedJob = QtCore.Signal(str, int, str)
    cancelledJob = QtCore.Signal(str, int)
    progressed = QtCore.Signal(str, int, int, int)

    def __init__(
        self,
        name: str,
        *,
        cancelled_errors: (
            tuple[type[BaseException], ...] | Callable[[], tuple[type[BaseException], ...]]
        ) = (),
        first: Sequence[str] = (),
        finish_when_cancelled: bool = False,
        torch_threads: int = 1,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.cancelled_errors = cancelled_errors
        self.first = tuple(first)
        self.finish_when_cancelled = finish_when_cancelled
        self.torch_threads = torch_threads
        self._cv = threading.Condition()
        self._pending: dict[str, tuple[int, Job]] = {}
        self._latest: dict[str, int] = {}  # the seq still wanted per kind; -1: cancelled
        self._running: tuple[str, int] | None = None
        self._closed = False
        self._seq = 0

    def submit(self, kind: str, job: Job) -> int:
        """Queue ``job``; a job of the same kind waiting or running is no longer wanted.
        Returns its sequence number (-1 once the thread was stopped)."""
        with self._cv:
            if self._closed:
                return -1
            self._seq += 1
            self._pending[kind] = (self._seq, job)
            self._latest[kind] = self._seq
            self._cv.notify_all()
            seq = self._seq
        if not self.isRunning():
            self.start()
        return seq

    def cancel(self, kind: str) -> None:
        """Drop a waiting job of ``kind`` and tell a running one to stop."""
        with self._cv:
            self._pending.pop(kind, None)
            self._latest[kind] = -1

    def busy(self, kind: str | None = None) -> bool:
        """A job (of ``kind``, or of any kind) is waiting or running."""
        with self._cv:
            if kind is None:
                return self._running is not None or bool(self._pending)
            return kind in self._pending or (self._running is not None and self._running[0] == kind)

    def idle(self) -> bool:
        """No job running or waiting."""
        return not self.busy()

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and end the thread (a running job stops at its next check)."""
        with self._cv:
            self._closed = True
            self._pending.clear()
            self._latest.clear()
            self._cv.notify_all()
        return self.wait(timeout_ms) if self.isRunning() else True

    def _next(self) -> str:
        return next((k for k in self.first if k in self._pending), next(iter(self._pending)))

    def run(self) -> None:
        import torch  # here: the window is shown before torch is imported

        torch.set_num_threads(self.torch_threads)
        if callable(self.cancelled_errors):
            self.cancelled_errors = self.cancelled_errors()
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed or bool(self._pending))
                if self._closed:
                    return
                kind = self._next()
                seq, job = self._pending.pop(kind)
                self._running = (kind, seq)

            def cancelled(kind: str = kind, seq: int = seq) -> bool:
                return self._closed or self._latest.get(kind) != seq

            def progress(done: int, total: int, kind: str = kind, seq: int = seq) -> None:
                self.progressed.emit(kind, seq, int(done), int(total))

            try:
                result = job(progress, cancelled)
            except self.cancelled_errors:
                self.cancelledJob.emit(kind, seq)
                continue
            except Exception as exc:  # noqa: BLE001  a failing job must not end the thread
                self.failedJob.emit(kind, seq, first_line(exc))
                continue
            finally:
                with self._cv:
                    self._running = None
            if self.finish_when_cancelled or not cancelled():
                self.finishedJob.emit(kind, seq, result)

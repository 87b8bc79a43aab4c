"""One background thread for a family of jobs, latest wins: the export dialog's previews and
exports (:mod:`gcnn_viewer.gui.export_runner`) and the analysis views' measurements
(:mod:`gcnn_viewer.gui.analysis_views`) each run on one.

A job is called as ``job(progress, cancelled)`` — the Qt-free core's own callbacks.
:meth:`JobThread.submit` returns a :class:`JobHandle` whose own signals bring that job's
progress, result, one-line error or cancellation to the GUI thread: whoever submitted a job
listens to it alone. Each job has a kind (``"preview"``, ``"export"``, ``"accuracy"`` …) with
a mailbox of one: a new job replaces one of its kind that is waiting and tells a running one
to stop; the replaced job's handle reports nothing more. Never touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6 import QtCore

from gcnn_viewer.errors import first_line

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class JobHandle(QtCore.QObject):
    """One submitted job. On the GUI thread, exactly one of ``finished(result)``,
    ``failed(line)`` or ``cancelled()`` ends it, after any ``progressed(done, total)`` —
    unless a newer job of its kind replaced it, or its thread stopped: then it reports
    nothing more. :meth:`cancel` asks it to stop (a waiting job never starts)."""

    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    progressed = QtCore.Signal(int, int)

    def __init__(self, thread: JobThread, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._thread = thread
        self.cancel_requested = False
        self.ended = False  # it reported its end (or never will: replaced, stopped)

    def cancel(self) -> None:
        self._thread._cancel(self)


class JobThread(QtCore.QThread):
    """Runs submitted jobs one at a time; each reports through its :class:`JobHandle`.

    ``cancelled_errors``: the exceptions a job raises when it stops on request, or a function
    that returns them (called on this thread: their modules may import torch, which the
    window does not load before it is shown).
    ``first``: kinds taken before any other waiting job. ``finish_when_cancelled``: report
    the result of a job that returned although cancelled meanwhile (an export that returned
    has written its file); otherwise it reports ``cancelled``. ``torch_threads``: torch's
    threads on this thread (1: the other core stays with the GUI on a 2-core CPU).
    """

    # (handle, "progress" | "finished" | "failed" | "cancelled", payload): from this thread
    # to the GUI thread, where _deliver hands it to the handle if it is still wanted
    _report = QtCore.Signal(object, str, object)

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
        self._pending: dict[str, tuple[JobHandle, Job]] = {}
        self._current: dict[str, JobHandle] = {}  # the latest job of each kind
        self._running: JobHandle | None = None
        self._closed = False
        self._report.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    def submit(self, kind: str, job: Job) -> JobHandle:
        """Queue ``job``; a job of the same kind waiting or running is no longer wanted (its
        handle falls silent). Once the thread was stopped the handle never reports."""
        handle = JobHandle(self, kind)
        with self._cv:
            if self._closed:
                handle.ended = True
                return handle
            self._pending[kind] = (handle, job)
            self._current[kind] = handle
            self._cv.notify_all()
        if not self.isRunning():
            self.start()
        return handle

    def cancel(self, kind: str) -> None:
        """Cancel the latest job of ``kind`` (:meth:`JobHandle.cancel`), if there is one."""
        handle = self._current.get(kind)
        if handle is not None:
            handle.cancel()

    def _cancel(self, handle: JobHandle) -> None:
        """Drop ``handle``'s job if it waits (it reports ``cancelled``), else tell it to stop."""
        with self._cv:
            if handle.ended or handle.cancel_requested:
                return
            handle.cancel_requested = True
            waiting = self._pending.get(handle.kind, (None,))[0] is handle
            if waiting:
                del self._pending[handle.kind]
        if waiting:
            self._report.emit(handle, "cancelled", None)

    def busy(self, kind: str | None = None) -> bool:
        """A job (of ``kind``, or of any kind) is waiting or running."""
        with self._cv:
            running = self._running
            if kind is None:
                return running is not None or bool(self._pending)
            return kind in self._pending or (running is not None and running.kind == kind)

    def idle(self) -> bool:
        """No job running or waiting."""
        return not self.busy()

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and end the thread (a running job stops at its next check)."""
        with self._cv:
            self._closed = True
            self._pending.clear()
            self._current.clear()
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
                handle, job = self._pending.pop(self._next())
                self._running = handle
            try:
                result = job(self._progress_of(handle), self._cancelled_of(handle))
                what, payload = "finished", result
            except self.cancelled_errors:
                what, payload = "cancelled", None
            except Exception as exc:  # noqa: BLE001  a failing job must not end the thread
                what, payload = "failed", first_line(exc)
            with self._cv:
                self._running = None  # before the report: busy() is over when it arrives
            self._report.emit(handle, what, payload)

    def _cancelled_of(self, handle: JobHandle) -> Callable[[], bool]:
        def cancelled() -> bool:
            return (
                self._closed
                or handle.cancel_requested
                or self._current.get(handle.kind) is not handle
            )

        return cancelled

    def _progress_of(self, handle: JobHandle) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            self._report.emit(handle, "progress", (int(done), int(total)))

        return progress

    def _deliver(self, handle: JobHandle, what: str, payload: object) -> None:
        """On the GUI thread: hand a report to its handle, unless a newer job of its kind
        replaced it, the thread stopped, or it has ended already."""
        if handle.ended or self._current.get(handle.kind) is not handle:
            handle.ended = True
            return
        if what == "progress":
            if not handle.cancel_requested:
                handle.progressed.emit(*payload)  # type: ignore[misc]
            return
        if what == "finished" and handle.cancel_requested and not self.finish_when_cancelled:
            what = "cancelled"  # returned although cancelled: its result is not wanted
        handle.ended = True
        if what == "finished":
            handle.finished.emit(payload)
        elif what == "failed":
            handle.failed.emit(payload)
        else:
            handle.cancelled.emit()

"""The Export dialog's thread: previews and exports run here, never on the GUI thread.

One QThread with a mailbox per job kind (``"preview"``, ``"export"``): a new preview replaces
one that is waiting, an export is cancelled by :meth:`ExportRunner.cancel`. Jobs are called
as ``job(progress, cancelled)`` (the Qt-free render functions' own callbacks); results and
one-line errors come back as queued signals. Never touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import torch
from PySide6 import QtCore

from gcnn_viewer.errors import first_line
from gcnn_viewer.export.common import ExportCancelled

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]
RUNNER_THREADS = 1  # torch threads for exports: the other core stays with the GUI (2-core CPU)


class ExportRunner(QtCore.QThread):
    """``finishedJob(kind, seq, result)``, ``failedJob(kind, seq, line)``,
    ``cancelledJob(kind, seq)``, ``progressed(kind, seq, done, total)``."""

    finishedJob = QtCore.Signal(str, int, object)
    failedJob = QtCore.Signal(str, int, str)
    cancelledJob = QtCore.Signal(str, int)
    progressed = QtCore.Signal(str, int, int, int)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gcnn-viewer export")
        self._cv = threading.Condition()
        self._pending: dict[str, tuple[int, Job]] = {}
        self._latest: dict[str, int] = {}  # the seq still wanted per kind; -1: cancelled
        self._running: tuple[str, int] | None = None
        self._closed = False
        self._seq = 0

    def submit(self, kind: str, job: Job) -> int:
        """Queue ``job``; a job of the same kind waiting or running is no longer wanted."""
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
        with self._cv:
            if kind is None:
                return self._running is not None or bool(self._pending)
            return kind in self._pending or (self._running is not None and self._running[0] == kind)

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and end the thread (a running export stops at its next check)."""
        with self._cv:
            self._closed = True
            self._pending.clear()
            self._latest.clear()
            self._cv.notify_all()
        return self.wait(timeout_ms) if self.isRunning() else True

    def run(self) -> None:
        torch.set_num_threads(RUNNER_THREADS)
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed or bool(self._pending))
                if self._closed:
                    return
                # an export first: a preview waiting behind it is about a dialog that closed
                kind = "export" if "export" in self._pending else next(iter(self._pending))
                seq, job = self._pending.pop(kind)
                self._running = (kind, seq)

            def cancelled(kind: str = kind, seq: int = seq) -> bool:
                return self._closed or self._latest.get(kind) != seq

            def progress(done: int, total: int, kind: str = kind, seq: int = seq) -> None:
                self.progressed.emit(kind, seq, int(done), int(total))

            try:
                result = job(progress, cancelled)
            except ExportCancelled:
                self.cancelledJob.emit(kind, seq)
                continue
            except Exception as exc:  # noqa: BLE001  a failing job must not end the thread
                self.failedJob.emit(kind, seq, first_line(exc))
                continue
            finally:
                with self._cv:
                    self._running = None
            # even when cancelled meanwhile: an export that returned has written its file
            self.finishedJob.emit(kind, seq, result)

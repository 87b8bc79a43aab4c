"""The inference worker: one QThread that runs the scheduler's work, latest request first."""

from __future__ import annotations

from PySide6 import QtCore

from gcnn_viewer.errors import first_line
from gcnn_viewer.viewer.inference import FrameResult, InferenceScheduler, SweepResult, work_once

INFERENCE_THREADS = 1  # single images are too small to split; threads only contend (2-core CPU)


class InferenceWorker(QtCore.QThread):
    """Runs :func:`work_once` until the scheduler closes.

    Results are emitted as plain Python objects holding detached numpy arrays; Qt queues them
    to the GUI thread. Never touches a widget.
    """

    frameReady = QtCore.Signal(object)  # FrameResult
    sweepReady = QtCore.Signal(object)  # SweepResult
    failed = QtCore.Signal(str)  # one line

    def __init__(self, scheduler: InferenceScheduler, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.scheduler = scheduler
        self.setObjectName("gcnn-viewer inference")

    def run(self) -> None:
        import torch  # here: the window is shown before torch is imported

        torch.set_num_threads(INFERENCE_THREADS)  # per thread under OpenMP: the GUI's own
        while True:
            try:
                out = work_once(self.scheduler)
            except Exception as exc:  # noqa: BLE001  a model that fails must not end the thread
                self.failed.emit(f"inference failed: {first_line(exc)}")
                continue
            if out is None:
                if self.scheduler.closed:
                    return
            elif isinstance(out, FrameResult):
                self.frameReady.emit(out)
            elif isinstance(out, SweepResult):
                self.sweepReady.emit(out)

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Close the scheduler and wait for the thread to end (call before teardown)."""
        self.scheduler.close()
        return self.wait(timeout_ms)

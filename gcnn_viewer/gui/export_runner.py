"""The Export dialog's thread: previews and exports run here, never on the GUI thread.

A :class:`~gcnn_viewer.gui.jobs.JobThread` with two kinds of job, ``"preview"`` and
``"export"``: a new preview replaces one that is waiting, an export is taken before a waiting
preview, and cancelling it (its handle's ``cancel``) ends in the handle's ``cancelled``.
"""

from __future__ import annotations

from PySide6 import QtCore

from gcnn_viewer.gui.jobs import JobThread

RUNNER_THREADS = 1  # torch threads for exports: the other core stays with the GUI (2-core CPU)


def _cancelled_errors() -> tuple[type[BaseException], ...]:
    from gcnn_viewer.export.common import ExportCancelled  # (torch: on the runner's thread)

    return (ExportCancelled,)


class ExportRunner(JobThread):
    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(
            "gcnn-viewer export",
            cancelled_errors=_cancelled_errors,
            # an export first: a preview waiting behind it is about a dialog that closed
            first=("export",),
            # even when cancelled meanwhile: an export that returned has written its file
            finish_when_cancelled=True,
            torch_threads=RUNNER_THREADS,
            parent=parent,
        )

"""gui/jobs.py: each submitted job reports through its own handle, latest wins per kind.

A job's reports reach the GUI thread in the order they were made, so once a later job's
end has arrived, everything an earlier job reported has arrived too.
"""

from __future__ import annotations

import threading

import pytest

from gcnn_viewer.gui.jobs import JobThread

TIMEOUT_MS = 30_000


class Stop(Exception):
    """What the test jobs raise when told to stop."""


class Recorder:
    def __init__(self, handle) -> None:
        self.events: list[tuple] = []
        handle.finished.connect(lambda result: self.events.append(("finished", result)))
        handle.failed.connect(lambda line: self.events.append(("failed", line)))
        handle.cancelled.connect(lambda: self.events.append(("cancelled",)))
        handle.progressed.connect(lambda done, total: self.events.append(("progress", done)))

    def ends(self) -> list[tuple]:
        return [e for e in self.events if e[0] != "progress"]


@pytest.fixture
def thread(qtbot):
    jobs = JobThread("test jobs", cancelled_errors=(Stop,), finish_when_cancelled=True)
    yield jobs
    jobs.stop()


def held(gate: threading.Event, started: threading.Event | None = None, result="held"):
    """A job that waits for ``gate`` and then returns ``result`` (whether cancelled or not)."""

    def job(progress, cancelled):
        if started is not None:
            started.set()
        assert gate.wait(TIMEOUT_MS / 1000)
        return result

    return job


def test_a_superseded_job_never_reports_a_result(qtbot, thread):
    gate, started = threading.Event(), threading.Event()
    running = thread.submit("k", held(gate, started, "old"))
    assert started.wait(TIMEOUT_MS / 1000)
    waiting = thread.submit("k", lambda p, c: "never run")
    latest = thread.submit("k", lambda p, c: "new")
    first, second, third = Recorder(running), Recorder(waiting), Recorder(latest)
    with qtbot.waitSignal(latest.finished, timeout=TIMEOUT_MS) as done:
        gate.set()  # the running one returns "old", although it was told to stop
    assert done.args == ["new"]
    # (finish_when_cancelled: a cancelled job's result would be reported; a replaced one's not)
    assert first.events == [] and second.events == []
    assert third.ends() == [("finished", "new")]


def test_a_cancelled_job_reports_cancelled(qtbot, thread):
    gate, started = threading.Event(), threading.Event()
    blocker = thread.submit("other", held(gate, started))
    assert started.wait(TIMEOUT_MS / 1000)

    def stops(progress, cancelled):
        progress(1, 2)
        while not cancelled():
            threading.Event().wait(0.005)
        raise Stop

    waiting = thread.submit("waiting", lambda p, c: "never run")
    stopping = thread.submit("stopping", stops)
    waits, stopped, blocked = Recorder(waiting), Recorder(stopping), Recorder(blocker)
    with qtbot.waitSignal(waiting.cancelled, timeout=TIMEOUT_MS):
        waiting.cancel()  # never starts
    gate.set()
    qtbot.waitUntil(lambda: bool(stopped.events), timeout=TIMEOUT_MS)  # it runs, reports progress
    with qtbot.waitSignal(stopping.cancelled, timeout=TIMEOUT_MS):
        thread.cancel("stopping")
    assert waits.events == [("cancelled",)]
    assert stopped.events == [("progress", 1), ("cancelled",)]
    assert blocked.ends() == [("finished", "held")]


def test_a_job_that_returns_although_cancelled_reports_cancelled(qtbot):
    thread = JobThread("test jobs", cancelled_errors=(Stop,))  # results of cancelled: dropped
    try:
        gate, started = threading.Event(), threading.Event()
        handle = thread.submit("k", held(gate, started))
        recorder = Recorder(handle)
        assert started.wait(TIMEOUT_MS / 1000)
        handle.cancel()
        with qtbot.waitSignal(handle.cancelled, timeout=TIMEOUT_MS):
            gate.set()
        assert recorder.events == [("cancelled",)]
    finally:
        thread.stop()


def test_a_failing_job_reports_one_line_and_the_thread_goes_on(qtbot, thread):
    def fails(progress, cancelled):
        raise ValueError("bad value\nsecond line")

    failing = thread.submit("a", fails)
    recorder = Recorder(failing)
    with qtbot.waitSignal(failing.failed, timeout=TIMEOUT_MS) as failed:
        pass
    assert failed.args == ["bad value"] and recorder.ends() == [("failed", "bad value")]
    after = thread.submit("a", lambda p, c: 7)
    with qtbot.waitSignal(after.finished, timeout=TIMEOUT_MS) as done:
        pass
    assert done.args == [7]


def test_a_job_submitted_after_stop_never_reports(qtbot):
    thread = JobThread("test jobs")
    thread.stop()
    handle = thread.submit("k", lambda p, c: 1)
    assert handle.ended and not thread.isRunning()


@pytest.mark.parametrize("ending", ["finished", "failed", "cancelled"])
def test_when_a_job_reports_its_end_the_thread_is_no_longer_busy_with_it(qtbot, thread, ending):
    def job(progress, cancelled):
        if ending == "failed":
            raise ValueError("failed")
        if ending == "cancelled":
            raise Stop
        return 1

    for _ in range(20):  # (a Close clicked after "cancelled" closes the dialog: not busy)
        handle = thread.submit("k", job)
        seen: list[bool] = []
        getattr(handle, ending).connect(lambda *_, seen=seen: seen.append(thread.busy("k")))
        qtbot.waitUntil(lambda seen=seen: bool(seen), timeout=TIMEOUT_MS)
        assert seen == [False]

"""The one atomic writer (gcnn_viewer.data.files) on its own: what a destination decides, what
a failure leaves, which temp files are debris, and the output claim across processes. The
same guarantees through the command line: tests/test_reliability_writes.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gcnn_viewer.data.files import (
    QUIET_S,
    OutputInUse,
    atomic_path,
    claim_output,
    clean_stale_temps,
    temp_name,
    write_text,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_failure_before_the_rename_leaves_the_target_and_no_temp(tmp_path):
    target = tmp_path / "table.md"
    target.write_text("old")

    class Stop(Exception):
        pass

    def cancel() -> None:
        raise Stop

    with pytest.raises(Stop), atomic_path(target, before_commit=cancel) as tmp:
        tmp.write_text("new, complete, but cancelled")
    with pytest.raises(ZeroDivisionError), atomic_path(target) as tmp:
        tmp.write_text("half")
        1 / 0  # noqa: B018
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.md"]


def test_only_our_dead_writers_temp_files_are_removed(tmp_path):
    """Debris is a temp file named as temp_name names them whose writer is gone and which
    has been quiet for a minute; a live writer's, a fresh one and a user's look-alike stay."""
    old = time.time() - QUIET_S - 5
    dead = tmp_path / f".fig.png.999999999.{'a' * 32}.tmp"  # beyond any pid_max
    live = temp_name(tmp_path / "other.png", "tmp")  # this process: alive
    fresh = tmp_path / f".x.png.999999998.{'b' * 32}.tmp"
    user = tmp_path / ".notes.txt.tmp"  # not our name
    for path in (dead, live, fresh, user):
        path.write_bytes(b"partial")
    for path in (dead, live, user):
        os.utime(path, (old, old))
    assert clean_stale_temps(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, fresh.name, user.name])


HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from gcnn_viewer.data.files import claim_output
with claim_output({out!r}):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_claim_holds_across_processes_and_dies_with_its_holder(tmp_path):
    out = tmp_path / "run.pt"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(ROOT), out=str(out))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputInUse, match=rf"pid {holder.pid}\)"), claim_output(out):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)  # no clean-up: its lock file stays behind
        holder.wait(timeout=60)
    assert (tmp_path / ".run.pt.lock").exists()
    with claim_output(out) as target:  # the dead holder's lock is no obstacle
        write_text(target, "mine")
    assert out.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # and the lock is gone

"""Safe writes: temp file next to the target, fsync, atomic rename; stale temp files removed.

Every file gcnn-viewer writes (checkpoints, the MNIST files, MNIST-rot) is first written to a
hidden temp file in the destination folder whose name carries the writer's PID, flushed to the
disk (``fsync``) and only then renamed over the target (``os.replace``, atomic on POSIX and
Windows). A crash or SIGKILL therefore leaves the previous file intact and at most a stray temp
file, which the next run removes once it is stale. Qt-free, no torch.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from pathlib import Path

# A temp file is stale when the process that wrote it is gone (or it is older than
# STALE_AFTER_S whoever wrote it) AND nothing has touched it for QUIET_S: a live writer on
# another machine sharing the folder keeps its file's mtime fresh while it writes.
STALE_AFTER_S = 3600.0
QUIET_S = 60.0

_PID = re.compile(r"\.(\d+)\.(?:[0-9a-f]+\.)?(?:tmp|part)$")


def temp_name(path: Path, suffix: str = "part") -> Path:
    """``DIR/.NAME.PID.UUID.SUFFIX``: hidden, unique, and naming the process that writes it."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.{suffix}")


def fsync_file(f) -> None:  # noqa: ANN001  an open binary file object
    """Push a written file's bytes to the disk, so a rename never exposes an empty file."""
    f.flush()
    os.fsync(f.fileno())


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def discard(tmp: Path) -> None:
    """Remove a temp file after a failed write without hiding the failure: on a read-only or
    vanished folder ``unlink`` itself fails, and that second error must not replace the first."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:  # (Windows: no such process)
        return False
    return True


def is_stale(tmp: Path, now: float | None = None) -> bool:
    """Whether ``tmp`` (a temp file named by :func:`temp_name` or an older scheme) is debris."""
    try:
        age = (time.time() if now is None else now) - tmp.stat().st_mtime
    except OSError:
        return False
    if age < QUIET_S:
        return False
    match = _PID.search(tmp.name)
    if age >= STALE_AFTER_S:
        return True
    return match is not None and not _pid_alive(int(match.group(1)))


def remove_stale_temps(directory: Path, pattern: str) -> list[Path]:
    """Delete the stale temp files matching ``pattern`` (a glob) in ``directory``; returns them.
    Never raises: cleaning up is a courtesy, not a reason to fail."""
    removed = []
    try:
        candidates = list(Path(directory).glob(pattern))
    except OSError:
        return removed
    for tmp in candidates:
        if tmp.is_file() and is_stale(tmp):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed

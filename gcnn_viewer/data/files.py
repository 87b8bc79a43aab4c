"""Safe writes: temp file next to the target, fsync, atomic rename; stale temp files removed.

Every file gcnn-viewer writes (checkpoints, the MNIST files, MNIST-rot, analysis caches,
exports, reproduction tables, the desktop entry) goes through :func:`atomic_path` (or its
wrappers :func:`atomic_file`, :func:`write_bytes`, :func:`write_text`): it is first written to
a hidden temp file in the destination folder whose name carries the writer's PID, flushed to
the disk (``fsync``) and only then renamed over the target (``os.replace``, atomic on POSIX and
Windows). A crash, a full disk or SIGKILL therefore leaves the previous file intact and at most
a stray temp file, which the next write into that folder removes once it is stale.

The destination decides three things (``tests/data/test_files.py``):

- a symlink is followed: the file it points to is replaced atomically, the link stays
  (not one another user made in a shared sticky folder such as /tmp: refused);
- anything but a regular file or a missing name (a FIFO, a device, a socket, a folder) is
  refused with an ``OSError`` before anything is written;
- an existing file keeps its permission bits (a 0600 file stays 0600); a new one gets
  0666 less the umask.

:func:`json_text` is the one way the project turns data into JSON (never ``NaN``), and
:func:`claim_output` makes "this output path is free" a race-free decision. Qt-free, no torch.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gcnn_viewer.errors import GcnnViewerError, describe_os_error, first_line

# A temp file is stale when the process that wrote it is gone (or it is older than
# STALE_AFTER_S whoever wrote it) AND nothing has touched it for QUIET_S: a live writer on
# another machine sharing the folder keeps its file's mtime fresh while it writes.
STALE_AFTER_S = 3600.0
QUIET_S = 60.0

_PID = re.compile(r"\.(\d+)\.(?:[0-9a-f]+\.)?(?:tmp|part)$")
# exactly what temp_name makes: safe to clean anywhere in a folder, whatever the target
_OURS = re.compile(r"^\..+\.\d+\.[0-9a-f]{32}\.(?:tmp|part)$")


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


_LEGACY = re.compile(r"\.(?:tmp|part)(?:\.[A-Za-z0-9]+)?$")  # older writers' temp names


def clean_stale_temps(directory: Path, name: str | None = None) -> list[Path]:
    """Remove the stale temp files this module's writers leave when killed (``kill -9``, a
    power cut): every file in ``directory`` named as :func:`temp_name` names them, and, for
    ``name``, the older ``.NAME.*.tmp[.ext]`` names. Never raises."""
    removed = []
    try:
        candidates = [p for p in Path(directory).iterdir() if _OURS.match(p.name)]
        if name is not None:
            prefix = f".{name}."
            candidates += [
                p
                for p in Path(directory).iterdir()
                if p.name.startswith(prefix) and _LEGACY.search(p.name) and p not in candidates
            ]
    except OSError:
        return removed
    for tmp in candidates:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(tmp.lstat().st_mode) and is_stale(tmp):
                tmp.unlink()
                removed.append(tmp)
    return removed


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_a_regular_file(path: Path | str) -> str | None:
    """What ``path`` is when it exists and is not a regular file (following symlinks), else
    None. Writers refuse such a destination instead of replacing it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def write_target(path: Path | str) -> Path:
    """The file a write to ``path`` replaces: a symlink's final target (the link itself is
    kept), else ``path``. Raises ``OSError`` (its ``strerror`` a one-line reason) when that is
    a directory, a FIFO, a device or a socket: writing would replace it with a regular file."""
    path = Path(path).expanduser()
    target = path
    if path.is_symlink():
        _check_shared_symlink(path)
        target = Path(os.path.realpath(path))
    kind = not_a_regular_file(target)
    if kind is not None:
        code = errno.EISDIR if kind == "a directory" else errno.EINVAL
        raise OSError(code, f"it is {kind}, not a regular file; refusing to replace it", str(path))
    return target


def _check_shared_symlink(link: Path) -> None:
    """Refuse a symlink someone else made in a shared sticky folder such as /tmp: following
    it would let them choose which of our files gets replaced (the rule Linux's
    ``fs.protected_symlinks`` applies to ``open``)."""
    if not hasattr(os, "geteuid"):
        return
    try:
        folder = os.stat(link.parent)
        owner = os.lstat(link).st_uid
    except OSError:
        return
    shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if shared and owner not in (os.geteuid(), folder.st_uid):
        raise OSError(
            errno.EINVAL,  # (not EPERM: its one-line text would be just "permission denied")
            "it is a symlink another user made in a shared folder; refusing to follow it",
            str(link),
        )


@contextlib.contextmanager
def atomic_path(
    path: Path | str, *, before_commit: Callable[[], None] | None = None
) -> Iterator[Path]:
    """THE way gcnn-viewer writes a file. Yields an empty temp file beside ``path``'s target
    (:func:`write_target`) for the caller to fill, by name or by opening it; when the block
    ends without an error the temp file is fsync'd, given the destination's permission bits
    (an existing file's, else 0666 less the umask), renamed over the target in one step and
    the folder fsync'd. On any error, or when ``before_commit()`` raises (a user's Cancel), the
    temp file is removed and the target is as it was. Stale temp files of killed writers in
    the folder are removed first. Errors of its own steps are ``OSError`` s; the block's
    errors propagate unchanged."""
    target = write_target(path)
    directory = target.parent
    clean_stale_temps(directory, target.name)
    try:
        keep = os.stat(target)
    except OSError:
        keep = None
    tmp = temp_name(target, "tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    except OSError as exc:
        raise _about(exc, path, tmp) from None
    os.close(fd)
    try:
        yield tmp
        if keep is not None:
            os.chmod(tmp, stat.S_IMODE(keep.st_mode))
            if hasattr(os, "chown"):
                with contextlib.suppress(OSError):  # only root or the group's members may
                    os.chown(tmp, keep.st_uid, keep.st_gid)
        fd = os.open(tmp, os.O_RDWR)
        try:
            os.fsync(fd)  # the bytes reach the disk before the name points at them
        finally:
            os.close(fd)
        if before_commit is not None:
            before_commit()
        if not_a_regular_file(target) is not None:  # became a FIFO/device while we wrote
            write_target(target)
        os.replace(tmp, target)
    except OSError as exc:
        discard(tmp)
        raise _about(exc, path, tmp) from None
    except BaseException:
        discard(tmp)
        raise
    fsync_dir(directory)


def _about(exc: OSError, path: Path | str, tmp: Path) -> OSError:
    """``exc`` naming the destination the user gave (not our temp file, not nothing: a full
    disk's ``write`` names no file), so a one-line message can say which file failed."""
    if exc.filename is not None and exc.filename not in (str(tmp), tmp):
        return exc
    if exc.errno is None:
        return OSError(errno.EIO, first_line(exc, 200), str(path))
    return OSError(exc.errno, exc.strerror or first_line(exc, 200), str(path))


@contextlib.contextmanager
def atomic_file(path: Path | str, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """:func:`atomic_path`, with the temp file open for writing (``"wb"`` or ``"w"``)."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_file writes new files: mode 'wb' or 'w', not {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as f:
        yield f
        f.flush()


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`); returns ``path``."""
    with atomic_file(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (:func:`atomic_path`); returns ``path``."""
    return write_bytes(path, text.encode(encoding))


# -- JSON ---------------------------------------------------------------------------------------
def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None (JSON ``null``: a value that
    is missing or could not be computed), numpy scalars and arrays as Python values."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if hasattr(obj, "dtype") and hasattr(obj, "tolist"):  # numpy scalar or array
        return finite(obj.tolist())
    return obj


def json_text(obj: Any, **kwargs: Any) -> str:
    """THE way gcnn-viewer turns data into JSON text: strict JSON, never ``NaN`` or
    ``Infinity`` (those become ``null``; see :func:`finite`). ``kwargs`` as ``json.dumps``."""
    return json.dumps(finite(obj), allow_nan=False, **kwargs)


# -- one writer per output ---------------------------------------------------------------------
class OutputError(GcnnViewerError):
    """An output that cannot be claimed (one line for the user)."""


class OutputInUse(OutputError):
    """Another process is writing the same output (one line for the user)."""


def _lock_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        pid = int(os.read(fd, 32).decode().strip())
        return f" (pid {pid})"
    return ""


def _acquire(lock: Path, shown: Path) -> int:
    try:
        import fcntl
    except ImportError:  # Windows: create-exclusive, a dead holder's lock is taken over
        fcntl = None
    while True:
        if fcntl is None:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                with contextlib.suppress(OSError, ValueError):
                    if not _pid_alive(int(lock.read_text().strip())):
                        lock.unlink()
                        continue
                raise OutputInUse(
                    f"{shown} is being written by another run; wait for it or choose another output"
                ) from None
        else:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when we die
            except OSError:
                holder = _lock_holder(fd)
                os.close(fd)
                raise OutputInUse(
                    f"{shown} is being written by another run{holder}; wait for it or choose "
                    "another output"
                ) from None
            try:  # the holder before us may have removed the name while we opened it
                same = os.path.samestat(os.stat(lock), os.fstat(fd))
            except OSError:
                same = False
            if not same:
                os.close(fd)
                continue
        with contextlib.suppress(OSError):  # the holder's PID, for messages; a full disk
            os.ftruncate(fd, 0)  # can still make the (empty) lock file, and the lock holds
            os.write(fd, f"{os.getpid()}\n".encode())
        return fd


@contextlib.contextmanager
def claim_output(path: Path | str) -> Iterator[Path]:
    """Hold ``path`` as this process's output while the block runs: a hidden lock file
    ``.NAME.lock`` beside it (created if need be, with its folder), locked exclusively, so
    that "is this output free?" checks made inside the block cannot race with another
    process making the same checks. A second claim raises :class:`OutputInUse` (one line).
    The lock dies with its process (``kill -9`` included); the file is removed on exit."""
    created: list[Path] = []
    try:
        target = write_target(path)
        created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = target.with_name(f".{target.name}.lock")
        fd = _acquire(lock, Path(path))
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from None
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield target
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # before closing: a waiting opener sees another inode and retries
        os.close(fd)
        _remove_empty(created)  # folders made for an output that was never written


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break

"""The project's own error types: what a user can cause and fix.

The command line prints any :class:`GcnnViewerError` as one line and exits non-zero; every other
exception is a bug and surfaces with its traceback. Qt-free and import-light on purpose (the
standard library only): every layer may import it.
"""

from __future__ import annotations

import errno


class GcnnViewerError(Exception):
    """An error the user can fix (bad path, bad value, corrupt file, missing data)."""


class ConfigError(GcnnViewerError, ValueError):
    """A setting with a bad type or value (a training option, a device, a data variant, a
    model name).

    Also a :class:`ValueError`, so Python callers that catch ``ValueError`` keep working."""


class CheckpointError(GcnnViewerError):
    """A checkpoint that cannot be used; the message is one line for the user."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of ``str(exc)``, at most ``limit`` characters; the exception's
    type name when it says nothing. For one-line messages built around foreign exceptions."""
    text = str(exc).strip().splitlines()
    return text[0].strip()[:limit] if text else type(exc).__name__


def describe_os_error(exc: OSError) -> str:
    """A short reason for a failed read or write, naming disk-full and permission problems
    plainly."""
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    if exc.strerror:
        return exc.strerror
    return first_line(exc, 120)

"""The project's own error types: what a user can cause and fix.

The command line prints any :class:`GcnnViewerError` as one line and exits non-zero; every other
exception is a bug and surfaces with its traceback. Qt-free and import-light on purpose (the
standard library only): every layer may import it.
"""

from __future__ import annotations

import errno
import math
import numbers
import reprlib
from collections.abc import Iterable


class GcnnViewerError(Exception):
    """An error the user can fix (bad path, bad value, corrupt file, missing data)."""


class ConfigError(GcnnViewerError, ValueError):
    """A setting with a bad type or value (a training option, a device, a data variant, a
    model name).

    Also a :class:`ValueError`, so Python callers that catch ``ValueError`` keep working."""


class CheckpointError(GcnnViewerError):
    """A checkpoint that cannot be used; the message is one line for the user."""


class ExportError(GcnnViewerError):
    """An export or analysis file that cannot be made as asked (bad path, model, input, layer,
    format); the message is one line for the user."""


class ExportCancelled(ExportError):
    """The user cancelled a running export; nothing was written."""


class UserModelError(GcnnViewerError):
    """A user's own model (``FILE.py:FACTORY``, ``package.module:FACTORY``, a module given to
    the Python API) that cannot be loaded or shown; the message is one line naming the spec."""


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


# -- checking what a public function is given ---------------------------------------------------
# Every public function of the package checks its arguments' types and ranges with these, so a
# bad argument is one :class:`ConfigError` (a ValueError too) with a one-line message naming
# the argument, never a ZeroDivisionError, a 36 GB allocation or a silently truncated value.
def _shown(value: object) -> str:
    return reprlib.repr(value)


def _outside(number: float, low: float | None, high: float | None) -> bool:
    return (low is not None and number < low) or (high is not None and number > high)


def _bound(low: float | None, high: float | None) -> str:
    """``">= 1"``, ``"<= 9"`` or ``"0..9"``: the range a checked value must be in."""
    return f">= {low}" if high is None else f"<= {high}" if low is None else f"{low}..{high}"


def check_int(
    value: object,
    name: str,
    low: int | None = None,
    high: int | None = None,
    error: type[GcnnViewerError] = ConfigError,
) -> int:
    """``value`` as an ``int`` in ``[low, high]``: a bool, a float (even 2.0), text or a number
    out of range is ``error`` (one line naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"{name} must be a whole number, not {_shown(value)}")
    number = int(value)
    if _outside(number, low, high):
        raise error(f"{name} must be {_bound(low, high)}, not {number}")
    return number


def check_number(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    error: type[GcnnViewerError] = ConfigError,
) -> float:
    """``value`` as a finite ``float`` in ``[low, high]``: a bool, text, NaN or infinity is
    ``error`` (one line naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"{name} must be a number, not {_shown(value)}")
    number = float(value)
    if math.isnan(number):
        raise error(f"{name} is not a number (NaN)")
    if math.isinf(number):
        raise error(f"{name} must be a finite number, not {number}")
    if _outside(number, low, high):
        raise error(f"{name} must be {_bound(low, high)}, not {number:g}")
    return number


def check_sequence(
    value: object, name: str, error: type[GcnnViewerError] = ConfigError
) -> tuple[object, ...]:
    """``value`` as a tuple: a list, tuple, range or 1-D array, never a string (``"l1"`` is
    not the layers ``l``, ``1``) nor a single number."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise error(f"{name} must be a list, not {_shown(value)}")
    if getattr(value, "ndim", 1) != 1:
        raise error(f"{name} must be a flat list, not an array of shape {value.shape}")  # type: ignore[attr-defined]
    return tuple(value)


def check_ints(
    value: object,
    name: str,
    low: int | None = None,
    high: int | None = None,
    error: type[GcnnViewerError] = ConfigError,
) -> tuple[int, ...]:
    """A list of whole numbers in ``[low, high]`` (:func:`check_sequence`, :func:`check_int`)."""
    items = check_sequence(value, name, error)
    return tuple(check_int(v, f"{name}[{i}]", low, high, error) for i, v in enumerate(items))


def check_numbers(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    error: type[GcnnViewerError] = ConfigError,
) -> tuple[float, ...]:
    """A list of finite numbers in ``[low, high]``."""
    items = check_sequence(value, name, error)
    return tuple(check_number(v, f"{name}[{i}]", low, high, error) for i, v in enumerate(items))


def check_names(
    value: object, name: str, error: type[GcnnViewerError] = ConfigError
) -> tuple[str, ...]:
    """A list of strings (layer names, model names), never one string taken letter by letter."""
    items = check_sequence(value, name, error)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise error(f"{name}[{i}] must be a name (text), not {_shown(item)}")
    return tuple(items)  # type: ignore[return-value]

"""Stored settings are untrusted input: a hand-edited, damaged or foreign settings file must
never stop the app from starting. A value this version cannot use is removed from the store
with one line on stderr, and the app goes on with the default."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

_MISSING = object()


def drop_setting(settings: QtCore.QSettings, key: str, what: str) -> None:
    """Remove ``key`` from the store and say so in one line (stderr)."""
    settings.remove(key)
    where = settings.fileName() or "the settings"
    print(
        f"gcnn-viewer: ignoring the saved {what} ({key} in {where}): not a value this version "
        "can use; the default is used instead",
        file=sys.stderr,
    )


def stored(
    settings: QtCore.QSettings, key: str, accept: Callable[[Any], bool], what: str
) -> Any | None:
    """The value stored under ``key`` when ``accept(value)`` holds; None when there is none
    or it is unusable (then it is dropped: :func:`drop_setting`)."""
    try:
        value = settings.value(key, _MISSING)
    except Exception:  # noqa: BLE001  a value PySide cannot convert: as unusable as any other
        value = None
    if value is _MISSING:
        return None
    try:
        usable = value is not None and bool(accept(value))
    except Exception:  # noqa: BLE001
        usable = False
    if not usable:
        drop_setting(settings, key, what)
        return None
    return value


def is_bytes(value: Any) -> bool:
    """A saved geometry, layout or splitter state: bytes as Qt gave them."""
    return isinstance(value, (QtCore.QByteArray, bytes, bytearray))


def is_text(value: Any) -> bool:
    return isinstance(value, str) and "\0" not in value

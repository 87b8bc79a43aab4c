"""The view options a session keeps, read back from an untrusted store. Qt-free:
:mod:`gcnn_viewer.gui.session` reads and writes them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gcnn_viewer.viewer.drawing import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH


def as_bool(value: Any) -> bool:
    """A boolean as QSettings gives it back: INI files return "true" / "false" strings."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass
class ViewSettings:
    """The view options a session keeps: stabilised view, brush, the models shown.

    Read back from an untrusted store (a hand-edited settings file): a value of the wrong
    type or range falls back to the default, a model not in the catalog (or one opened from a
    file, which may be gone) is skipped.
    """

    stabilised: bool = False
    brush: float = DEFAULT_BRUSH
    panels: list[str | None] = field(default_factory=lambda: [None, None])

    def to_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"view/stabilised": self.stabilised, "input/brush": self.brush}
        for i, key in enumerate(self.panels):
            if key is not None:
                values[f"panels/{i}"] = key
        return values

    @classmethod
    def from_values(
        cls,
        value: Callable[[str, Any], Any],
        known_keys: Iterable[str],
        dropped: list[str] | None = None,
    ) -> ViewSettings:
        """``value(name, default)`` reads one setting (``QSettings.value``). The name of each
        stored value that is unusable (wrong type, not a finite number) is appended to
        ``dropped``, for the caller to remove and report; a model that is simply not in the
        catalog (any more) is skipped without a word."""
        dropped = [] if dropped is None else dropped
        out = cls()
        stabilised = value("view/stabilised", None)
        if stabilised is not None:
            flag = _stored_bool(stabilised)
            if flag is None:
                dropped.append("view/stabilised")
            else:
                out.stabilised = flag
        brush = value("input/brush", None)
        if brush is not None:
            number = None
            if not isinstance(brush, bool):
                with contextlib.suppress(TypeError, ValueError, OverflowError):
                    number = float(brush)
            if number is None or not np.isfinite(number):
                dropped.append("input/brush")
            else:
                out.brush = min(MAX_BRUSH, max(MIN_BRUSH, number))
        known = set(known_keys)
        for i in range(len(out.panels)):
            key = value(f"panels/{i}", None)
            if key is None:
                continue
            if not isinstance(key, str):
                dropped.append(f"panels/{i}")
            elif key in known and not key.startswith("file:"):
                out.panels[i] = key
        return out


def _stored_bool(value: Any) -> bool | None:
    """A stored boolean (``True``, ``"true"``, ``"0"``…), None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    return None

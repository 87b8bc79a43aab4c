"""What the app's Lab tab asks for and shows, Qt-free: the switches' choices, which curve sets
a request computes (the chosen settings, the default settings beside them, and a second set
of weights), their titles, and the one-line readout. The tab (``gui/lab_panel.py``) only
makes widgets from these and draws the result; the numbers are :mod:`gcnn_viewer.analysis.lab`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gcnn_viewer.analysis.lab import (
    DEFAULT_SETTINGS,
    MASKS,
    READOUT_ANGLE,
    LabCurves,
    LabSettings,
    Readout,
    architecture_mismatch,
    lab_curves,
    lab_readout,
)

__all__ = [
    "LAB_ANGLES",
    "MASK_CHOICES",
    "ROTATION_CHOICES",
    "LabRequest",
    "LabResult",
    "LabSeries",
    "run_lab",
]

LAB_ANGLES = tuple(float(a) for a in np.arange(72) * 5.0)  # 0, 5, …, 355°: one forward pass
# (value, what the tab's list says)
ROTATION_CHOICES: tuple[tuple[str, str], ...] = (
    ("native", "native (the app's)"),
    ("nearest", "nearest"),
    ("bilinear", "bilinear"),
    ("bicubic", "bicubic"),
    ("supersample:2", "supersample ×2"),
    ("supersample:4", "supersample ×4"),
    ("supersample:8", "supersample ×8"),
)
MASK_CHOICES: tuple[tuple[str, str], ...] = tuple(
    (m, {"disc": "disc (corners zeroed)"}.get(m, m)) for m in MASKS
)


@dataclass(frozen=True, eq=False)
class LabRequest:
    """One computation for the tab: ``model`` (its title) on ``digit`` under ``settings``,
    beside the default settings; ``second``: another set of weights (its title and a loader,
    called on the analysis thread), or None."""

    title: str
    model: Any
    digit: Any
    settings: LabSettings
    second: tuple[str, Callable[[], Any]] | None = None


@dataclass(frozen=True, eq=False)
class LabSeries:
    """One plot's curves: its title, and whether it is the chosen settings' set."""

    title: str
    curves: LabCurves
    chosen: bool


@dataclass(frozen=True, eq=False)
class LabResult:
    series: tuple[LabSeries, ...]  # chosen settings first, then the defaults, then a second set
    readout: Readout  # at 90°, for the chosen settings
    note: str  # why a second set is not shown ("": none asked, or shown)
    second_readout: Readout | None = None

    @property
    def chosen(self) -> LabCurves:
        return self.series[0].curves


def chosen_title(title: str, settings: LabSettings) -> str:
    """``P4CNN: input 29×29 · rotation native · mask none`` (``= the defaults`` when so)."""
    same = " (the defaults)" if settings.is_default else ""
    return f"{title}: {settings.describe()}{same}"


def run_lab(
    request: LabRequest,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    angles: Sequence[float] = LAB_ANGLES,
) -> LabResult:
    """The curve sets and the readout for ``request`` (on the analysis thread)."""
    plan: list[tuple[str, Any, LabSettings, bool]] = [
        (chosen_title(request.title, request.settings), request.model, request.settings, True)
    ]
    if not request.settings.is_default:
        plan.append(
            (chosen_title(request.title, DEFAULT_SETTINGS), request.model, DEFAULT_SETTINGS, False)
        )
    note = ""
    if request.second is not None:
        second_title, load = request.second
        second = load()
        mismatch = architecture_mismatch(request.model, second)
        if mismatch is None:
            plan.append(
                (chosen_title(second_title, request.settings), second, request.settings, True)
            )
        else:
            note = f"{second_title} is {mismatch}: only other weights of {request.title} compare"
    series = []
    for i, (title, model, settings, chosen) in enumerate(plan):
        if cancelled is not None and cancelled():
            from gcnn_viewer.analysis.accuracy import AnalysisCancelled

            raise AnalysisCancelled("superseded")
        curves = lab_curves(model, request.digit, angles, settings)
        series.append(LabSeries(title, curves, chosen))
        if progress is not None:
            progress(i + 1, len(plan))
    readout = lab_readout(None, curves=series[0].curves, angle=READOUT_ANGLE)
    second_readout = None
    if request.second is not None and not note:
        second_readout = lab_readout(None, curves=series[-1].curves, angle=READOUT_ANGLE)
    return LabResult(tuple(series), readout, note, second_readout)

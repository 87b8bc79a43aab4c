"""What each change of the viewer's state asks of the inference worker, and which results
are still wanted when they come back. Qt-free.

:class:`Requester` subscribes to the state's and the drawing's events and sends the requests
itself; the data path it is one step of is docs/ARCHITECTURE.md, “From a stroke to a
repainted mosaic”.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from gcnn_viewer.viewer.inference import FrameResult, InferenceScheduler, SweepResult
from gcnn_viewer.viewer.state import ViewerState

BLANK_INPUT = 0.05  # an input whose brightest pixel is below this holds no digit


@dataclass(frozen=True)
class Reaction:
    """What the window does about one change.

    ``frame``: compute the frame for the current state. ``sweep``: recompute the 0–360° sweep
    and grey the plot until it arrives. ``live_sweep``: recompute it but keep the old curves
    drawn (a training snapshot: the curves only drift). ``cancel_sweep``: drop the sweep in
    progress and grey the plot (a stroke in progress: the sweep is redone once it ends).
    """

    frame: bool = False
    sweep: bool = False
    live_sweep: bool = False
    cancel_sweep: bool = False


def on_drawing_changed(stroke_in_progress: bool) -> Reaction:
    """Every point of a stroke asks for a frame; a sweep (181 angles) waits for the stroke's
    end, so the one in progress is cancelled rather than left to hold the worker."""
    return Reaction(frame=True, cancel_sweep=stroke_in_progress)


def on_drawing_committed() -> Reaction:
    """A stroke ended, or an image / undo / clear replaced the input: the sweep is redone."""
    return Reaction(sweep=True)


def on_angle_changed() -> Reaction:
    """The sweep does not depend on the angle; only the frame does."""
    return Reaction(frame=True)


def on_display_changed() -> Reaction:
    """Stabilised view or tracked class: the frame is recomputed (the sweep plot only
    re-draws which class it tracks, which needs no inference)."""
    return Reaction(frame=True)


def on_panel_changed() -> Reaction:
    """Another model in a panel: a new frame and a new sweep."""
    return Reaction(frame=True, sweep=True)


class PanelUpdate(enum.Enum):
    """How a panel showing a model whose weights changed is brought up to date."""

    DETAIL = "detail"  # same colour scales already on screen: only the texts may change
    VALUES = "values"  # measured scales, different from those shown: set the entry again
    MEASURE = "measure"  # no scales measured yet: probe the model (a forward pass), rebuild


def panel_update(probed: bool, same_probe: bool) -> PanelUpdate:
    """``probed``: the entry's colour scales are measured; ``same_probe``: the panel
    already shows that very probe (a training snapshot keeps its probe)."""
    if probed and same_probe:
        return PanelUpdate.DETAIL
    return PanelUpdate.VALUES if probed else PanelUpdate.MEASURE


def on_model_updated(updates: Sequence[PanelUpdate]) -> Reaction:
    """``updates``: one per panel that shows the updated model. While every panel keeps its
    colour scales (following a training run) the old sweep stays drawn until the new one
    arrives; a rebuilt panel greys it, as any model change does."""
    if not updates:
        return Reaction()
    live = all(u is PanelUpdate.DETAIL for u in updates)
    return Reaction(frame=True, sweep=not live, live_sweep=live)


def selectors_need_refresh(selector_labels: Iterable[Sequence[str]], label: str) -> bool:
    """A model's label is missing from a panel's selector (a run in the app ended and
    renamed it, or a model was added): the selectors are rebuilt."""
    return any(label not in labels for labels in selector_labels)


@dataclass
class ResultGate:
    """Which results are still wanted, and whether the panels are stale.

    A result is shown only when it was made for the models shown now (and, for a sweep, the
    drawing shown now); otherwise a newer request is on its way. After a failed frame the
    maps on screen belong to an older input: ``failed_text`` says why until a frame succeeds.
    """

    pending_frame: int = 0  # seq of the newest frame requested
    last_frame: FrameResult | None = None
    last_sweep: SweepResult | None = None
    failed_text: str = ""
    closed: bool = False

    def frame_requested(self, seq: int) -> None:
        self.pending_frame = seq

    def frame_failed(self, text: str) -> bool:
        """True: mark the panels stale with ``text``."""
        if self.closed:
            return False
        self.failed_text = text
        return True

    def accept_frame(self, result: FrameResult, panel_keys: Sequence[str]) -> tuple[bool, bool]:
        """``(show it, clear the stale marks first)``."""
        if self.closed or tuple(p.key for p in result.panels) != tuple(panel_keys):
            return False, False
        recovered = bool(self.failed_text)
        self.failed_text = ""
        self.last_frame = result
        return True, recovered

    def accept_sweep(self, result: SweepResult, version: int, panel_keys: Sequence[str]) -> bool:
        if self.closed or result.version != version:
            return False
        if any(k not in result.probabilities for k in panel_keys):
            return False
        self.last_sweep = result
        return True

    @property
    def frame_on_screen(self) -> bool:
        """The newest frame requested is the one shown."""
        return self.last_frame is not None and self.last_frame.seq == self.pending_frame


def is_blank(pixels: np.ndarray) -> bool:
    """The model input ([28, 28] in [0, 1]) holds no digit: no prediction is claimed."""
    return float(pixels.max()) < BLANK_INPUT


class Requester:
    """Sends the inference worker what each change asks for (the ``on_*`` functions above),
    subscribed to what decides a frame: the drawing, the angle, the stabilised view and the
    tracked class. A panel's new model comes through :meth:`react` from whoever shows it
    first (the app's panel switcher loads it under a wait cursor).

    Nothing is sent before :attr:`ready` (the panels' models are loaded) or after
    ``gate.closed``. ``sweep_stale()`` greys the sweep plot until the new sweep arrives.
    """

    def __init__(
        self,
        state: ViewerState,
        scheduler: InferenceScheduler,
        gate: ResultGate,
        sweep_stale: Callable[[], None],
    ) -> None:
        self.state, self.scheduler, self.gate = state, scheduler, gate
        self.sweep_stale = sweep_stale
        self.ready = False
        drawing = state.drawing
        drawing.changed.connect(lambda: self.react(on_drawing_changed(drawing.stroke_in_progress)))
        drawing.committed.connect(lambda: self.react(on_drawing_committed()))
        state.angle_changed.connect(lambda _angle: self.react(on_angle_changed()))
        state.stabilised_changed.connect(lambda _on: self.react(on_display_changed()))
        state.tracked_class_changed.connect(lambda _cls: self.react(on_display_changed()))

    def request_frame(self) -> None:
        if not self.gate.closed and self.ready:
            request = self.state.frame_request()
            self.gate.frame_requested(request.seq)
            self.scheduler.submit_frame(request)

    def request_sweep(self, live: bool = False) -> None:
        """``live``: keep the old curves drawn (not greyed) until the new ones arrive."""
        if not self.gate.closed and self.ready:
            if not live:
                self.sweep_stale()
            self.scheduler.submit_sweep(self.state.sweep_request())

    def react(self, reaction: Reaction) -> None:
        if reaction.frame:
            self.request_frame()
        if reaction.cancel_sweep:  # recomputed once the stroke is finished
            self.scheduler.cancel_sweep()
            self.sweep_stale()
        if reaction.sweep or reaction.live_sweep:
            self.request_sweep(live=reaction.live_sweep)

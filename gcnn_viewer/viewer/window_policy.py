"""The main window's decisions, without Qt: what each change asks of the inference worker,
which results are still wanted, when the panels are stale, what the status texts say, how
big the docks should be and how the settings are read back. Qt-free.

The window (:mod:`gcnn_viewer.gui.main_window`) only carries these decisions out on widgets;
the data path they drive is docs/ARCHITECTURE.md, “From a stroke to a repainted mosaic”.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gcnn_viewer.data.digits import quarter_turns
from gcnn_viewer.viewer.drawing import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH, Drawing
from gcnn_viewer.viewer.inference import FrameResult, SweepResult
from gcnn_viewer.viewer.layout import LayerLayout, MapPixel

BLANK_INPUT = 0.05  # an input whose brightest pixel is below this holds no digit


# -- what a change asks for ---------------------------------------------------------------------
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


# -- results --------------------------------------------------------------------------------
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


# -- texts ----------------------------------------------------------------------------------
def source_text(drawing: Drawing) -> str:
    """Under the input preview: where the input came from."""
    if drawing.is_empty:
        return ""
    if drawing.source and not drawing.strokes:
        return drawing.source
    if drawing.source:
        return f"{drawing.source} + your strokes"
    return "your drawing"


@dataclass(frozen=True)
class EditState:
    """Texts and enabled states of Undo / Redo / Clear (menu entries and buttons)."""

    undo_text: str
    redo_text: str
    undo_tip: str
    can_undo: bool
    can_redo: bool
    can_clear: bool

    @classmethod
    def of(cls, drawing: Drawing) -> EditState:
        undo, redo = drawing.undo_label, drawing.redo_label
        return cls(
            undo_text=f"&Undo {undo}" if undo else "&Undo",
            redo_text=f"&Redo {redo}" if redo else "&Redo",
            undo_tip=f"Undo {undo} (Ctrl+Z)" if undo else "Nothing to undo",
            can_undo=drawing.can_undo,
            can_redo=drawing.can_redo,
            can_clear=not drawing.is_empty,
        )


def angle_text(angle: float) -> str:
    """The status bar's angle: exact (a quarter turn, rot90) or interpolated."""
    exact = quarter_turns(angle) is not None
    return f"θ = {angle:.0f}° · " + ("exact (rot90)" if exact else "interpolated")


def window_title(titles: Sequence[str]) -> str:
    return f"gcnn-viewer — {titles[0]} vs {titles[1]}"


def sweep_titles(titles: Sequence[str]) -> tuple[str, ...]:
    """The sweep plot's legend: the same model in both panels gets "(left)" / "(right)"."""
    titles = tuple(titles)
    if len(titles) == 2 and titles[0] == titles[1]:
        return (f"{titles[0]} (left)", f"{titles[1]} (right)")
    return titles


def hover_text(title: str, layout: LayerLayout, pixel: MapPixel, value: float) -> str:
    """The status bar's line for the hovered map pixel."""
    where = f", {layout.orientation_label(pixel.orientation)}" if layout.is_group else ""
    return (
        f"{title} {layout.name}: channel {pixel.channel}{where}, "
        f"pixel ({pixel.y}, {pixel.x}) = {value:.3g}"
    )


def opened_image_text(name: str, shape: tuple[int, ...]) -> str:
    how = (
        "28×28: used as is (MNIST format)"
        if tuple(shape) == (28, 28)
        else f"{shape[1]}×{shape[0]}: fitted into 20×20 and centred like MNIST"
    )
    return f"Opened {name} ({how}). Ctrl+Z goes back."


# -- dock sizes -----------------------------------------------------------------------------
INPUT_DOCK_WIDTH = 370  # the Input / Train column's width when the window has room for it
INPUT_DOCK_SHARE = 0.34  # ... and its largest share of a narrow window's width
SWEEP_DOCK_HEIGHT = 170  # the probability-vs-angle plot's height, room permitting
SWEEP_DOCK_SHARE = 0.21  # ... and its largest share of a short window's height
FIT_SETTLE_S = 0.5  # dock resizes this soon after fitting them are Qt's relayout, not a drag
SWEEP_DOCK_MIN = 150  # a restored sweep height below this is raised: its legend needs it
ANALYSIS_SWAP_BELOW = 900  # window height under which an analysis tab takes the maps' place


def analysis_swaps(window_height: int) -> bool:
    """An analysis tab brought forward takes the maps' place (rather than a share of the
    height) in a window this short: sharing left the maps as slivers at 1024×700."""
    return window_height < ANALYSIS_SWAP_BELOW


@dataclass
class DockSizes:
    """The preferred size of the Input column and of the sweep plot, and how much of the
    window they may take: a narrow window keeps room for the feature maps, and enlarging it
    again gives the docks their space back (Qt alone hands all new space to the centre)."""

    input_width: int = INPUT_DOCK_WIDTH
    sweep_height: int = SWEEP_DOCK_HEIGHT
    fitted_size: tuple[int, int] | None = None  # window size when the docks were last fitted
    fitted_at: float = -1e9  # time.monotonic() then

    def reset(self) -> None:
        self.input_width, self.sweep_height = INPUT_DOCK_WIDTH, SWEEP_DOCK_HEIGHT

    def fit(self, window: tuple[int, int], input_minimum: int) -> tuple[int, int]:
        """``(input column width, sweep height)`` for a window of ``(width, height)``."""
        width = min(self.input_width, max(1, int(INPUT_DOCK_SHARE * window[0])))
        height = min(self.sweep_height, max(1, int(SWEEP_DOCK_SHARE * window[1])))
        return max(width, input_minimum), height

    def fitted(self, window: tuple[int, int], now: float) -> None:
        self.fitted_size, self.fitted_at = tuple(window), now

    def restored(self, input_width: int, sweep_height: int | None) -> None:
        """The sizes a restored layout had, as the preferred ones; a sweep squeezed below
        :data:`SWEEP_DOCK_MIN` (the legend clipped) gets that much back."""
        self.input_width = input_width
        if sweep_height is not None:
            self.sweep_height = max(sweep_height, SWEEP_DOCK_MIN)

    def is_user_drag(self, window: tuple[int, int], now: float) -> bool:
        """A dock resized while the window kept its fitted size, after Qt's relayout has
        settled: the user dragged a separator, and its new size becomes the preferred one."""
        return self.fitted_size == tuple(window) and now - self.fitted_at > FIT_SETTLE_S


# -- settings -------------------------------------------------------------------------------
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

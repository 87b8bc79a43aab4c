"""How big the window's docks should be, and when an analysis tab takes the maps' place.
Qt-free: :class:`~gcnn_viewer.gui.docks.Docks` carries it out."""

from __future__ import annotations

from dataclasses import dataclass

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

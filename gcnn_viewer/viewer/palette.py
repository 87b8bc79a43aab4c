"""The app's named colours, written once (Qt-free): the panels, the views and the exports
all read them here, so a model has one colour on screen and in every exported file."""

from __future__ import annotations

# left (orange) and right (blue) model panels: their headers, the sweep's curves and
# markers, the analysis views' curves, and each model's colour in exported figures
PANEL_COLOURS = ("#d9822b", "#2f6fbd")
UNTRAINED_COLOUR = "#b3261e"  # a model with random weights: its name, everywhere


def panel_colour(panel: int) -> str:
    """The colour of panel ``panel`` (0 left, 1 right)."""
    return PANEL_COLOURS[panel % len(PANEL_COLOURS)]

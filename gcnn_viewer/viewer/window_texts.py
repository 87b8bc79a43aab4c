"""What the window says: the input's source, Undo / Redo texts, the status bar's angle and
hovered pixel, titles. Qt-free."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gcnn_viewer.data.digits import quarter_turns
from gcnn_viewer.viewer.drawing import Drawing
from gcnn_viewer.viewer.layout import LayerLayout, MapPixel


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

"""The input drawing: strokes over an optional background image, with undo/redo. Qt-free.

Coordinates are fractions of the (square) canvas: ``(x, y)`` in [0, 1]², x to the right, y
down, so any widget size maps onto the same drawing. The drawing is rasterised at
``CANVAS_RES``² (white ink on black, MNIST's polarity); the model input is made from that
raster by MNIST-style preprocessing (:func:`gcnn_viewer.data.digits.to_mnist_digit`), except
for a 28×28 MNIST-format image without strokes, which is used exactly as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw

from gcnn_viewer.data.digits import MAX_IMAGE_SIDE, MNIST_SIZE, Digit, to_mnist_digit
from gcnn_viewer.errors import ConfigError
from gcnn_viewer.viewer.events import Event

CANVAS_RES = 224  # raster side in pixels (8 × 28)
DEFAULT_BRUSH = 0.075  # brush diameter as a fraction of the canvas side: MNIST-like strokes
MIN_BRUSH, MAX_BRUSH = 0.02, 0.2
UNDO_LIMIT = 200


@dataclass(frozen=True)
class Stroke:
    points: tuple[tuple[float, float], ...]  # canvas fractions
    width: float  # brush diameter, fraction of the canvas side


@dataclass(frozen=True)
class _Content:
    """One undoable state of the drawing (immutable; arrays are never written after creation)."""

    background: np.ndarray | None = None  # float32 [CANVAS_RES, CANVAS_RES], letterboxed
    mnist: np.ndarray | None = None  # float32 [28, 28]: a background in MNIST format
    strokes: tuple[Stroke, ...] = ()
    source: str = ""  # where the background came from, for the status bar

    @property
    def empty(self) -> bool:
        return self.background is None and not self.strokes


@dataclass(frozen=True, eq=False)
class InputSnapshot:
    """What the worker needs to make the model input; safe to hand to another thread."""

    version: int
    pixels: np.ndarray  # float32: [28, 28] MNIST-format image, or the [224, 224] raster
    mnist_format: bool

    @cached_property
    def digit(self) -> Digit:
        """The preprocessed digit (computed once per snapshot)."""
        if self.mnist_format:
            return Digit(self.pixels, 1)
        return to_mnist_digit(self.pixels)


class Drawing:
    """Strokes over a background. ``changed`` fires on every edit (each mouse move of a
    stroke); ``committed`` fires when an edit is complete (stroke released, clear, load,
    undo, redo): the moment to recompute expensive things such as the rotation sweep."""

    def __init__(self) -> None:
        self.changed = Event()
        self.committed = Event()
        self._content = _Content()
        self._undo: list[_Content] = []
        self._redo: list[_Content] = []
        self._current: list[tuple[float, float]] | None = None  # the stroke being drawn
        self._current_width = DEFAULT_BRUSH
        self._ink = Image.new("L", (CANVAS_RES, CANVAS_RES), 0)
        self._ink_draw = ImageDraw.Draw(self._ink)
        self.version = 0

    # -- queries ----------------------------------------------------------------------------
    @property
    def strokes(self) -> tuple[Stroke, ...]:
        """Finished strokes plus the one in progress (for painting)."""
        if self._current is None:
            return self._content.strokes
        return (*self._content.strokes, Stroke(tuple(self._current), self._current_width))

    @property
    def background(self) -> np.ndarray | None:
        return self._content.background

    @property
    def source(self) -> str:
        return self._content.source

    @property
    def is_empty(self) -> bool:
        return self._content.empty and self._current is None

    @property
    def stroke_in_progress(self) -> bool:
        return self._current is not None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        """What Undo would take back, for a menu entry: "stroke", "load of one.png",
        "clear", or "" when there is nothing to undo."""
        return _change(self._undo[-1], self._content) if self._undo else ""

    @property
    def redo_label(self) -> str:
        return _change(self._content, self._redo[-1]) if self._redo else ""

    def raster(self) -> np.ndarray:
        """float32 ``[CANVAS_RES, CANVAS_RES]`` in [0, 1]: background and ink together."""
        ink = np.asarray(self._ink, dtype=np.float32) / 255.0
        if self._content.background is None:
            return ink
        return np.maximum(ink, self._content.background)

    def snapshot(self) -> InputSnapshot:
        """An immutable copy of the current input for the inference worker."""
        c = self._content
        if c.mnist is not None and not c.strokes and self._current is None:
            return InputSnapshot(self.version, c.mnist, True)
        return InputSnapshot(self.version, self.raster(), False)

    # -- edits -------------------------------------------------------------------------------
    def begin_stroke(self, x: float, y: float, width: float = DEFAULT_BRUSH) -> None:
        if self._current is not None:
            self.end_stroke()
        self._push_undo()
        self._current_width = float(np.clip(width, MIN_BRUSH, MAX_BRUSH))
        self._current = [(float(x), float(y))]
        self._paint_segment((x, y), (x, y), self._current_width)
        self._bump()

    def extend_stroke(self, x: float, y: float) -> None:
        if self._current is None:
            self.begin_stroke(x, y)
            return
        last = self._current[-1]
        self._current.append((float(x), float(y)))
        self._paint_segment(last, (x, y), self._current_width)
        self._bump()

    def end_stroke(self) -> None:
        if self._current is None:
            return
        stroke = Stroke(tuple(self._current), self._current_width)
        self._current = None
        c = self._content
        self._content = _Content(c.background, c.mnist, (*c.strokes, stroke), c.source)
        self.committed.emit()

    def clear(self) -> None:
        self.end_stroke()
        if self._content.empty:
            return
        self._set_content(_Content())

    def set_image(self, image: np.ndarray, source: str = "") -> None:
        """Replace the drawing by an image (white on black, [0, 1], any size; undoable).

        A 28×28 image is taken to be in MNIST format already and becomes the model input as
        it is; a larger one is letterboxed onto the canvas and preprocessed like a drawing.
        """
        try:
            image = np.asarray(image, dtype=np.float32)
        except (TypeError, ValueError):
            kind = type(image).__name__
            raise ConfigError(f"image must be an array of grey values, not {kind}") from None
        if image.ndim != 2 or min(image.shape) < 1:
            raise ConfigError(f"expected a 2-D grey image, got shape {image.shape}")
        if max(image.shape) > MAX_IMAGE_SIDE:
            h, w = image.shape
            raise ConfigError(f"the image is {w}×{h} px; at most {MAX_IMAGE_SIDE} px a side")
        if not np.isfinite(image).all():
            raise ConfigError("the image holds non-finite values (NaN or infinity)")
        self.end_stroke()
        image = np.clip(image, 0.0, 1.0)
        mnist = image.copy() if image.shape == (MNIST_SIZE, MNIST_SIZE) else None
        self._set_content(_Content(_letterbox(image), mnist, (), source))

    def undo(self) -> bool:
        self.end_stroke()
        if not self._undo:
            return False
        self._redo.append(self._content)
        self._restore(self._undo.pop())
        return True

    def redo(self) -> bool:
        self.end_stroke()
        if not self._redo:
            return False
        self._undo.append(self._content)
        self._restore(self._redo.pop())
        return True

    # -- internals ---------------------------------------------------------------------------
    def _push_undo(self) -> None:
        self._undo.append(self._content)
        del self._undo[:-UNDO_LIMIT]
        self._redo.clear()

    def _set_content(self, content: _Content) -> None:
        self._push_undo()
        self._restore(content)

    def _restore(self, content: _Content) -> None:
        self._content = content
        self._ink.paste(0, (0, 0, CANVAS_RES, CANVAS_RES))
        for stroke in content.strokes:
            points = stroke.points
            for a, b in zip(points, points[1:] or points, strict=False):
                self._paint_segment(a, b, stroke.width)
        self._bump()
        self.committed.emit()

    def _paint_segment(self, a: tuple[float, float], b: tuple[float, float], width: float) -> None:
        """Ink a round-capped segment from a to b (canvas fractions) into the raster."""
        w = width * CANVAS_RES
        ax, ay = a[0] * CANVAS_RES, a[1] * CANVAS_RES
        bx, by = b[0] * CANVAS_RES, b[1] * CANVAS_RES
        r = w / 2
        self._ink_draw.line([(ax, ay), (bx, by)], fill=255, width=max(1, round(w)))
        self._ink_draw.ellipse([ax - r, ay - r, ax + r, ay + r], fill=255)
        self._ink_draw.ellipse([bx - r, by - r, bx + r, by + r], fill=255)

    def _bump(self) -> None:
        self.version += 1
        self.changed.emit()


def _change(before: _Content, after: _Content) -> str:
    """A few words for the edit that turned ``before`` into ``after``."""
    if after.empty and not before.empty:
        return "clear"
    if after.background is not before.background and after.background is not None:
        return f"load of {after.source}" if after.source else "load"
    if len(after.strokes) == len(before.strokes) + 1:
        return "stroke"
    return "edit"


def _letterbox(image: np.ndarray) -> np.ndarray:
    """Fit ``image`` into the square canvas keeping its aspect ratio, centred on black."""
    h, w = image.shape
    scale = CANVAS_RES / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    filt = Image.BOX if scale < 1 else Image.BICUBIC
    resized = np.asarray(
        Image.fromarray(np.ascontiguousarray(image)).resize((new_w, new_h), filt),
        dtype=np.float32,
    )
    out = np.zeros((CANVAS_RES, CANVAS_RES), np.float32)
    top, left = (CANVAS_RES - new_h) // 2, (CANVAS_RES - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.clip(resized, 0.0, 1.0)
    return out

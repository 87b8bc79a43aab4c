"""The viewer's state: drawing, angle, the two models shown, display options. Qt-free.

The GUI binds widgets to this object and turns its events into inference requests; a headless
exporter can drive the same object and call :func:`compute_frame` directly.
"""

from __future__ import annotations

import math

from gcnn_viewer.errors import check_int, check_number
from gcnn_viewer.viewer.drawing import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH, Drawing, InputSnapshot
from gcnn_viewer.viewer.events import Event
from gcnn_viewer.viewer.inference import FrameRequest, PanelSpec, SweepRequest
from gcnn_viewer.viewer.layout import ColourTables
from gcnn_viewer.viewer.models import ModelCatalog, ModelEntry

N_PANELS = 2


class ViewerState:
    """One event per field, emitted with the new value when it changes, so that each view
    subscribes to what it shows: ``angle_changed(angle)``, ``stabilised_changed(on)``,
    ``tracked_class_changed(cls or None)``, ``brush_changed(size)`` and
    ``panel_changed(index)`` (a panel shows another model); the drawing has its own.

    (psygnal's evented dataclasses were considered: the setters here check and normalise
    their values (the angle modulo 360°, a class 0–9), which an evented field does not, and
    :class:`~gcnn_viewer.viewer.events.Event` already serves the drawing and the catalog.)"""

    def __init__(self, catalog: ModelCatalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else ModelCatalog()
        self.drawing = Drawing()
        self.angle_changed = Event()
        self.stabilised_changed = Event()
        self.tracked_class_changed = Event()
        self.brush_changed = Event()
        self.panel_changed = Event()
        self._angle = 0.0
        self._stabilised = False
        self._tracked_class: int | None = None  # None: each model's top class at 0°
        self._brush = DEFAULT_BRUSH
        self._keys = list(self.catalog.defaults())
        self._seq = 0
        self._snapshot: InputSnapshot | None = None
        self.colours: ColourTables | None = None  # set by a view: frames then carry RGB

    # -- rotation ---------------------------------------------------------------------------
    @property
    def angle(self) -> float:
        """Degrees in [0, 360), counter-clockwise."""
        return self._angle

    @angle.setter
    def angle(self, value: float) -> None:
        value = check_number(value, "angle") % 360.0  # NaN, text: ConfigError (one line)
        if value != self._angle:
            self._angle = value
            self.angle_changed.emit(value)

    def rotate_quarter(self, direction: int) -> None:
        """To the next multiple of 90° in ``direction`` (+1 counter-clockwise, −1 back)."""
        turns = self._angle / 90.0  # the 1e-9: an exact multiple moves on a full step
        up, down = math.floor(turns + 1e-9) + 1, math.ceil(turns - 1e-9) - 1
        target = up if direction > 0 else down
        self.angle = 90.0 * (target % 4)

    # -- display ----------------------------------------------------------------------------
    @property
    def stabilised(self) -> bool:
        return self._stabilised

    @stabilised.setter
    def stabilised(self, value: bool) -> None:
        if bool(value) != self._stabilised:
            self._stabilised = bool(value)
            self.stabilised_changed.emit(self._stabilised)

    @property
    def tracked_class(self) -> int | None:
        return self._tracked_class

    @tracked_class.setter
    def tracked_class(self, value: int | None) -> None:
        if value is not None:
            value = check_int(value, "tracked class", 0, 9)
        if value != self._tracked_class:
            self._tracked_class = value
            self.tracked_class_changed.emit(value)

    @property
    def brush(self) -> float:
        return self._brush

    @brush.setter
    def brush(self, value: float) -> None:
        value = min(MAX_BRUSH, max(MIN_BRUSH, check_number(value, "brush")))
        if value != self._brush:
            self._brush = value
            self.brush_changed.emit(value)

    # -- models -----------------------------------------------------------------------------
    def panel_key(self, index: int) -> str:
        return self._keys[index]

    def panel_entry(self, index: int) -> ModelEntry:
        return self.catalog.load(self._keys[index])

    def set_panel(self, index: int, key: str) -> None:
        self.catalog.get(key)  # KeyError for an unknown key, before anything changes
        if self._keys[index] != key:
            self._keys[index] = key
            self.panel_changed.emit(index)

    @property
    def panel_keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    # -- requests ---------------------------------------------------------------------------
    def snapshot(self) -> InputSnapshot:
        """The current input, one snapshot per drawing version (its preprocessing is shared)."""
        if self._snapshot is None or self._snapshot.version != self.drawing.version:
            self._snapshot = self.drawing.snapshot()
        return self._snapshot

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def frame_request(self) -> FrameRequest:
        panels = []
        for i in range(N_PANELS):
            entry = self.panel_entry(i)
            panels.append(PanelSpec(entry.key, entry.model, entry.probe()))
        return FrameRequest(
            self._next_seq(),
            self.snapshot(),
            self._angle,
            self._stabilised,
            tuple(panels),
            self.colours,
        )

    def sweep_request(self) -> SweepRequest:
        models = []
        for i in range(N_PANELS):
            entry = self.panel_entry(i)
            if all(key != entry.key for key, _ in models):
                models.append((entry.key, entry.model))
        return SweepRequest(self._next_seq(), self.snapshot(), tuple(models))

"""One typed description per layer: :class:`LayerRecord`.

The app, export and analysis read a layer's record instead of guessing from its tensor's
shape or from the model's one group: each layer has its own kind and group, so a model may
mix planar and group layers (docs/ARCHITECTURE.md, "The models").

Torch is imported where it is used: the viewer's layouts read records, and the app shows its
window before torch is imported (docs/ARCHITECTURE.md, "Start-up").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gcnn_viewer.group import P4, Group

if TYPE_CHECKING:
    import torch

KINDS = ("planar", "group", "components", "logits")
LOGITS = "logits"


def quarter_turn_element(group: Group, turns: int) -> int:
    """The element of ``group`` that turns by ``turns`` quarter turns counter-clockwise (no
    mirror). For p4 and p4m it is ``turns`` itself; a group may say otherwise with its own
    ``quarter_turn_element`` (C8: two elements per quarter turn)."""
    own = getattr(group, "quarter_turn_element", None)
    if callable(own):
        return int(own(turns))
    return turns % 4


@dataclass(frozen=True)
class LayerRecord:
    """One layer as the app, export and analysis see it.

    ``kind``: ``"planar"`` maps ``[B, C, H, W]``; ``"group"`` maps ``[B, C, G, H, W]`` whose
    orientation axis (length ``order``) belongs to ``group``; ``"components"`` ``[B, C, H, W]``
    (fields shown as labelled components, ``channel_labels``); ``"logits"`` ``[B, K]``.
    ``order`` is 1 for every kind but ``"group"``; ``height`` and ``width`` are 0 for logits.
    ``interpolated``: the group has elements that are not quarter turns, whose action on
    images is interpolated (the views say so).
    """

    name: str
    kind: str
    channels: int
    order: int
    height: int
    width: int
    group: Group | None = None
    channel_labels: tuple[str, ...] | None = None
    interpolated: bool = False
    # components (escnn's other representations): how a group element acts on this layer's
    # tensor, ``transform(element, t)`` (escnn's own ``transform``); None: :meth:`act` knows
    transform: Callable[[int, torch.Tensor], torch.Tensor] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: layer kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "group":
            if self.group is None or self.group.order != self.order:
                raise ValueError(
                    f"{self.name}: a group layer of order {self.order} needs its group"
                )
        elif self.order != 1:
            raise ValueError(f"{self.name}: a {self.kind} layer has order 1")
        elif self.group is not None and self.kind != "components":
            raise ValueError(f"{self.name}: a {self.kind} layer has no group")
        if self.channel_labels is not None and len(self.channel_labels) != self.channels:
            raise ValueError(f"{self.name}: {self.channels} channels need as many labels")

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def is_map(self) -> bool:
        """Planar, group or component maps: everything but the logits."""
        return self.kind != "logits"

    @property
    def shape(self) -> tuple[int, ...]:
        """One sample's shape: ``(C, G, H, W)``, ``(C, H, W)`` or ``(K,)``."""
        if self.kind == "logits":
            return (self.channels,)
        if self.kind == "group":
            return (self.channels, self.order, self.height, self.width)
        return (self.channels, self.height, self.width)

    def act(self, element: int, t: torch.Tensor) -> torch.Tensor:
        """How element ``element`` of the layer's group (p4 for a planar layer: quarter turns)
        acts on this layer's tensor ``[B, ...]`` (or one sample's): group maps are turned and
        their orientation axis permuted (``group.act_on_group_map``); components by their own
        ``transform`` when they have one; planar maps are turned; logits are unchanged."""
        if self.kind == "logits":
            return t
        if self.transform is not None:
            return self.transform(element, t)
        if self.kind == "group":
            return self.group.act_on_group_map(element, t)
        return (self.group or P4).act_on_image(element, t)

    def turn(self, turns: int, t: torch.Tensor) -> torch.Tensor:
        """The input's ``turns`` quarter turns (counter-clockwise) acting on this layer's
        tensor: :meth:`act` with the group element of that rotation."""
        group = self.group or P4
        return self.act(quarter_turn_element(group, turns), t)

    def untwist(self, turns: int, t: torch.Tensor) -> torch.Tensor:
        """Undo the input's ``turns`` quarter turns on this layer's tensor (the stabilised
        view): an equivariant layer's maps of a turned input become those of the upright one."""
        group = self.group or P4
        return self.act(group.inverse(quarter_turn_element(group, turns)), t)

    def describe(self) -> str:
        """One line, e.g. ``p4 · 10 channels × 4 orientations · 12×12``."""
        if self.kind == "logits":
            return f"logits · {self.channels} classes"
        size = f"{self.height}×{self.width}"
        if self.kind == "group":
            note = " (interpolated)" if self.interpolated else ""
            return (
                f"{self.group.name}{note} · {self.channels} channels × {self.order} "
                f"orientations · {size}"
            )
        return f"{self.kind} · {self.channels} channels · {size}"


def layer_record(name: str, t: torch.Tensor, group: Group | None = None) -> LayerRecord:
    """The record of one layer from its output ``t`` ``[B, ...]``: ``[B, K]`` logits (or any
    2-D output named ``logits``), ``[B, C, H, W]`` planar, ``[B, C, G, H, W]`` group maps of
    ``group`` (needed, and of order G). ValueError for any other shape."""
    shape = tuple(t.shape)
    if name == LOGITS or len(shape) == 2:
        if len(shape) != 2:
            raise ValueError(f"{name}: logits must be [B, K], got {shape}")
        return LayerRecord(name, "logits", shape[1], 1, 0, 0)
    if len(shape) == 4:
        return LayerRecord(name, "planar", shape[1], 1, shape[2], shape[3])
    if len(shape) == 5:
        if group is None or group.order != shape[2]:
            raise ValueError(
                f"{name}: group maps of shape {shape} need a group of order {shape[2]}"
            )
        return LayerRecord(name, "group", shape[1], shape[2], shape[3], shape[4], group)
    raise ValueError(f"{name}: expected [B, C, H, W], [B, C, G, H, W] or [B, K], got {shape}")


def layer_records(
    maps: Mapping[str, torch.Tensor], groups: Mapping[str, Group | None]
) -> tuple[LayerRecord, ...]:
    """One record per entry of ``maps`` (a model's ``feature_maps``, in order); ``groups``
    names the group of each 5-D layer (a missing name: None)."""
    return tuple(layer_record(name, t, groups.get(name)) for name, t in maps.items())


def records_by_name(records: tuple[LayerRecord, ...]) -> dict[str, LayerRecord]:
    return {r.name: r for r in records}

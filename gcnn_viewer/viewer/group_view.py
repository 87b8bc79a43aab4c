"""The group view of one channel (GrouPy's ``plot_p4`` / ``plot_p4m`` figure), as geometry.

A channel of a p4 or p4m feature map is a function on the group: one plane per element g.
The group view sets the planes on a circle — p4: e, r, r², r³ counter-clockwise from the top;
p4m: the rotations on an outer circle and the mirrored elements mr^k on an inner one, laid
clockwise — and joins neighbours by arrows for the generators, the Cayley graph of right
multiplication: an arrow labelled r from g to g·r, and a two-headed line labelled m between
g and g·m (m·m = e).

Turning the input by a quarter turn acts on the map by left multiplication,
``(r·f)(g) = T_r f(r⁻¹·g)``: every plane is turned and moves one step along the arrows'
circle (left multiplication is an automorphism of the right Cayley graph). So with this
layout both circles roll counter-clockwise by one position per +90° of the input — the
picture GrouPy drew, now live.

Qt-free and matplotlib-free: coordinates are plain numbers (x right, y up, the outer circle
of radius 1 about the origin); the app (``gui/group_view.py``) and the export
(``export/group_figure.py``) both draw this one description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gcnn_viewer.data.digits import quarter_turns
from gcnn_viewer.errors import ConfigError
from gcnn_viewer.group.groups import Group

__all__ = [
    "Arrow",
    "GroupDiagram",
    "Plane",
    "element_label",
    "group_diagram",
    "group_planes",
    "roll_text",
    "rolled_by",
    "strongest_channel",
]

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
OUTER = 1.0  # radius of the rotations' circle
INNER = 0.42  # p4m: radius of the mirrored elements' circle
P4_SIZE = 0.62  # side of a plane: p4
P4M_SIZE = 0.3  # ... p4m (two circles share the room)
PAD = 0.05  # between a plane's edge and an arrow's end
ARC_POINTS = 24  # points along an arrow's arc
LABEL_OFFSET = 0.13  # from an arrow's middle to its label
LABEL_GAP = 0.03  # from a plane's edge to its label
LABEL_ROOM = 0.2  # beyond the outer planes: their labels


@dataclass(frozen=True)
class Plane:
    """Where the plane of element ``g`` sits: its centre and side, and its label."""

    g: int
    label: str
    centre: tuple[float, float]
    size: float
    ring: int  # 0: the rotations' (outer) circle; 1: the mirrored (inner) one
    label_at: tuple[float, float] = (0.0, 0.0)  # the label's anchor point ...
    # ... and which side of the text it is: ("left" | "center" | "right",
    # "bottom" | "center" | "top"), outward of the outer circle, inward of the inner one
    anchor: tuple[str, str] = ("center", "center")

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)``."""
        x, y = self.centre
        h = self.size / 2
        return x - h, x + h, y - h, y + h


@dataclass(frozen=True)
class Arrow:
    """An edge of the Cayley graph: from ``source`` to ``target`` = source·generator.

    ``points``: the path ``[n, 2]`` from the source's side to the target's; ``both``: a
    head at each end (m, its own inverse); ``label_at``: where the generator's name goes."""

    source: int
    target: int
    generator: str
    points: np.ndarray
    both: bool
    label_at: tuple[float, float]


@dataclass(frozen=True)
class GroupDiagram:
    group: str
    planes: tuple[Plane, ...]  # indexed by element
    arrows: tuple[Arrow, ...]
    extent: tuple[float, float, float, float]  # (left, right, bottom, top) of everything

    def plane(self, g: int) -> Plane:
        return self.planes[g]


def _rotations(group: Group) -> int:
    """N, the rotation elements of a cyclic C_N or dihedral D_N group (p4, p4m: 4)."""
    return int(getattr(group, "rotations", 4))


def _split(group: Group, g: int) -> tuple[bool, int]:
    """``(mirrored, k)``: element N·m + k is the transform F^m R^k (k steps of 360°/N, then
    a flip of the rows when mirrored)."""
    m, k = divmod(int(g), _rotations(group))
    return bool(m), k


def element_label(group: Group, g: int) -> str:
    """``e``, ``r``, ``r²``, ``r³``; ``m``, ``mr``, ``mr²``, ``mr³`` (p4m's element 4 + k is
    F R^k: k quarter turns, then a flip)."""
    mirrored, k = _split(group, g)
    rotation = "" if k == 0 else "r" + ("" if k == 1 else str(k).translate(SUPERSCRIPT))
    if mirrored:
        return "m" + rotation
    return rotation or "e"


def _angle(group: Group, g: int) -> float:
    """Degrees of element g's place on its circle: rotations counter-clockwise from the top,
    mirrored elements clockwise (so both circles roll the same way as the input turns)."""
    mirrored, k = _split(group, g)
    step = 360.0 / _rotations(group)
    return 90.0 - step * k if mirrored else 90.0 + step * k


def _point(radius: float, degrees: float) -> tuple[float, float]:
    a = math.radians(degrees)
    return radius * math.cos(a), radius * math.sin(a)


def _arc(radius: float, start: float, end: float) -> np.ndarray:
    t = np.radians(np.linspace(start, end, ARC_POINTS))
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


def _plane(group: Group, g: int, radius: float, size: float) -> Plane:
    a = _angle(group, g)
    inner = radius < OUTER
    dx, dy = _point(-1.0 if inner else 1.0, a)  # from the plane away from the other circle
    # the label beyond the edge facing that way (a square: up to half its diagonal away)
    reach = size / 2 / max(abs(dx), abs(dy)) + LABEL_GAP
    x, y = _point(radius, a)
    at = (x + dx * reach, y + dy * reach)

    def side(v: float, low: str, high: str) -> str:
        return high if v > 0.38 else low if v < -0.38 else "center"

    # the text lies on the far side of its anchor: right of the plane -> anchored "left"
    anchor = (side(dx, "right", "left"), side(dy, "top", "bottom"))
    return Plane(g, element_label(group, g), (x, y), size, 1 if inner else 0, at, anchor)


def group_diagram(group: Group) -> GroupDiagram:
    """The planes and arrows of ``group``'s view (p4: one circle; p4m: two)."""
    n = _rotations(group)
    if group.order not in (n, 2 * n) or n < 2:
        raise ConfigError(f"the group view draws cyclic and dihedral groups, not {group.name}")
    two = group.order == 2 * n
    size = P4M_SIZE if two else P4_SIZE
    half = size / 2

    def radius(g: int) -> float:
        return INNER if _split(group, g)[0] else OUTER

    planes = tuple(_plane(group, g, radius(g), size) for g in group.elements)
    arrows = []
    r_gen = 1  # the quarter turn r
    for g in group.elements:
        h = group.compose(g, r_gen)  # g·r: the next plane on g's circle
        rad = radius(g)
        delta = math.degrees(math.asin(min(1.0, (half + PAD) / rad)))
        a = _angle(group, g)
        step = (_angle(group, h) - a + 180.0) % 360.0 - 180.0  # ±360°/N: the short way
        direction = 1.0 if step > 0 else -1.0
        points = _arc(rad, a + direction * delta, a + step - direction * delta)
        middle = a + step / 2
        # the label outside the outer circle, inside the inner one
        at = _point(rad + (LABEL_OFFSET if rad == OUTER else -LABEL_OFFSET), middle)
        arrows.append(Arrow(g, h, "r", points, False, at))
    if two:
        m_gen = n  # the mirror m
        for g in group.elements:
            if _split(group, g)[0]:
                continue  # each line once: from the rotation to its mirror
            h = group.compose(g, m_gen)  # g·m, on the inner circle at the same angle
            a = _angle(group, g)
            start = _point(OUTER - half - PAD, a)
            end = _point(INNER + half + PAD, a)
            points = np.array([start, end], dtype=np.float64)
            mid = _point((OUTER + INNER) / 2, a)
            # beside the line, a little counter-clockwise of it
            perp = _point(0.1, a + 90.0)
            arrows.append(Arrow(g, h, "m", points, True, (mid[0] + perp[0], mid[1] + perp[1])))
    reach = OUTER + half + LABEL_ROOM
    return GroupDiagram(group.name, planes, tuple(arrows), (-reach, reach, -reach, reach))


# -- the planes ---------------------------------------------------------------------------------
def _act_planes(group: Group, g: int, planes: np.ndarray) -> np.ndarray:
    """``(g·f)[h] = T_g f[g⁻¹·h]`` on one channel's planes ``[G, h, w]`` (numpy: the same
    action as :meth:`Group.act_on_group_map`, which needs torch)."""
    inverse = group.inverse(g)
    perm = [group.compose(inverse, h) for h in group.elements]
    mirrored, k = _split(group, g)
    out = np.rot90(planes[perm], 4 * k // _rotations(group), axes=(-2, -1))
    if mirrored:
        out = out[..., ::-1, :]
    return np.ascontiguousarray(out)


def group_planes(data: np.ndarray, channel: int, group: Group, turns: int = 0) -> np.ndarray:
    """The G planes ``[G, h, w]`` of ``channel`` of a layer's maps ``data`` ``[C, G, h, w]``
    as the network computed them. ``turns``: the quarter turns a stabilised view undid on
    ``data`` (``FrameResult.turns``), put back, so that the planes roll as the input turns."""
    data = np.asarray(data)
    if data.ndim != 4 or data.shape[1] != group.order:
        raise ConfigError(
            f"a {group.name} group view needs maps [C, {group.order}, h, w], got {list(data.shape)}"
        )
    if not 0 <= int(channel) < data.shape[0]:
        raise ConfigError(f"channel {channel} is not one of 0..{data.shape[0] - 1}")
    planes = data[int(channel)]
    turns %= 4
    n = _rotations(group)
    if not turns or n % 4:
        return np.ascontiguousarray(planes)
    return _act_planes(group, turns * n // 4, planes)  # the quarter turns as an element


def rolled_by(group: Group, g: int) -> list[int]:
    """Where each element's plane goes when the input is acted on by ``g``: ``out[h] = g·h``
    (a quarter turn moves every plane one step round its circle)."""
    return [group.compose(g, h) for h in group.elements]


def strongest_channel(data: np.ndarray) -> int:
    """The channel of ``data`` ``[C, G, h, w]`` with the largest norm (a default to show)."""
    data = np.asarray(data, dtype=np.float64)
    norms = np.sqrt((data.reshape(data.shape[0], -1) ** 2).sum(axis=1))
    return int(np.argmax(norms)) if norms.size else 0


def roll_text(group: Group, angle: float, channels: int, size: int) -> str:
    """What the view shows at ``angle``, in words (the Group view tab's status line)."""
    head = f"{channels} channels, {size}×{size} planes. Input at {angle:g}°: "
    turns = quarter_turns(angle)
    if turns is None:
        return head + (
            "not a quarter turn, so the planes do not simply move; at 90°, 180°, 270° they "
            "roll round the circle."
        )
    if turns == 0:
        return head + "the planes as the network computes them for the upright input."
    element = turns * _rotations(group) // 4
    steps = f"{element} step{'s' if element > 1 else ''}"
    return head + (
        f"each plane turned by {90 * turns}° and moved {steps} round its circle "
        f"(left multiplication by {element_label(group, element)})."
    )


def positions(diagram: GroupDiagram) -> Sequence[tuple[float, float]]:
    """Each element's plane centre, by element (tests and the docs use it)."""
    return [p.centre for p in diagram.planes]

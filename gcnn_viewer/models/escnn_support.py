"""escnn ``GeometricTensor``\\ s in our layout (issue 22 §2). Imported only when escnn is there.

:func:`convert` takes one layer's output, as :class:`~gcnn_viewer.models.user.UserModel`'s
forward hooks see it, and gives our tensor and the fields of its
:class:`~gcnn_viewer.models.layers.LayerRecord`:

- the escnn ``FieldType``'s fibre group gives the group: ``C_N`` (``rot2dOnR2(N)``) is
  :func:`~gcnn_viewer.group.cyclic` ``(N)``, ``D_N`` (``flipRot2dOnR2(N)``) is
  :func:`~gcnn_viewer.group.dihedral` ``(N)`` (C4 is p4, D4 is p4m). Each of our elements is
  matched to the escnn element with the same action on the plane (``basespace_action``), so
  escnn's own element order and flip axis do not matter; a group whose elements do not all act
  on the pixel grid as one of ours (SO(2), O(2), a flip axis that is not a mirror of the grid,
  3-D spaces) is skipped with one line.
- **Only regular fields** → kind ``"group"`` ``[B, C, G, H, W]`` (G = N, or 2N for D_N): field
  c's fibre, reordered so that orientation h holds escnn's entry of the element matched to h.
  Our action on this layout (:meth:`~gcnn_viewer.group.Group.act_on_group_map`) is escnn's
  ``GeometricTensor.transform``: exactly at quarter turns; at the other elements both
  interpolate the planes (ours bilinear, escnn's a quadratic spline), the fibre permutation is
  the same.
- **Only trivial fields** → kind ``"planar"`` ``[B, C, H, W]``.
- **Anything else** (irreps, quotient representations, and any mix of field types) → kind
  ``"components"`` ``[B, C, H, W]``: escnn's channels as they are, one label each
  (``"2:irrep_1[0]"``: field 2, an ``irrep_1``, its first component; a regular field's
  channels are labelled by their group element, ``"0:regular 45°"``), with ``transform``: escnn's
  own ``FieldType.transform`` for our element g, used to compute the layer's equivariance error.

The tests (``tests/models/test_escnn.py``) check every element against escnn's ``transform``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from escnn import nn as enn
from escnn.group import CyclicGroup, DihedralGroup

from gcnn_viewer.group import Group, cyclic, dihedral


@dataclass(frozen=True)
class GroupMatch:
    """Our group for one escnn space, and which escnn element each of our elements is."""

    group: Group
    elements: tuple[Any, ...]  # escnn GroupElement of each of our elements, by our index
    regular_index: tuple[int, ...]  # fibre index, in escnn's regular field, of each element


_MATCHES: dict[int, tuple[Any, GroupMatch | str]] = {}


def _our_matrix(group: Group, g: int) -> np.ndarray:
    """Our element g acting on the plane, in escnn's coordinates (x right, y up): a turn by
    ``degrees(g)`` counter-clockwise, then the row flip (y → −y) when mirrored."""
    theta = math.radians(group.degrees(g))
    c, s = math.cos(theta), math.sin(theta)
    turn = np.array([[c, -s], [s, c]])
    return np.diag([1.0, -1.0]) @ turn if group.mirrored(g) else turn


def _regular_index(fibre_group: Any, element: Any) -> int:
    """Where escnn's regular representation sends the identity's basis vector: the element's
    own entry in a regular field (ρ(e)·δ_identity = δ_e)."""
    rho = np.asarray(fibre_group.regular_representation(element))
    return int(np.argmax(rho[:, 0]))


def match_group(gspace: Any) -> GroupMatch | str:
    """Our group for an escnn ``gspace``, or the one-line reason there is none."""
    key = id(gspace)
    if key in _MATCHES and _MATCHES[key][0] is gspace:
        return _MATCHES[key][1]
    found = _match(gspace)
    _MATCHES[key] = (gspace, found)
    return found


def _match(gspace: Any) -> GroupMatch | str:
    fibre = gspace.fibergroup
    if getattr(gspace, "dimensionality", None) != 2:
        return f"escnn space {gspace.name} is not the plane"
    if isinstance(fibre, DihedralGroup):
        ours = dihedral(fibre.rotation_order)
    elif isinstance(fibre, CyclicGroup):
        ours = cyclic(fibre.order())
    else:
        return f"escnn group {fibre.name} is neither C_N nor D_N (finite rotations, mirrors)"
    theirs = list(fibre.elements)
    actions = [np.asarray(gspace.basespace_action(e), dtype=np.float64) for e in theirs]
    elements = []
    for g in ours.elements:
        mine = _our_matrix(ours, g)
        hits = [e for e, a in zip(theirs, actions, strict=True) if np.allclose(a, mine, atol=1e-6)]
        if len(hits) != 1:
            return (
                f"escnn {gspace.name}: its elements do not act on the pixel grid as "
                f"{ours.name}'s (a flip axis that is not a mirror of the grid?)"
            )
        elements.append(hits[0])
    index = tuple(_regular_index(fibre, e) for e in elements)
    if sorted(index) != list(range(ours.order)):
        return f"escnn {gspace.name}: its regular representation is not a permutation"
    return GroupMatch(ours, tuple(elements), index)


def _is_regular(rep: Any, match: GroupMatch) -> bool:
    return rep.name == "regular" and rep.size == match.group.order


def _labels(field_type: Any, match: GroupMatch) -> tuple[str, ...]:
    """One label per channel: ``"{field}:{representation}[{component}]"``; a regular field's
    channels by the group element they belong to, a trivial field by ``trivial``."""
    by_index = {i: g for g, i in enumerate(match.regular_index)}
    labels: list[str] = []
    for f, rep in enumerate(field_type.representations):
        if _is_regular(rep, match):
            labels += [f"{f}:regular {match.group.label(by_index[k])}" for k in range(rep.size)]
        elif rep.is_trivial():
            labels.append(f"{f}:trivial")
        else:
            labels += [f"{f}:{rep.name}[{k}]" for k in range(rep.size)]
    return tuple(labels)


def escnn_transform(field_type: Any, match: GroupMatch) -> Callable[[int, torch.Tensor], Any]:
    """``transform(g, t)``: escnn's own ``FieldType.transform`` by the escnn element matched to
    our element g, on escnn's channels ``t`` ``[B, C, H, W]`` (or one sample's ``[C, H, W]``)."""

    def transform(g: int, t: torch.Tensor) -> torch.Tensor:
        element = match.elements[match.group._check(g)]
        one = t.dim() == 3
        x = (t[None] if one else t).detach()
        y = field_type.transform(x, element)
        return y[0] if one else y

    return transform


def convert(output: Any) -> tuple[torch.Tensor, dict[str, Any]] | str | None:
    """One layer's output in our layout with its record's fields, the one-line reason it cannot
    be shown, or None when ``output`` is not an escnn ``GeometricTensor`` (not ours to judge).

    The fields: ``kind`` ("group", "planar" or "components"), ``group`` (ours; None for
    planar), ``channel_labels`` (components), ``interpolated`` (the group has elements that are
    not quarter turns) and ``transform`` (components: :func:`escnn_transform`; else None)."""
    if not isinstance(output, enn.GeometricTensor):
        return None
    field_type = output.type
    match = match_group(field_type.gspace)
    if isinstance(match, str):
        return match
    t = output.tensor
    if t.dim() != 4:
        return f"escnn maps of shape {list(t.shape)} are not [B, C, H, W]"
    reps = field_type.representations
    group = match.group
    fields: dict[str, Any] = {"interpolated": group.interpolated, "transform": None}
    if reps and all(_is_regular(r, match) for r in reps):
        b, _, h, w = t.shape
        index = torch.tensor(match.regular_index, device=t.device)
        maps = t.reshape(b, len(reps), group.order, h, w).index_select(2, index)
        return maps, {**fields, "kind": "group", "group": group, "channel_labels": None}
    if all(r.is_trivial() for r in reps):
        return t, {**fields, "kind": "planar", "group": None, "channel_labels": None}
    return t, {
        **fields,
        "kind": "components",
        "group": group,
        "channel_labels": _labels(field_type, match),
        "transform": escnn_transform(field_type, match),
    }

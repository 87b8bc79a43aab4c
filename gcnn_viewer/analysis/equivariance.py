"""Measure and assert equivariance: ``f(g·x) == g·f(x)`` for every group element g."""

from __future__ import annotations

from collections.abc import Callable

import torch

from gcnn_viewer.group import Group

# Relative error allowed per dtype (docs/ARCHITECTURE.md, “Tensor and group conventions”).
TOLERANCES = {torch.float32: 1e-5, torch.float64: 1e-12}


def act(group: Group, g: int, t: torch.Tensor) -> torch.Tensor:
    """Act on a tensor by its shape: ``[B, C, G, H, W]`` group maps, ``[B, C, H, W]`` images or
    planar maps (spatial transform only), ``[B, K]`` vectors (invariant: left unchanged)."""
    if t.dim() == 5:
        return group.act_on_group_map(g, t)
    if t.dim() == 4:
        return group.act_on_image(g, t)
    if t.dim() <= 2:
        return t
    raise ValueError(f"no group action defined for a tensor of shape {tuple(t.shape)}")


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``max|a − b| / max|b|`` (0 when both vanish)."""
    scale = b.abs().max().item()
    diff = (a - b).abs().max().item()
    return diff / scale if scale > 0 else diff


def equivariance_errors(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, group: Group
) -> dict[int, float]:
    """Relative error of ``fn(g·x)`` against ``g·fn(x)`` for each element g.

    The action on input and output is chosen by their shapes (see :func:`act`); an output of
    shape ``[B, K]`` is therefore tested for invariance.
    """
    y = fn(x)
    return {g: relative_error(fn(act(group, g, x)), act(group, g, y)) for g in group.elements}


def assert_equivariant(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    group: Group,
    rtol: float | None = None,
) -> dict[int, float]:
    """Raise AssertionError unless ``fn`` is equivariant (invariant, for ``[B, K]`` outputs)
    to every element of ``group`` within ``rtol`` (default: 1e-5 for float32, 1e-12 for
    float64). Returns the errors per element.

    >>> from gcnn_viewer.group import P4
    >>> from gcnn_viewer.nn import P4ConvZ2
    >>> assert_equivariant(P4ConvZ2(1, 4, 3), torch.randn(2, 1, 9, 9), P4)  # doctest: +SKIP
    """
    tol = TOLERANCES.get(x.dtype, 1e-3) if rtol is None else rtol
    errors = equivariance_errors(fn, x, group)
    bad = {group.label(g): err for g, err in errors.items() if not err <= tol}
    if bad:
        worst = ", ".join(f"{label}: {err:.2e}" for label, err in bad.items())
        raise AssertionError(f"not equivariant within rtol={tol:g} ({worst})")
    return errors

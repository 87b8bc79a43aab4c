"""Measure and assert equivariance: ``f(g·x) == g·f(x)`` for every group element g."""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from gcnn_viewer.group import Group

if TYPE_CHECKING:  # torch is imported where it is used (the app's window comes first)
    import torch

# Relative error allowed per dtype (docs/ARCHITECTURE.md, “Tensor and group conventions”).
TOLERANCES = {"float32": 1e-5, "float64": 1e-12}  # by dtype name (torch.float32 → "float32")


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
    tol = TOLERANCES.get(str(x.dtype).removeprefix("torch."), 1e-3) if rtol is None else rtol
    errors = equivariance_errors(fn, x, group)
    bad = {group.label(g): err for g, err in errors.items() if not err <= tol}
    if bad:
        worst = ", ".join(f"{label}: {err:.2e}" for label, err in bad.items())
        raise AssertionError(f"not equivariant within rtol={tol:g} ({worst})")
    return errors


# -- equivariance error against the input angle, per layer -----------------------------------
# float32 rounding: at a quarter turn f_L(R x) and T f_L(x) add the same products in another
# order (the convolution of a turned image with the same filters), so they agree to a few ulps
# of float32 per layer; relative errors stay below this bound (measured: ≤ 1.1e-6 through all
# nine stages of the four shipped models). Anything above it is a real departure from equivariance.
EXACT_TOLERANCE = 1e-5


def disc_mask(size: int, device: torch.device | None = None) -> torch.Tensor:
    """bool ``[size, size]``: the pixels whose centre lies within ``(size − 1) / 2`` of the
    map's centre. A rotation about the centre keeps that disc inside the map, and bilinear
    resampling of a point inside it reads only pixels of the map, so nothing from the cut
    corners (filled with zeros by the rotation) is compared. ``size`` 1: the one pixel;
    ``size`` 2 (whose disc holds no pixel centre): all four."""
    import torch

    if size == 2:
        return torch.ones(2, 2, dtype=torch.bool, device=device)
    c = (size - 1) / 2.0
    r = torch.arange(size, dtype=torch.float64, device=device) - c
    return (r[:, None] ** 2 + r[None, :] ** 2) <= c * c + 1e-9


def rotate_maps(t: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Turn each map of ``t`` ``[B, N, H, W]`` counter-clockwise about its centre by
    ``degrees`` ``[B]`` (bilinear, zeros outside). Angle 0 returns ``t`` itself, bit for bit."""
    import torch

    if t.shape[-1] == 1 and t.shape[-2] == 1:  # a 1×1 map is its own rotation
        return t
    theta = torch.deg2rad(degrees.to(t.dtype))
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(cos)
    # affine_grid maps output to input coordinates with y down: this turns the content
    # counter-clockwise on screen, like torch.rot90 (as training.rotate_batch)
    matrix = torch.stack(
        [torch.stack([cos, -sin, zero], -1), torch.stack([sin, cos, zero], -1)], dim=1
    )  # [B, 2, 3]
    grid = torch.nn.functional.affine_grid(matrix, list(t.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(
        t, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    still = degrees == 0
    if bool(still.any()):
        out[still] = t[still]
    return out


def transform_maps(f: torch.Tensor, degrees: Sequence[float], group: Group | None) -> torch.Tensor:
    """``T_θ f`` for one map ``f`` and each angle: ``[N, ...]`` out of ``f`` ``[C, G, H, W]``
    (group maps of ``group``), ``[C, H, W]`` (planar) or ``[K]`` (logits: left unchanged).

    ``T_θ`` first turns every plane by ``k = round(θ / 90°)`` quarter turns exactly (halves
    rounded up; ``rot90``) and, for group maps, permutes the orientation axis by the group's
    rotation nearest θ (p4 and p4m: those k quarter turns; C8 at 45°: one step of 45°), then
    turns the planes by the rest ``θ − 90°·k`` (in [−45°, 45°)) with bilinear resampling; at
    quarter turns the rest is 0 and ``T_θ`` is exact."""
    import torch

    n = len(degrees)
    if f.dim() == 1:
        return f.expand(n, -1)
    # nearest quarter turn, halves up (45° -> 1): round() would send 45° to 0 but 135° to 2
    nearest = [math.floor(float(a) / 90.0 + 0.5) for a in degrees]
    k = [q % 4 for q in nearest]
    rest = torch.tensor(
        [float(a) - 90.0 * q for a, q in zip(degrees, nearest, strict=True)], dtype=torch.float64
    )
    # the orientation axis follows the group's rotation nearest θ: p4/p4m the same k quarter
    # turns, C8 at 45° one step of 45° (its planes: rot90 by k = 1, then −45° bilinear)
    steps = [group.nearest_rotation(a) if group is not None else 0 for a in degrees]
    keys = list(zip(k, steps, strict=True))
    turned = {}
    for turns, step in set(keys):
        if f.dim() == 4:  # group map [C, G, H, W]: planes rot90, the axis by rotation `step`
            turned[turns, step] = (
                torch.rot90(group.permute_orientations(step, f), turns, dims=(-2, -1))
                if group is not None
                else f
            )
        else:  # planar [C, H, W]
            turned[turns, step] = torch.rot90(f, turns, dims=(-2, -1))
    stacked = torch.stack([turned[key] for key in keys])  # [N, C, (G,) H, W]
    shape = stacked.shape
    flat = stacked.reshape(n, -1, shape[-2], shape[-1])  # [N, C·G, H, W]
    return rotate_maps(flat, rest).reshape(shape)


def as_model(model: object) -> torch.nn.Module:
    """``model`` with the interface the analysis reads (``feature_maps``,
    ``layer_records``): the shipped models as they are, any other ``nn.Module`` wrapped
    (:func:`~gcnn_viewer.models.user.wrap_model`: its children's outputs are its layers).
    :class:`~gcnn_viewer.errors.GcnnViewerError` (one line) for anything else."""
    import torch

    from gcnn_viewer.errors import ConfigError
    from gcnn_viewer.models.user import wrap_model

    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"model must be a torch nn.Module, not {type(model).__name__}")
    return wrap_model(model)


def equivariance(
    model: torch.nn.Module, image: object, angles: Sequence[float]
) -> dict[str, np.ndarray]:
    """Any module's equivariance error per layer against the input angle: ``model`` a
    shipped model or any ``nn.Module`` (:func:`as_model`), ``image`` a 28×28 digit (float
    in [0, 1], white on black) or a :class:`~gcnn_viewer.data.digits.Digit`; the same
    numbers as :func:`equivariance_curve` and ``gcnn-viewer analyse equivariance``.

    ```python
    errors = equivariance(my_p4_net, digit, [0, 45, 90])
    errors["logits"][2]  # 0 up to float32 rounding for an invariant network
    ```
    """
    return equivariance_curve(model, image, angles)


def equivariance_curve(
    model: torch.nn.Module, x: object, angles: Sequence[float]
) -> dict[str, np.ndarray]:
    """``err_L(θ) = ‖f_L(R_θ x) − T_θ f_L(x)‖ / ‖T_θ f_L(x)‖`` for every layer L of ``model``
    (``feature_maps`` order, ending with ``logits``) and every angle: float64 ``[len(angles)]``
    each.

    ``x``: a :class:`~gcnn_viewer.data.digits.Digit` or a float image ``[28, 28]`` in [0, 1].
    ``R_θ`` is the app's input rotation (:func:`~gcnn_viewer.data.digits.rotate_input`: exact
    ``rot90`` at quarter turns, bicubic between), ``T_θ`` is :func:`transform_maps`; norms are
    L2 over every channel and orientation, inside each map's central disc (:func:`disc_mask`).
    ``logits`` compares the logits directly (invariance). One forward pass for all angles.
    At quarter turns an equivariant layer gives 0 up to float32 rounding
    (:data:`EXACT_TOLERANCE`). ``model``: a shipped model or any ``nn.Module``
    (:func:`as_model`; each layer's record says how the input's rotation acts on it)."""
    import torch

    from gcnn_viewer.data.digits import Digit, rotate_input
    from gcnn_viewer.errors import ConfigError, check_numbers
    from gcnn_viewer.viewer.inference import drawn_size

    model = as_model(model)
    if isinstance(x, Digit):
        digit = x
    else:
        try:
            image = np.asarray(x, dtype=np.float32)
        except (TypeError, ValueError):
            kind = type(x).__name__
            raise ConfigError(f"x must be a Digit or a 28×28 image, not {kind}") from None
        if image.shape != (28, 28) or not np.isfinite(image).all():
            raise ConfigError(f"x must be a finite 28×28 image, not one of shape {image.shape}")
        digit = Digit(image)
    degrees = list(check_numbers(angles, "angles"))  # NaN, text or one number: one line
    # at the model's own input size (29 for escnn's MNIST nets): padding a turned 28×28 digit
    # to 29 would move the centre of rotation off the grid's centre
    size = drawn_size(model)  # (a size the drawing cannot make: 28×28, the model pads it)
    images = np.stack(
        [digit.model_input(size)] + [rotate_input(digit, a, size=size) for a in degrees]
    )  # [1+N, size, size]
    batch = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            maps = model.feature_maps(batch)  # one pass: the upright input, then each angle
            records = {r.name: r for r in model.layer_records()}  # each layer its own group
            out = {
                name: layer_error(t, degrees, records[name].group, records[name].transform)
                for name, t in maps.items()
            }
    finally:
        model.train(was_training)
    return out


def layer_error(
    t: torch.Tensor,
    degrees: Sequence[float],
    group: Group | None,
    transform: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
) -> np.ndarray:
    """One layer's ``err(θ)`` (see :func:`equivariance_curve`) from its output ``t`` for the
    batch ``[upright input, R_θ₁ input, …]``: ``[1 + N, ...]`` -> float64 ``[N]``.
    ``transform``: the layer record's own action (escnn components, whose channels mix), used
    for ``group``'s rotation nearest θ, the planes then turned by the rest."""
    import torch

    t = t.double()
    if transform is not None and group is not None and t.dim() == 4:
        reference = torch.stack([_by_transform(t[0], a, group, transform) for a in degrees])
    else:
        reference = transform_maps(t[0], degrees, group)  # [N, ...]
    turned = t[1:]
    if t.dim() >= 4:  # maps: compare inside the central disc
        mask = disc_mask(t.shape[-1], t.device)
        reference = reference[..., mask]
        turned = turned[..., mask]
    diff = (turned - reference).reshape(len(degrees), -1).norm(dim=1)
    scale = reference.reshape(len(degrees), -1).norm(dim=1)
    err = torch.where(scale > 0, diff / scale.clamp_min(1e-300), diff)
    return err.numpy().astype(np.float64)


def _by_transform(
    f: torch.Tensor,
    angle: float,
    group: Group,
    transform: Callable[[int, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``T_θ f`` for a layer with its own ``transform`` (one sample's ``[C, H, W]``): the
    group's rotation nearest θ by ``transform``, then the rest by :func:`rotate_planes`."""
    from gcnn_viewer.group import rotate_planes

    element = group.nearest_rotation(angle)
    rest = (float(angle) - group.degrees(element) + 180.0) % 360.0 - 180.0
    out = f if element == group.identity else transform(element, f)  # 0° stays exactly 0
    return rotate_planes(out, rest) if rest else out


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`equivariance`: ``gcnn_viewer.analysis.equivariance``
    names both this submodule and that function (issue 22), and Python's import sets the
    package's attribute to the submodule once it is imported, so the submodule itself
    answers the call."""

    def __call__(
        self, model: torch.nn.Module, image: object, angles: Sequence[float]
    ) -> dict[str, np.ndarray]:
        return equivariance(model, image, angles)


sys.modules[__name__].__class__ = _CallableModule

"""The equivariance lab (issue 23), Qt-free: the choices that keep a network exact at quarter
turns (input size, input rotation, corner mask, weights) made switches, and each layer's
equivariance error under them.

The error is :func:`~gcnn_viewer.analysis.equivariance.equivariance_curve`'s, layer by layer
(:func:`~gcnn_viewer.analysis.equivariance.layer_error`); only the inputs change:

- ``input_size``: the digit drawn into an N×N field the MNIST way
  (:meth:`~gcnn_viewer.data.digits.Digit.model_input`). Where a 2×2 max-pool meets an odd
  map it drops a row and a column and moves the rotation centre; where a map becomes smaller
  than the next layer's window, that layer and the ones after it are "n/a" (with the reason).
- ``rotation``: how angles that are not quarter turns are made
  (:func:`~gcnn_viewer.data.digits.rotate_input`); quarter turns are exact ``rot90`` always.
- ``mask``: ``disc`` zeroes the corners outside the field's central disc
  (:func:`~gcnn_viewer.analysis.equivariance.disc_mask`) before the model, upright and turned
  alike, as escnn's examples do, so the corners' content leaves the comparison.

The API the app's Lab panel and ``gcnn-viewer analyse equivariance`` use: :class:`LabSettings`,
:func:`lab_curves` -> :class:`LabCurves`, :func:`lab_readout` -> :class:`Readout`,
:func:`architecture_mismatch` (for a second set of weights of the same network).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE, disc_mask, layer_error
from gcnn_viewer.data.digits import (
    DEFAULT_ROTATION,
    MAX_INPUT_SIZE,
    MIN_INPUT_SIZE,
    MNIST_SIZE,
    Digit,
    parse_rotation,
    quarter_turns,
    rotate_input,
)
from gcnn_viewer.errors import ConfigError, check_int, check_numbers

if TYPE_CHECKING:
    import torch

MASKS = ("none", "disc")
DEFAULT_MASK = "none"
READOUT_ANGLE = 90.0  # the readout's angle: a quarter turn, where the paper's nets are exact
BATCH = 256  # angles per forward pass (as the analyse command's CURVE_BATCH)

__all__ = [
    "DEFAULT_MASK",
    "DEFAULT_SETTINGS",
    "MASKS",
    "READOUT_ANGLE",
    "LabCurves",
    "LabSettings",
    "Readout",
    "architecture_mismatch",
    "lab_curves",
    "lab_inputs",
    "lab_readout",
]


@dataclass(frozen=True)
class LabSettings:
    """The lab's switches. The defaults are what the app does: 28×28, its ``native`` rotation
    (bicubic on the digit's own pixels, then averaged down), no mask. Values are checked and
    normalised (``"Supersample:4 "`` -> ``"supersample:4"``); bad ones are a one-line
    :class:`~gcnn_viewer.errors.ConfigError`."""

    input_size: int = MNIST_SIZE
    rotation: str = DEFAULT_ROTATION
    mask: str = DEFAULT_MASK

    def __post_init__(self) -> None:
        size = check_int(self.input_size, "input size", MIN_INPUT_SIZE, MAX_INPUT_SIZE)
        kind, k = parse_rotation(self.rotation)
        mask = self.mask.strip().lower() if isinstance(self.mask, str) else self.mask
        if mask not in MASKS:
            raise ConfigError(f"mask must be one of {', '.join(MASKS)}, not {self.mask!r}")
        object.__setattr__(self, "input_size", size)
        object.__setattr__(self, "rotation", f"supersample:{k}" if kind == "supersample" else kind)
        object.__setattr__(self, "mask", mask)

    def as_json(self) -> dict[str, Any]:
        """``{"input_size": 28, "rotation": "native", "mask": "none"}``."""
        return {"input_size": self.input_size, "rotation": self.rotation, "mask": self.mask}

    def describe(self) -> str:
        """One line: ``input 29×29 · rotation native · mask none``."""
        n = self.input_size
        return f"input {n}×{n} · rotation {self.rotation} · mask {self.mask}"

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_SETTINGS


DEFAULT_SETTINGS = LabSettings()


@dataclass(frozen=True, eq=False)
class LabCurves:
    """Each layer's error against angle for one model under one :class:`LabSettings`.

    ``errors``: every layer in ``feature_maps`` order (ending with ``logits``), float64
    ``[len(angles)]``; NaN for a layer that cannot be computed at this input size, whose
    one-line reason is in ``unavailable``. ``shapes``: each computed layer's output shape
    without the batch (``[C, G, H, W]``, ``[C, H, W]`` or ``[K]``)."""

    angles: tuple[float, ...]
    errors: dict[str, np.ndarray]
    settings: LabSettings
    unavailable: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def at(self, angle: float) -> dict[str, float | None]:
        """Each layer's error at ``angle`` (one of :attr:`angles`); None where n/a."""
        k = self.angles.index(float(angle))
        return {
            name: None if name in self.unavailable else float(err[k])
            for name, err in self.errors.items()
        }

    def as_json(self) -> dict[str, Any]:
        """``{"settings", "angles", "error": {layer: [..] | null}, "unavailable": {..}}``."""
        return {
            "settings": self.settings.as_json(),
            "angles": list(self.angles),
            "error": {
                name: None if name in self.unavailable else [float(v) for v in err]
                for name, err in self.errors.items()
            },
            "unavailable": dict(self.unavailable),
        }


@dataclass(frozen=True)
class Readout:
    """Where equivariance at ``angle`` first breaks, and why.

    ``exact_up_to``: the last layer (from the first on) whose error stays within float32
    rounding (:data:`~gcnn_viewer.analysis.equivariance.EXACT_TOLERANCE`), None if the first
    is not; ``first_broken``: the layer after it, None if none is; ``reason``: why, in words;
    ``unavailable``: the layers that cannot be computed, with the reason; ``text``: one line,
    "exact up to l2 at 90°; first broken: pool (the 2×2 max-pool meets an odd 25×25 map: …)".
    """

    angle: float
    exact_up_to: str | None
    first_broken: str | None
    reason: str | None
    unavailable: dict[str, str]
    text: str

    def as_json(self) -> dict[str, Any]:
        return {
            "angle": self.angle,
            "exact_up_to": self.exact_up_to,
            "first_broken": self.first_broken,
            "reason": self.reason,
            "unavailable": dict(self.unavailable),
            "text": self.text,
        }


def _digit(x: object) -> Digit:
    if isinstance(x, Digit):
        return x
    try:
        image = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise ConfigError(f"x must be a Digit or a 28×28 image, not {type(x).__name__}") from None
    if image.shape != (MNIST_SIZE, MNIST_SIZE) or not np.isfinite(image).all():
        raise ConfigError(f"x must be a finite 28×28 image, not one of shape {image.shape}")
    return Digit(image)


def lab_inputs(
    digit: object, angles: Sequence[float], settings: LabSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """float32 ``[1 + len(angles), N, N]``: the upright input, then the input turned by each
    angle, as ``settings`` make them (size, rotation method, mask)."""
    digit = _digit(digit)
    n = settings.input_size
    images = [digit.model_input(n)]
    images += [rotate_input(digit, a, size=n, method=settings.rotation) for a in angles]
    out = np.stack(images).astype(np.float32, copy=False)
    if settings.mask == "disc":
        out = np.where(disc_mask(n).numpy(), out, np.float32(0.0))
    return np.ascontiguousarray(out, dtype=np.float32)


def _records(model: torch.nn.Module) -> dict[str, Any]:
    """Every layer the model has at its own input size, in order: name -> its record (whose
    ``group`` says how the input's rotation acts on it)."""
    return {r.name: r for r in model.layer_records()}


def _forward(model: torch.nn.Module, batch: torch.Tensor) -> tuple[dict, str | None, str | None]:
    """The layers computed for ``batch``; where a layer cannot be computed (a map smaller
    than its window), its name and the one-line reason."""
    from gcnn_viewer.models.networks import MapTooSmallError

    stages = getattr(model, "stages", None)
    if not callable(stages):  # a model without stages (a user's) computes all or nothing
        return dict(model.feature_maps(batch)), None, None
    maps: dict = {}
    try:
        for name, t in stages(batch):
            maps[name] = t
    except MapTooSmallError as exc:
        return maps, exc.layer, str(exc)
    return maps, None, None


def lab_curves(
    model: torch.nn.Module,
    digit: object,
    angles: Sequence[float],
    settings: LabSettings = DEFAULT_SETTINGS,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> LabCurves:
    """Each layer's ``err_L(θ)`` (:func:`~gcnn_viewer.analysis.equivariance.equivariance_curve`'s
    definition and maths) for ``model`` on ``digit`` (a :class:`~gcnn_viewer.data.digits.Digit`
    or a 28×28 image) at each angle, under ``settings``. Layers the input size leaves out
    are NaN with their reason (:attr:`LabCurves.unavailable`); nothing raises for them.
    ``progress(done, total)`` after each batch of :data:`BATCH` angles. The model is not
    changed (a frozen one stays frozen; its mode is restored)."""
    import torch

    from gcnn_viewer.analysis.equivariance import as_model

    if not isinstance(settings, LabSettings):
        raise ConfigError(f"settings must be LabSettings, not {type(settings).__name__}")
    from gcnn_viewer.viewer.inference import drawn_size

    model = as_model(model)  # ours as they are; any other nn.Module seen through its layers
    own = drawn_size(model)  # its input size, or 28 where the drawing cannot make it (it pads)
    if not callable(getattr(model, "stages", None)) and settings.input_size != own:
        raise ConfigError(
            f"{getattr(model, 'name', '') or type(model).__name__} takes {own}×{own} inputs: "
            f"the lab's input size must be {own}, not {settings.input_size}"
        )
    degrees = [float(a) for a in check_numbers(angles, "angles")]
    digit = _digit(digit)
    records = _records(model)
    names = list(records)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    unavailable: dict[str, str] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    was_training = model.training
    model.eval()
    try:
        for lo in range(0, max(len(degrees), 1), BATCH):
            chunk = degrees[lo : lo + BATCH]
            batch = torch.from_numpy(lab_inputs(digit, chunk, settings))[:, None]
            with torch.inference_mode():
                maps, missing, reason = _forward(model, batch)
                for name, t in maps.items():
                    shapes[name] = tuple(t.shape[1:])
                    record = records.get(name)  # its group, and escnn components' transform
                    group = record.group if record is not None else None
                    transform = getattr(record, "transform", None)
                    parts.setdefault(name, []).append(layer_error(t, chunk, group, transform))
            if missing is not None:
                later = names[names.index(missing) :] if missing in names else [missing]
                unavailable.update({name: reason for name in later})
            if progress is not None:
                progress(min(lo + BATCH, len(degrees)), len(degrees))
    finally:
        model.train(was_training)
    nan = np.full(len(degrees), np.nan)
    errors = {
        name: nan.copy() if name in unavailable or not p else np.concatenate(p)
        for name, p in parts.items()
    }
    return LabCurves(tuple(degrees), errors, settings, unavailable, shapes)


def _pool_halves_odd(shape: tuple[int, ...], before: int | None) -> bool:
    """A map of ``shape`` that is a 2×2 pool's floor(n/2) of an odd ``before``×``before``."""
    return before is not None and before % 2 == 1 and len(shape) >= 3 and shape[-1] == before // 2


def _reason(name: str, curves: LabCurves, before: int | None, angle: float, err: float) -> str:
    """Why layer ``name`` breaks equivariance at ``angle`` when every layer before it held."""
    shape = curves.shapes.get(name, ())
    if quarter_turns(angle) is None:
        return f"not a quarter turn: interpolated input ({curves.settings.rotation} rotation)"
    if _pool_halves_odd(shape, before):
        return (
            f"the 2×2 max-pool meets an odd {before}×{before} map: it drops a row and a "
            "column and moves the rotation centre"
        )
    if len(shape) == 3:
        return "planar layer: not equivariant"
    return f"error {err:.1e} above float32 rounding ({EXACT_TOLERANCE:g})"


def lab_readout(
    model: torch.nn.Module | None,
    digit: object = None,
    settings: LabSettings = DEFAULT_SETTINGS,
    angle: float = READOUT_ANGLE,
    *,
    curves: LabCurves | None = None,
) -> Readout:
    """The readout at ``angle`` (default 90°): "exact up to X at 90°; first broken: Y
    (reason)", with the layers that cannot be computed at this input size.

    Computed from ``curves`` when they hold ``angle`` (then ``model`` and ``digit`` may be
    None), else from one :func:`lab_curves` pass of ``model`` on ``digit`` at that angle.
    The reasons it names: a 2×2 max-pool meeting an odd map; an angle that is not a quarter
    turn (the input is interpolated); a planar layer (not equivariant); else the size of
    the error."""
    angle = float(check_numbers([angle], "angle")[0])
    if curves is None or angle not in curves.angles:
        if model is None:
            raise ConfigError(f"no curves at {angle:g}° and no model to compute them")
        curves = lab_curves(model, digit, [angle], settings if curves is None else curves.settings)
    values = curves.at(angle)
    before: int | None = curves.settings.input_size
    exact_up_to = first_broken = reason = None
    for name, err in values.items():
        if err is None:
            break
        if not err <= EXACT_TOLERANCE:
            first_broken, reason = name, _reason(name, curves, before, angle, err)
            break
        exact_up_to = name
        shape = curves.shapes.get(name, ())
        before = shape[-1] if len(shape) >= 3 else None
    unavailable = dict(curves.unavailable)
    return Readout(
        angle,
        exact_up_to,
        first_broken,
        reason,
        unavailable,
        _text(angle, exact_up_to, first_broken, reason, unavailable, list(values)),
    )


def _text(
    angle: float,
    exact_up_to: str | None,
    first_broken: str | None,
    reason: str | None,
    unavailable: dict[str, str],
    layers: list[str],
) -> str:
    at = f"{angle:g}°"
    if exact_up_to is None and first_broken is not None:
        head = f"not exact at {at} from the first layer on"
    elif exact_up_to is None:
        head = f"no layer computed at {at}"
    elif first_broken is None and not unavailable and exact_up_to == layers[-1]:
        head = f"exact up to {exact_up_to} at {at}: every layer"
    else:
        head = f"exact up to {exact_up_to} at {at}"
    parts = [head]
    if first_broken is not None:
        parts.append(f"first broken: {first_broken} ({reason})")
    if unavailable:
        first = next(iter(unavailable))
        missing = ", ".join(unavailable)
        parts.append(f"n/a: {missing} ({unavailable[first]})")
    return "; ".join(parts)


def architecture_mismatch(a: torch.nn.Module, b: torch.nn.Module) -> str | None:
    """None when ``b`` is the same network as ``a`` with other weights (same class, config
    but for the name, and tensors of the same names and shapes), else one line saying how
    they differ: a second curve set compares weights only on the same architecture."""
    kind_a, kind_b = type(a).__name__, type(b).__name__
    if kind_a != kind_b:
        return f"a {kind_b}, not a {kind_a}"
    config_a = {k: v for k, v in (getattr(a, "config", None) or {}).items() if k != "name"}
    config_b = {k: v for k, v in (getattr(b, "config", None) or {}).items() if k != "name"}
    if config_a != config_b:
        differ = sorted(
            k for k in set(config_a) | set(config_b) if config_a.get(k) != config_b.get(k)
        )
        return f"a {kind_b} with other {', '.join(differ)}"
    shapes_a = {k: tuple(v.shape) for k, v in a.state_dict().items()}
    shapes_b = {k: tuple(v.shape) for k, v in b.state_dict().items()}
    if shapes_a != shapes_b:
        return f"a {kind_b} whose tensors differ in names or shapes"
    return None

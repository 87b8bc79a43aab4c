"""What every export shares: what to show (:class:`ViewSpec`), its frames, computed by the
viewer's own pipeline, and the provenance every file records. Qt-free.

The app and the command line describe an export with the same plain objects: a
:class:`ViewSpec` (models, input, angles, layers, channels, stabilised) holding
:class:`ExportModel` s and an :class:`ExportInput` (made in :mod:`gcnn_viewer.viewer.sources`,
which the analyses share). Feature maps come from :func:`gcnn_viewer.viewer.compute_frame`, the
function the app's worker thread calls, with the models' own
:class:`~gcnn_viewer.viewer.ModelProbe` (layouts and fixed colour scales), so an exported
figure shows exactly what the screen shows. Files are written through
:mod:`gcnn_viewer.figure_output`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gcnn_viewer import __version__
from gcnn_viewer.errors import (
    ExportCancelled,
    ExportError,
    check_ints,
    check_names,
    check_numbers,
    check_sequence,
)
from gcnn_viewer.figure_output import atomic_output
from gcnn_viewer.viewer.inference import (
    FrameRequest,
    FrameResult,
    PanelSpec,
    compute_frames,
)
from gcnn_viewer.viewer.sources import (
    ExportInput,
    ExportModel,
    resolve_input,
    resolve_models,
    unique_names,
)

# ExportModel, ExportInput, resolve_*, atomic_output and the errors are re-exported:
# gcnn_viewer.export's public names are this module's and render's __all__.
__all__ = [
    "DEFAULT_ANGLES",
    "ExportCancelled",
    "ExportError",
    "ExportInput",
    "ExportModel",
    "ViewSpec",
    "atomic_output",
    "resolve_input",
    "resolve_models",
    "unique_names",
]

DEFAULT_ANGLES = (0.0, 90.0)
MAX_ANGLES = 360  # in one figure or data export: each is a row of every layer's maps


Progress = Callable[[int, int], None]  # (done, total)


# -- what to show -----------------------------------------------------------------------------
@dataclass(eq=False)
class ViewSpec:
    """One export's content: the same knobs as the app's view, plus several angles.

    ``layers``/``channels`` None: all of them. Channels index every chosen layer (a channel
    a layer lacks is an error); angles are degrees, counter-clockwise.
    """

    models: Sequence[ExportModel]
    input: ExportInput
    angles: Sequence[float] = DEFAULT_ANGLES
    layers: Sequence[str] | None = None
    channels: Sequence[int] | None = None
    stabilised: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in the provenance

    def __post_init__(self) -> None:
        # checked as given (one ExportError line): a string is not a list of layers, 1.5 is
        # not channel 1, NaN is not an angle
        self.models = tuple(check_sequence(self.models, "models", ExportError))
        if not self.models:
            raise ExportError("an export needs at least one model")
        for i, model in enumerate(self.models):
            if not isinstance(model, ExportModel):
                raise ExportError(
                    f"models[{i}] must be an ExportModel (see resolve_models), not "
                    f"{type(model).__name__}"
                )
        if not isinstance(self.input, ExportInput):
            raise ExportError(
                f"input must be an ExportInput (see resolve_input), not {type(self.input).__name__}"
            )
        self.angles = check_numbers(self.angles, "angles", error=ExportError)
        if not self.angles:
            raise ExportError("an export needs at least one angle")
        if self.layers is not None:
            self.layers = check_names(self.layers, "layers", ExportError)
        if self.channels is not None:
            self.channels = check_ints(self.channels, "channels", 0, error=ExportError)
        if not isinstance(self.stabilised, (bool, np.bool_)):
            raise ExportError(f"stabilised must be True or False, not {self.stabilised!r}")
        self.stabilised = bool(self.stabilised)
        if not isinstance(self.extra, dict):
            raise ExportError(f"extra must be a dict, not {type(self.extra).__name__}")
        names = [m.name for m in self.models]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # their data keys, CSV columns and figure panels would overwrite each other
            raise ExportError(
                f"two models are named {', '.join(twice)}: the models of one export need "
                "different names (unique_names gives the second one -2)"
            )

    def layer_names(self, model: ExportModel) -> list[str]:
        """The chosen layers present in ``model`` (in the model's order); all when None."""
        available = list(model.probe.layers)
        if self.layers is None:
            return available
        unknown = [name for name in self.layers if name not in available]
        if unknown:
            raise ExportError(
                f"{model.title} has no layer {', '.join(unknown)}; its layers are "
                f"{' '.join(available)}"
            )
        return [name for name in available if name in self.layers]

    def check(self) -> None:
        """Every model has the chosen layers and channels, and the angles are at most
        :data:`MAX_ANGLES` (one line otherwise)."""
        if len(self.angles) > MAX_ANGLES:
            raise ExportError(
                f"at most {MAX_ANGLES} angles in one export, not {len(self.angles)} "
                "(an animation turns the input through as many frames as asked)"
            )
        for model in self.models:
            probe = model.probe
            for name in self.layer_names(model):
                self.channel_list(probe.layouts[name].channels, f"{model.title} {name}")

    def channel_list(self, n: int, where: str) -> list[int]:
        if self.channels is None:
            return list(range(n))
        bad = [c for c in self.channels if not 0 <= int(c) < n]
        if bad:
            raise ExportError(f"{where} has channels 0..{n - 1}, not {bad[0]}")
        return [int(c) for c in self.channels]


def angle_text(angle: float) -> str:
    """``90`` -> ``"90"``, ``37.5`` -> ``"37.5"``: angles written as given (the shortest
    text that reads back as the same float, without a trailing ``.0``)."""
    text = repr(float(angle))
    return text[:-2] if text.endswith(".0") else text


def frame_request(spec: ViewSpec, stabilised: bool | None = None) -> FrameRequest:
    """The app's frame request for ``spec``'s models, input and view (first angle)."""
    return FrameRequest(
        seq=0,
        snapshot=spec.input.snapshot,
        angle=float(spec.angles[0]) if spec.angles else 0.0,
        stabilised=spec.stabilised if stabilised is None else stabilised,
        panels=tuple(PanelSpec(m.name, m.model, m.probe) for m in spec.models),
    )


def frame(spec: ViewSpec, angle: float, stabilised: bool | None = None) -> FrameResult:
    """Every layer of every model at ``angle``: the app's own frame computation."""
    return next(compute_frames(frame_request(spec, stabilised), [angle], chunk=1))


def frame_stream(spec: ViewSpec, angles: Sequence[float], chunk: int = 12) -> Iterator[FrameResult]:
    """:func:`frame` for many angles through the app's own pipeline, ``chunk`` inputs per
    forward pass (an animation's 72 single passes cost ~10× more), chosen layers only."""
    chosen = {m.name: spec.layer_names(m) for m in spec.models}
    return compute_frames(frame_request(spec), angles, layers=chosen, chunk=chunk)


def provenance(spec: ViewSpec, kind: str, **more: Any) -> dict[str, Any]:
    """What every exported file records about how it was made."""
    record = {
        "software": f"gcnn-viewer {__version__}",
        "kind": kind,
        "models": [m.provenance() for m in spec.models],
        "input": spec.input.source,
        "angles": [float(a) for a in spec.angles],
        "stabilised": bool(spec.stabilised),
        "layers": list(spec.layers) if spec.layers is not None else "all",
        "channels": [int(c) for c in spec.channels] if spec.channels is not None else "all",
        "angle_convention": "counter-clockwise; multiples of 90° are exactly torch.rot90",
    }
    record.update(spec.extra)
    record.update(more)
    return record

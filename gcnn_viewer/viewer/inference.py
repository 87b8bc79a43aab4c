"""Inference for the viewer: one frame (every layer of two models), the rotation sweep, and a
latest-wins scheduler between the GUI thread and one worker thread. Qt-free.

Requests carry everything the computation needs (an immutable input snapshot, the models, the
display options); results are plain numpy arrays detached from torch, safe to hand across
threads. The scheduler keeps at most one pending frame and one sweep: a newer request replaces
an older one that has not started ("latest wins"), so dragging the rotation dial never queues
stale work; frames always go before the next step of a sweep, which runs in small chunks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gcnn_viewer.data.digits import (
    MAX_INPUT_SIZE,
    MIN_INPUT_SIZE,
    MNIST_SIZE,
    Digit,
    quarter_turns,
    rotate_input,
)
from gcnn_viewer.viewer.drawing import InputSnapshot
from gcnn_viewer.viewer.layout import ColourTables, as_group_maps, stabilise
from gcnn_viewer.viewer.models import ModelProbe

if TYPE_CHECKING:  # torch is imported where it is used: the app shows its window first
    from gcnn_viewer.group import Group
    from gcnn_viewer.models import GCNNModel

SWEEP_STEP = 2  # degrees between sweep angles: 181 angles over 0..360
SWEEP_CHUNK = 8  # angles per sweep step: a frame waits at most one step


@dataclass(frozen=True, eq=False)
class PanelSpec:
    key: str
    model: GCNNModel
    probe: ModelProbe


@dataclass(frozen=True, eq=False)
class FrameRequest:
    seq: int
    snapshot: InputSnapshot
    angle: float
    stabilised: bool
    panels: tuple[PanelSpec, ...]
    colours: ColourTables | None = None  # set: frames also carry RGB32 mosaics


@dataclass(frozen=True, eq=False)
class LayerFrame:
    data: np.ndarray  # float32 [C, G, h, w] as displayed (after stabilisation); G = 1 planar
    image: np.ndarray  # uint8 mosaic [H, W] (colour-table indices, 0 = gap)
    rgb: np.ndarray | None = None  # uint32 [H, W] 0xAARRGGBB, when the request had colours


@dataclass(frozen=True, eq=False)
class PanelFrame:
    key: str
    probabilities: np.ndarray  # float32 [10]
    layers: dict[str, LayerFrame]
    logits: np.ndarray | None = None  # float32 [10], before the softmax

    @property
    def prediction(self) -> int:
        return int(np.argmax(self.probabilities))


@dataclass(frozen=True, eq=False)
class FrameResult:
    seq: int
    version: int  # the drawing version it shows
    angle: float
    turns: int  # quarter turns undone by the stabilised view (0 when off)
    stabilised: bool
    input: np.ndarray  # float32 [28, 28]: what the models saw
    panels: tuple[PanelFrame, ...]
    compute_ms: float

    def panel(self, key: str) -> PanelFrame:
        return next(p for p in self.panels if p.key == key)


def stabilising_turns(angle: float) -> int:
    """The quarter turns the stabilised view undoes at ``angle``: the nearest multiple of
    90° (only those are symmetries of the pixel grid)."""
    exact = quarter_turns(angle)
    return exact if exact is not None else round(angle / 90.0) % 4


def stabilised_note(
    angle: float, finer: Sequence[tuple[str, Group]] = (), quarter: bool = True
) -> str:
    """What the stabilised view does at ``angle``, in words for the screen: between quarter
    turns it undoes the nearest one, which is not the whole rotation.

    ``finer``: ``(model name, group)`` of the panels whose group is finer than quarter turns
    (C8): their nearest element is undone instead (:func:`~gcnn_viewer.viewer.layout.stabilise`);
    ``quarter``: whether some panel still undoes quarter turns."""
    turns = stabilising_turns(angle)
    rest = (angle - 90 * turns + 180.0) % 360.0 - 180.0  # in [-45, 45]: 350° is 0° − 10°
    if finer:
        parts = []
        for name, group in finer:
            degrees = group.degrees(group.nearest_rotation(angle))
            left = (angle - degrees + 180.0) % 360.0 - 180.0
            more = f", {left:+.0f}° remain" if abs(left) >= 0.5 else ""
            parts.append(f"{degrees:g}° for {name} ({group.name}{more})")
        if not quarter:
            return "Stabilised: undoing " + ", ".join(parts)
        exact = "exactly" if quarter_turns(angle) is not None else f"{rest:+.0f}° remain"
        return f"Stabilised: undoing {90 * turns}° ({exact}); " + ", ".join(parts)
    if quarter_turns(angle) is not None:
        return f"Stabilised: undoing {90 * turns}° exactly"
    return (
        f"Stabilised: undoing {90 * turns}°, the quarter turn nearest {angle:.0f}° "
        f"({rest:+.0f}° remain)"
    )


def finer_panels(entries: Sequence[Any]) -> tuple[list[tuple[str, Group]], bool]:
    """For :func:`stabilised_note`: ``(title, group)`` of the loaded panels' models whose group
    is finer than quarter turns (C8), and whether any other panel undoes quarter turns (a
    model still loading counts as one)."""
    finer, quarter = [], False
    for entry in entries:
        group = getattr(entry.model, "group", None) if entry.loaded else None
        if group is not None and group.interpolated:
            finer.append((entry.title, group))
        else:
            quarter = True
    return finer, quarter


def drawn_size(model: object) -> int:
    """The side of the field the digit is drawn into for ``model``: its ``input_size`` (a
    user's model may take 29×29 or 33×33) where the drawing supports it
    (:data:`~gcnn_viewer.data.digits.MIN_INPUT_SIZE` … ``MAX_INPUT_SIZE``), else 28 (the
    model pads or crops the 28×28 digit itself)."""
    size = getattr(model, "input_size", MNIST_SIZE)
    if isinstance(size, int) and MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE:
        return size
    return MNIST_SIZE


def model_inputs(
    digit: Digit, angles: Sequence[float], models: Sequence[object]
) -> dict[int, np.ndarray]:
    """The digit turned by each angle, drawn at 28×28 and at every other size ``models``
    take: ``{size: float32 [B, size, size]}``."""
    sizes = {MNIST_SIZE} | {drawn_size(m) for m in models}
    return {
        n: np.stack([rotate_input(digit, float(a), size=n) for a in angles]) for n in sorted(sizes)
    }


def model_batch(inputs: Mapping[int, np.ndarray], model: object) -> Any:
    """``model``'s batch ``[B, 1, N, N]`` out of :func:`model_inputs`."""
    import torch

    return torch.from_numpy(inputs[drawn_size(model)])[:, None]


def compute_frame(request: FrameRequest) -> FrameResult:
    """Every layer of every panel's model for the rotated input, as mosaics."""
    return next(compute_frames(request))


def compute_frames(
    request: FrameRequest,
    angles: Sequence[float] | None = None,
    *,
    layers: Mapping[str, Sequence[str]] | None = None,
    chunk: int = 12,
) -> Iterator[FrameResult]:
    """The one frame pipeline (the app's worker and every export): ``request`` at each of
    ``angles`` (default: its own angle), ``chunk`` inputs per forward pass, with only the
    ``layers`` named per panel key (default: all). Rotation, stabilisation, mosaics and
    colours are the same whatever the batch."""
    import torch

    angles = [request.angle] if angles is None else [float(a) for a in angles]
    digit = request.snapshot.digit
    for lo in range(0, len(angles), chunk):
        start = time.perf_counter()
        batch = angles[lo : lo + chunk]
        inputs = model_inputs(digit, batch, [spec.model for spec in request.panels])
        images = inputs[MNIST_SIZE]  # [B, 28, 28]: what the window shows
        with torch.inference_mode():
            maps = {
                spec.key: spec.model.feature_maps(model_batch(inputs, spec.model))
                for spec in request.panels
            }
        for b, angle in enumerate(batch):
            turns = stabilising_turns(angle) if request.stabilised else 0
            panels = tuple(
                _panel_frame(
                    spec,
                    {name: t[b] for name, t in maps[spec.key].items()},
                    turns,
                    spec.probe.layers if layers is None else layers[spec.key],
                    request.colours,
                    angle if request.stabilised else None,
                )
                for spec in request.panels
            )
            yield FrameResult(
                seq=request.seq,
                version=request.snapshot.version,
                angle=angle,
                turns=turns,
                stabilised=request.stabilised,
                input=images[b],
                panels=panels,
                compute_ms=1000 * (time.perf_counter() - start),
            )


def _panel_frame(
    spec: PanelSpec,
    maps: Mapping[str, Any],
    turns: int,
    names: Sequence[str],
    colours: ColourTables | None,
    angle: float | None = None,
) -> PanelFrame:
    """One model's layers (one input's maps, ``[C, (G,) h, w]`` each) packed as mosaics;
    ``angle`` (stabilised view): a model finer than quarter turns (C8) has the element nearest
    it undone instead of ``turns`` quarter turns (:func:`~gcnn_viewer.viewer.layout.stabilise`)."""
    import torch

    logits = maps["logits"].float()  # [10]
    probabilities = torch.softmax(logits, 0).numpy()
    layers = {}
    for name in names:
        layout = spec.probe.layouts[name]  # each layer its own group (its record's)
        finest = getattr(spec.model, "group", None)
        t = stabilise(maps[name], layout.group, turns, angle=angle, finest=finest)
        data = np.ascontiguousarray(as_group_maps(t).float().numpy())
        scale = spec.probe.scales[name]
        image_u8 = layout.render(data, scale)
        rgb = np.take(colours.table(scale), image_u8) if colours is not None else None
        layers[name] = LayerFrame(data, image_u8, rgb)
    return PanelFrame(spec.key, probabilities.copy(), layers, logits.numpy().copy())


@dataclass(frozen=True, eq=False)
class SweepRequest:
    seq: int
    snapshot: InputSnapshot
    models: tuple[tuple[str, GCNNModel], ...]  # (key, model)
    angles: np.ndarray = field(
        default_factory=lambda: np.arange(0, 360 + SWEEP_STEP, SWEEP_STEP, dtype=np.float64)
    )
    chunk: int = SWEEP_CHUNK


@dataclass(frozen=True, eq=False)
class SweepResult:
    seq: int
    version: int
    angles: np.ndarray  # float64 [N], degrees
    probabilities: dict[str, np.ndarray]  # key -> float32 [N, 10]

    def curve(self, key: str, cls: int) -> np.ndarray:
        return self.probabilities[key][:, cls]


def sweep_steps(request: SweepRequest) -> Generator[None, None, SweepResult]:
    """Class probabilities of every model at every angle, one chunk of angles per step."""
    import torch

    digit = request.snapshot.digit
    n = len(request.angles)
    out: dict[str, np.ndarray] = {}  # key -> [N, K]: 10 classes, or a user model's K
    for lo in range(0, n, request.chunk):
        hi = min(n, lo + request.chunk)
        inputs = model_inputs(digit, request.angles[lo:hi], [m for _, m in request.models])
        with torch.inference_mode():
            for key, model in request.models:
                p = torch.softmax(model(model_batch(inputs, model)).float(), 1).numpy()
                out.setdefault(key, np.empty((n, p.shape[1]), np.float32))[lo:hi] = p
        yield
    for key, _ in request.models:  # no angles: no classes seen
        out.setdefault(key, np.empty((n, 10), np.float32))
    return SweepResult(request.seq, request.snapshot.version, request.angles, out)


def run_sweep(request: SweepRequest) -> SweepResult:
    """The whole sweep at once (headless use and tests)."""
    steps = sweep_steps(request)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


class InferenceScheduler:
    """Latest-wins mailbox between the GUI thread and one worker thread.

    ``take()`` (worker side) blocks until there is work and returns ``("frame", request)``
    or ``("sweep", steps)``, one step of the current sweep generator; it returns None once
    closed. A frame always goes first; a new sweep request drops the sweep in progress.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._frame: FrameRequest | None = None
        self._sweep: SweepRequest | None = None
        self._steps: Iterator[None] | None = None
        self._closed = False
        self.frames_submitted = 0
        self.frames_taken = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def submit_frame(self, request: FrameRequest) -> None:
        with self._cv:
            self._frame = request
            self.frames_submitted += 1
            self._cv.notify_all()

    def submit_sweep(self, request: SweepRequest) -> None:
        with self._cv:
            self._sweep, self._steps = request, None
            self._cv.notify_all()

    def cancel_sweep(self) -> None:
        with self._cv:
            self._sweep, self._steps = None, None

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._frame = self._sweep = self._steps = None
            self._cv.notify_all()

    def take(self, timeout: float | None = None) -> tuple[str, object] | None:
        with self._cv:
            if not self._cv.wait_for(self._has_work, timeout) or self._closed:
                return None
            if self._frame is not None:
                request, self._frame = self._frame, None
                self.frames_taken += 1
                return "frame", request
            if self._steps is None:
                self._steps = sweep_steps(self._sweep)
                self._sweep = None
            return "sweep", self._steps

    def finish_sweep(self, steps: Iterator[None]) -> bool:
        """Mark a sweep done; False when it was replaced meanwhile (drop its result)."""
        with self._cv:
            if self._steps is steps:
                self._steps = None
                return True
            return False

    def drop_sweep(self, steps: Iterator[None]) -> None:
        self.finish_sweep(steps)

    def _has_work(self) -> bool:
        return (
            self._closed
            or self._frame is not None
            or self._sweep is not None
            or self._steps is not None
        )

    def idle(self) -> bool:
        with self._cv:
            return not self._has_work()


def work_once(scheduler: InferenceScheduler, timeout: float | None = None):
    """Do one unit of work: returns a FrameResult, a SweepResult, "step" (a sweep chunk
    done), or None (closed / timed out). The worker thread calls this in a loop."""
    task = scheduler.take(timeout)
    if task is None:
        return None
    kind, payload = task
    if kind == "frame":
        return compute_frame(payload)
    try:
        next(payload)
    except StopIteration as done:
        return done.value if scheduler.finish_sweep(payload) else "step"
    except Exception:
        scheduler.drop_sweep(payload)
        raise
    return "step"

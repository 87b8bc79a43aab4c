"""What every export shares: the error type, atomic writes, models, inputs, provenance and
the feature maps themselves, computed by the viewer's own pipeline. Qt-free.

The app and the command line describe an export with the same plain objects: a
:class:`ViewSpec` (models, input, angles, layers, channels, stabilised) holding
:class:`ExportModel` s and an :class:`ExportInput`. Feature maps come from
:func:`gcnn_viewer.viewer.compute_frame`, the function the app's worker thread calls, with the
models' own :class:`~gcnn_viewer.viewer.ModelProbe` (layouts and fixed colour scales), so an
exported figure shows exactly what the screen shows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gcnn_viewer import __version__
from gcnn_viewer.data.digits import DigitImageError, load_image_file
from gcnn_viewer.data.files import atomic_path, json_text, write_target
from gcnn_viewer.data.mnist import sha256_file
from gcnn_viewer.errors import (
    GcnnViewerError,
    check_ints,
    check_names,
    check_numbers,
    check_sequence,
)
from gcnn_viewer.models.networks import GCNNModel
from gcnn_viewer.viewer.drawing import Drawing, InputSnapshot
from gcnn_viewer.viewer.inference import (
    FrameRequest,
    FrameResult,
    PanelSpec,
    compute_frames,
)
from gcnn_viewer.viewer.models import (
    CHECKPOINT_SUFFIXES,
    ModelCatalog,
    ModelEntry,
    ModelProbe,
    level_inputs,
    probe_model,
    sample_digits,
    sample_title,
)

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

DEFAULT_INPUT = "7"
DEFAULT_ANGLES = (0.0, 90.0)
MAX_ANGLES = 360  # in one figure or data export: each is a row of every layer's maps


Progress = Callable[[int, int], None]  # (done, total)
Cancelled = Callable[[], bool]  # True: stop as soon as possible


class ExportError(GcnnViewerError):
    """An export that cannot be done as asked (bad path, model, input, layer, format);
    the message is one line for the user."""


class ExportCancelled(ExportError):
    """The user cancelled a running export; nothing was written."""


# -- atomic writes ---------------------------------------------------------------------------
def check_destination(path: Path | str) -> Path:
    """The output path, checked before any work is done: its folder must exist and it must
    not be a folder itself. Raises :class:`ExportError` (one line)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    try:  # a FIFO or device is refused, a symlink's target is what gets replaced
        parent = write_target(path).parent
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_os_reason(exc)}") from None
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: no such directory {parent}")
    return path


@contextmanager
def atomic_output(path: Path | str, cancelled: Cancelled | None = None) -> Iterator[Path]:
    """:func:`gcnn_viewer.data.files.atomic_path` for exports: a temp file beside the
    destination replaces it in one step once written (a symlink's target is replaced, a FIFO
    or device is refused, an existing file keeps its mode); on any error it is removed, so a
    partial file is never left where the user looks. OS errors become one-line
    :class:`ExportError` s. ``cancelled()`` true once the file is written:
    :class:`ExportCancelled`, ``path`` as it was (the last moment a user's Cancel can still
    leave nothing behind)."""
    path = check_destination(path)
    try:
        with atomic_path(path, before_commit=lambda: check_cancelled(cancelled)) as tmp:
            yield tmp
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_os_reason(exc)}") from None


def check_cancelled(cancelled: Cancelled | None) -> None:
    """Raise :class:`ExportCancelled` when the user has asked to stop."""
    if cancelled is not None and cancelled():
        raise ExportCancelled("export cancelled; nothing was written")


def _os_reason(exc: OSError) -> str:
    text = (exc.strerror or str(exc) or type(exc).__name__).strip()
    return text[:1].lower() + text[1:]  # "no such file", but "a FIFO" stays


def suffix_of(path: Path | str, allowed: Sequence[str], what: str) -> str:
    """The lower-case format (``"png"``) from the file name; one line when not allowed."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise ExportError(
            f"{Path(path).name}: {what} can be written as "
            f"{', '.join('.' + s for s in allowed)}, not {'.' + suffix if suffix else 'no suffix'}"
        )
    return suffix


# -- models -----------------------------------------------------------------------------------
@dataclass(eq=False)
class ExportModel:
    """A model to export, with what the provenance records about it.

    Everything an export reads about the model is taken from the catalog entry when this is
    made (:meth:`from_entry`): the weights (``model``), the layouts and colour scales
    (``probe``), the title and whether it is trained. A training run in the app gives the
    entry new weights with every snapshot; an export that is running keeps drawing, and
    recording the sha256 of, the weights it started with. ``entry`` is kept as a reference
    only: the export code never reads it after construction.
    """

    entry: ModelEntry
    name: str  # the data key: the architecture's name, or the checkpoint file's stem
    source: str  # where the weights come from, one line
    sha256: str  # of the weights file; of the tensors when there is no file (untrained)
    model: GCNNModel = field(repr=False)
    arch: str = ""
    title: str = ""
    kind: str = ""  # a few words on the architecture
    trained: bool = False
    path: Path | None = None  # the weights file, when there is one
    origin: str = ""  # the entry's source: "shipped", "untrained", a file name…
    panel: int | None = None  # the app's panel showing it (0 left, 1 right): its colour
    _probe: ModelProbe | None = field(default=None, repr=False)  # None: measured on first use

    @property
    def probe(self) -> ModelProbe:
        """The layouts and fixed colour scales: the entry's (the screen's) when it had been
        measured, else measured on ``model`` now, as the entry would have."""
        if self._probe is None:
            self._probe = probe_model(self.model, level_inputs())
        return self._probe

    @classmethod
    def from_entry(cls, entry: ModelEntry, name: str | None = None) -> ExportModel:
        """Wrap one of the app's catalog entries (the GUI's way in), capturing its weights
        and colour scales as they are now."""
        model = entry.model
        probe = entry.probe() if entry.probed else None  # the screen's colour scales
        if entry.path is not None and Path(entry.path).is_file():
            digest = sha256_file(Path(entry.path))
            default = entry.arch if entry.source == "shipped" else Path(entry.path).stem
        else:
            digest = _sha256_tensors(model.state_dict())
            default = entry.arch
        source = entry.detail or entry.source
        return cls(
            entry,
            name or default,
            source,
            digest,
            model=model,
            arch=entry.arch,
            title=entry.title,
            kind=entry.kind,
            trained=entry.trained,
            path=Path(entry.path) if entry.path is not None else None,
            origin=entry.source,
            _probe=probe,
        )

    def provenance(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "architecture": self.arch,
            "title": self.title,
            "weights": self.source,
            "trained": self.trained,
            "sha256": self.sha256,
        }


def unique_names(models: Sequence[ExportModel]) -> list[ExportModel]:
    """``models`` with names that differ: a name already taken gets ``-2`` (its position),
    ``-3``… (the same model twice, a checkpoint named like a built-in model, a model trained
    in the app beside the shipped one). A renamed model is a copy; the others are kept."""
    out: list[ExportModel] = []
    taken: set[str] = set()
    for i, model in enumerate(models):
        name, n = model.name, i + 1
        while name in taken:
            name = f"{model.name}-{n}"
            n += 1
        if name != model.name:
            model = dataclasses.replace(model, name=name)
        taken.add(name)
        out.append(model)
    return out


def _sha256_tensors(state: dict[str, torch.Tensor]) -> str:
    """A digest of weights that live only in memory (names, shapes and bytes, in order)."""
    h = hashlib.sha256()
    for key, value in state.items():
        t = value.detach().cpu().contiguous()
        h.update(f"{key}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def resolve_models(texts: Sequence[str], catalog: ModelCatalog | None = None) -> list[ExportModel]:
    """``z2cnn``, ``p4cnn``, … (shipped weights, else the app's seeded untrained stand-in) or a
    checkpoint path, as the app would show them. Names in the data stay unique.

    A model's name always means that model, even when a file of that name is in the current
    folder: write ``./p4cnn`` (any path with a folder or a suffix) for the file."""
    texts = check_names(texts, "models", ExportError)  # ["p4cnn"], not "p4cnn"
    if not 1 <= len(texts) <= 2:
        raise ExportError(f"give one or two models, not {len(texts)}")
    catalog = catalog if catalog is not None else ModelCatalog()
    archs = {e.arch for e in catalog}
    out: list[ExportModel] = []
    for text in texts:
        path = Path(text).expanduser()
        if text in archs:  # the name wins over a file of that name (./NAME is the file)
            entry = catalog.load(catalog.find(text).key)
        elif path.exists() or path.suffix.lower() in CHECKPOINT_SUFFIXES or os.sep in text:
            if not path.exists():
                raise ExportError(f"{text}: no such checkpoint file")
            entry = catalog.open_checkpoint(path)  # CheckpointError (one line) when bad
        else:
            raise ExportError(
                f"unknown model {text!r}: give one of {', '.join(sorted(archs))} "
                "or a checkpoint path"
            )
        out.append(ExportModel.from_entry(entry))
    return unique_names(out)


# -- inputs -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExportInput:
    """The digit to show, as the app's drawing snapshot (so preprocessing is the app's)."""

    snapshot: InputSnapshot
    source: str  # e.g. "sample 7 (MNIST test #0)", "mnist-rot:12 (label 3)", "scan.png"

    @classmethod
    def from_image(cls, image: np.ndarray, source: str) -> ExportInput:
        """Any white-on-black grey image, loaded the way the app loads it: 28×28 is used as
        it is (MNIST format), anything larger is fitted and centred like MNIST."""
        drawing = Drawing()
        drawing.set_image(image, source)
        return cls(drawing.snapshot(), source)


def resolve_input(text: str | None) -> ExportInput:
    """``0``–``9`` (the shipped sample of that digit), an image path, or ``mnist-rot:N``."""
    if text is not None and not isinstance(text, (str, os.PathLike)):
        raise ExportError(f"input must be text or a path, not {type(text).__name__}")
    text = DEFAULT_INPUT if text is None else str(text).strip()
    if len(text) == 1 and text in "0123456789":  # not str.isdigit: "²" is a digit to it
        return _sample_input(int(text))
    if text.lower().startswith("mnist-rot:"):
        return _mnist_rot_input(text.partition(":")[2])
    try:
        image = load_image_file(text)
    except DigitImageError as exc:
        raise ExportError(f"input {exc}") from None
    return ExportInput.from_image(image, Path(text).name)


def _sample_input(digit: int) -> ExportInput:
    samples = sample_digits()
    for stem, pixels in samples:
        if stem.partition("-")[0] == str(digit):
            return ExportInput.from_image(pixels, f"sample {sample_title(stem)}")
    # no shipped sample of this digit: the first MNIST test digit with that label, if cached
    from gcnn_viewer.data import DataError, cache_dir, load_mnist, mnist_dir

    try:
        images, labels = load_mnist("test", mnist_dir(cache_dir(create=False), create=False))
    except (DataError, OSError):
        shipped = " ".join(sorted({s.partition("-")[0] for s, _ in samples}))
        raise ExportError(
            f"no shipped sample of the digit {digit} (shipped: {shipped}); "
            "use mnist-rot:N, an image path, or fetch MNIST with: gcnn-viewer data fetch"
        ) from None
    index = int(np.flatnonzero(labels == digit)[0])
    return ExportInput.from_image(
        images[index].astype(np.float32) / 255.0, f"MNIST test #{index} (label {digit})"
    )


def _mnist_rot_input(number: str) -> ExportInput:
    from gcnn_viewer.data import DataError
    from gcnn_viewer.viewer.browser import DigitBrowser

    number = number.strip()
    if not (number.isascii() and number.isdigit()):  # ASCII: int() refuses "²"
        raise ExportError(f"mnist-rot:N needs a test digit number N, got {number!r}")
    try:
        browser = DigitBrowser.from_cache()
    except DataError as exc:
        raise ExportError(str(exc)) from None
    if browser is None:
        raise ExportError(
            "mnist-rot:N needs the MNIST-rot cache; make it with: gcnn-viewer data fetch"
        )
    n = int(number)
    if not 0 <= n < len(browser):
        raise ExportError(f"mnist-rot:{n}: the test split has digits 0..{len(browser) - 1}")
    image = browser.image(n)
    source = f"mnist-rot:{n} ({browser.describe(n)})"
    return ExportInput.from_image(image, source)


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


def provenance_json(record: dict[str, Any]) -> str:
    """ASCII JSON (PNG tEXt chunks and GIF comments are Latin-1/ASCII)."""
    return json_text(record, ensure_ascii=True, sort_keys=False)

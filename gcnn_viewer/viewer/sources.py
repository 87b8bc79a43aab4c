"""The models and the digit an export or analysis shows, named the way a user names them.

``z2cnn`` or a checkpoint path becomes an :class:`ExportModel` (the catalog entry's weights,
colour scales and provenance, captured when it is made); ``7``, ``mnist-rot:12`` or an image
path becomes an :class:`ExportInput` (the app's own preprocessing). Both the export and the
analysis commands, and the app's dialogs, resolve what they show here. Qt-free; torch is
imported by the models it loads.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gcnn_viewer.data.digits import DigitImageError, load_image_file
from gcnn_viewer.data.mnist import sha256_file
from gcnn_viewer.errors import ExportError, check_names
from gcnn_viewer.viewer.drawing import Drawing, InputSnapshot
from gcnn_viewer.viewer.models import (
    CHECKPOINT_SUFFIXES,
    ModelCatalog,
    ModelEntry,
    ModelProbe,
    level_inputs,
    probe_model,
    sample_digits,
    sample_title,
    sha256_tensors,
)

if TYPE_CHECKING:
    from gcnn_viewer.models.networks import GCNNModel

__all__ = [
    "DEFAULT_INPUT",
    "ExportInput",
    "ExportModel",
    "OwnModelOptions",
    "resolve_input",
    "resolve_models",
    "sha256_tensors",
    "skipped_notes",
    "unique_names",
]

DEFAULT_INPUT = "7"


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
            own = entry.source == "shipped" or entry.is_user_model  # a user's: its --name
            default = entry.arch if own else Path(entry.path).stem
        else:
            digest = sha256_tensors(model.state_dict())
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
        out = {
            "name": self.name,
            "architecture": self.arch,
            "title": self.title,
            "weights": self.source,
            "trained": self.trained,
            "sha256": self.sha256,
        }
        config = getattr(self.model, "config", None)
        if isinstance(config, dict) and "spec" in config:  # a user's own model
            out["spec"] = config["spec"]
            out["input_size"] = config.get("input_size")
        return out


def skipped_notes(models: Sequence[ExportModel]) -> list[str]:
    """One line per layer of a user's model that is not shown (its shape is no map we know),
    for the command line to print: ``note: build: layer classifier: [2, 10] is not …``."""
    lines = []
    for m in models:
        skipped = getattr(m.model, "skipped", None) or {}
        lines += [f"note: {m.name}: layer {n}: {why}; not shown" for n, why in skipped.items()]
    return lines


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


@dataclass(frozen=True)
class OwnModelOptions:
    """The options of a user's own model (``--weights``, ``--name`` one per model in
    ``--model``'s order; ``--input-size`` and ``--layers`` for each such model)."""

    weights: tuple[str | None, ...] = ()
    names: tuple[str | None, ...] = ()
    input_size: int | None = None
    layers: tuple[str, ...] | None = None

    def given(self) -> bool:
        return bool(self.weights or self.names or self.input_size or self.layers)


def resolve_models(
    texts: Sequence[str],
    catalog: ModelCatalog | None = None,
    own: OwnModelOptions | None = None,
) -> list[ExportModel]:
    """``z2cnn``, ``p4cnn``, … (shipped weights, else the app's seeded untrained stand-in), a
    checkpoint path, or a user's own model ``FILE.py:FACTORY`` / ``package.module:FACTORY``
    (with ``own``'s options; this runs the user's code), as the app would show them. Names in
    the data stay unique.

    A model's name always means that model, even when a file of that name is in the current
    folder: write ``./p4cnn`` (any path with a folder or a suffix) for the file."""
    from gcnn_viewer.models.user import is_model_spec

    texts = check_names(texts, "models", ExportError)  # ["p4cnn"], not "p4cnn"
    if not 1 <= len(texts) <= 2:
        raise ExportError(f"give one or two models, not {len(texts)}")
    own = own if own is not None else OwnModelOptions()
    for option, values in (("--weights", own.weights), ("--name", own.names)):
        if len(values) > len(texts):
            raise ExportError(
                f"{option}: {len(values)} values for {len(texts)} model(s); give one per "
                "model, in the order of --model"
            )
    if own.given() and not any(is_model_spec(t) for t in texts):
        raise ExportError(
            "--weights, --name, --input-size and --layers go with your own model "
            "(--model FILE.py:FACTORY or package.module:FACTORY)"
        )
    catalog = catalog if catalog is not None else ModelCatalog()
    archs = {e.arch for e in catalog if not e.is_user_model}
    out: list[ExportModel] = []
    for i, text in enumerate(texts):
        path = Path(text).expanduser()
        weights = own.weights[i] if i < len(own.weights) else None
        name = own.names[i] if i < len(own.names) else None
        if (weights or name) and not is_model_spec(text):
            raise ExportError(
                f"{text}: --weights and --name go with your own model (FILE.py:FACTORY); "
                "give them in the order of --model"
            )
        if is_model_spec(text) and not (text in archs or path.exists()):
            entry = catalog.open_user_model(  # UserModelError (one line) when it cannot
                text, weights=weights, name=name, input_size=own.input_size, layers=own.layers
            )
        elif text in archs:  # the name wins over a file of that name (./NAME is the file)
            entry = catalog.load(catalog.find(text).key)
        elif path.exists() or path.suffix.lower() in CHECKPOINT_SUFFIXES or os.sep in text:
            if not path.exists():
                raise ExportError(f"{text}: no such checkpoint file")
            entry = catalog.open_checkpoint(path)  # CheckpointError (one line) when bad
        else:
            raise ExportError(
                f"unknown model {text!r}: give one of {', '.join(sorted(archs))}, "
                "a checkpoint path, or FILE.py:FACTORY / package.module:FACTORY"
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

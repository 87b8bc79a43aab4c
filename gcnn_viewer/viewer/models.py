"""The models the viewer can show: shipped, untrained stand-ins, opened checkpoints. Qt-free.

Every architecture is always on offer: with its shipped weights (``resources/<name>.pt``) when
present, else freshly initialised with a fixed seed and clearly labelled *untrained*, so the
app works with whichever weights exist. Models load on first use. Each model gets a
:class:`ModelProbe` once: its layers' mosaic layouts and fixed colour scales, measured on a
few sample digits so that colours mean the same value in every frame.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gcnn_viewer.data.digits import Digit, DigitImageError, open_image, rotate_input
from gcnn_viewer.errors import CheckpointError, GcnnViewerError
from gcnn_viewer.group import Group
from gcnn_viewer.models.layers import LayerRecord
from gcnn_viewer.models.pretrained import shipped_dir
from gcnn_viewer.models.registry import DEFAULT_PAIR, model_names, model_spec
from gcnn_viewer.viewer.events import Event
from gcnn_viewer.viewer.layout import LayerLayout, LayerScale, layer_layout

if TYPE_CHECKING:
    # torch and the networks are imported where they are used, so that the app can show its
    # window while another thread imports them (docs/ARCHITECTURE.md, "Start-up")
    import torch

    from gcnn_viewer.models.networks import GCNNModel
    from gcnn_viewer.models.record import CheckpointRecord

UNTRAINED_SEED = 0
PERCENTILE = 99.5  # colour scale top: robust to a few hot pixels
LEVEL_ANGLES = (0, 45, 90, 135, 180, 225, 270, 315)
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def sample_digits(directory: Path | None = None) -> list[tuple[str, np.ndarray]]:
    """The shipped sample digits: ``(name, float32 [28, 28])``, e.g. ``("7", …)``.

    Files are ``resources/samples/<label>-mnist-test-<index>.png``, MNIST test digits.
    """
    folder = Path(directory) if directory is not None else shipped_dir() / "samples"
    out = []
    for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        try:
            with open_image(path) as img:  # the one image loader: PNG recognised by content
                pixels = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
        except DigitImageError:  # a damaged install: that example is left out, the app starts
            continue
        if pixels.shape == (28, 28):
            out.append((path.stem, pixels))
    return out


def sample_title(stem: str) -> str:
    """``"7-mnist-test-00000"`` -> ``"7 (MNIST test #0)"``."""
    label, _, rest = stem.partition("-mnist-test-")
    return f"{label} (MNIST test #{int(rest)})" if rest.isascii() and rest.isdigit() else stem


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run small forward passes on ``n`` threads in this thread (OpenMP's setting is per
    thread); on a busy 2-core CPU, two threads spin against each other for ~100× longer."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True, eq=False)
class ModelProbe:
    """What the views need to know about a model, measured once."""

    layers: tuple[str, ...]  # in order, without "logits"
    layouts: dict[str, LayerLayout]
    scales: dict[str, LayerScale]
    group: Group | None  # the model's finest group (each layer's own: its record, its layout)
    records: dict[str, LayerRecord] = field(default_factory=dict)  # every layer and "logits"


def layer_layouts(model: GCNNModel, maps: Mapping[str, torch.Tensor]) -> dict[str, LayerLayout]:
    """Each layer's mosaic layout from its record (:meth:`GCNNModel.layer_records`, the same
    for a user's model): its own group, so planar and group layers may mix."""
    records = {r.name: r for r in model.layer_records()}
    return {
        name: layer_layout(name, tuple(t.shape[1:]), records[name].group)
        for name, t in maps.items()
        if records[name].is_map
    }


def probe_model(model: GCNNModel, inputs: np.ndarray) -> ModelProbe:
    """Layouts and fixed colour scales from a forward pass over ``inputs`` ``[N, 28, 28]``.

    ReLU layers get ``0 .. p99.5``; signed layers (the pre-logit ``top``) a symmetric scale
    ``±p99.5(|v|)``, shown with a diverging colour map.
    """
    import torch

    x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))[:, None]
    with torch.inference_mode(), torch_threads(1):
        maps = model.feature_maps(x)
    layouts, scales = layer_layouts(model, maps), {}
    for name in layouts:
        values = maps[name].float().numpy()
        if float(values.min()) >= 0.0:
            hi = float(np.percentile(values, PERCENTILE))
            scales[name] = LayerScale(0.0, hi if hi > 1e-6 else max(float(values.max()), 1.0))
        else:
            m = float(np.percentile(np.abs(values), PERCENTILE)) or 1.0
            scales[name] = LayerScale(-m, m, diverging=True)
    records = {r.name: r for r in model.layer_records()}
    return ModelProbe(tuple(layouts), layouts, scales, model.group, records)


# -- colour scales cached per weights ----------------------------------------------------------
SCALES_VERSION = 1  # bump when what a cached scale means changes (the measurement, the file)
SCALES_FOLDER = "colour-scales"


def sha256_tensors(state: Mapping[str, torch.Tensor], h: hashlib._Hash | None = None) -> str:
    """A digest of weights that live only in memory (names, shapes, dtypes and bytes, in
    order); ``h`` already holds whatever is hashed before them."""
    h = hashlib.sha256() if h is None else h
    for key, value in state.items():
        t = value.detach().cpu().contiguous()
        h.update(f"{key}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def weights_digest(model: GCNNModel) -> str:
    """sha256 of a model's architecture and every tensor of its state: the same weights give
    the same digest, whatever file they came from."""
    config = json.dumps(model.config, sort_keys=True, allow_nan=False).encode()
    return sha256_tensors(model.state_dict(), hashlib.sha256(config))


def inputs_digest(inputs: np.ndarray) -> str:
    """sha256 of the digits the scales are measured on, and of how they are measured."""
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    h = hashlib.sha256(f"{SCALES_VERSION}:{PERCENTILE}:{x.shape}".encode())
    h.update(x.tobytes())
    return h.hexdigest()


def scales_path(weights: str, inputs: str, root: Path | None = None) -> Path:
    """``<data cache>/colour-scales/<weights>-<inputs>.json`` (the platformdirs user cache,
    or ``$GCNN_VIEWER_DATA``)."""
    from gcnn_viewer.data import cache_dir

    folder = Path(root) if root is not None else cache_dir(create=False)
    return folder / SCALES_FOLDER / f"{weights[:32]}-{inputs[:16]}.json"


def scales_record(probe: ModelProbe, weights: str, inputs: str) -> dict:
    """What a cache file holds (JSON)."""
    return {
        "format": "gcnn-viewer colour scales",
        "version": SCALES_VERSION,
        "weights_sha256": weights,
        "inputs_sha256": inputs,
        "layers": [
            {
                "name": name,
                "lo": probe.scales[name].lo,
                "hi": probe.scales[name].hi,
                "diverging": probe.scales[name].diverging,
            }
            for name in probe.layers
        ],
    }


def scales_from_record(
    record: object, weights: str, inputs: str, layers: Sequence[str]
) -> dict[str, LayerScale] | None:
    """The scales a cache file holds, or None unless it is exactly what we would have
    measured for these weights, inputs and layers. A cache file is untrusted input: any
    other type, a missing or extra layer, a non-finite bound, ``lo >= hi``, a ReLU scale
    that does not start at 0 or a signed one that is not symmetric makes it None."""
    if not isinstance(record, dict) or type(record.get("version")) is not int:
        return None
    if record["version"] != SCALES_VERSION:
        return None
    if record.get("weights_sha256") != weights or record.get("inputs_sha256") != inputs:
        return None
    entries = record.get("layers")
    if not isinstance(entries, list) or len(entries) != len(layers):
        return None
    scales: dict[str, LayerScale] = {}
    for name, item in zip(layers, entries, strict=True):
        if not isinstance(item, dict) or item.get("name") != name:
            return None
        lo, hi, diverging = item.get("lo"), item.get("hi"), item.get("diverging")
        if not all(type(v) in (int, float) for v in (lo, hi)) or type(diverging) is not bool:
            return None
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            return None
        if (diverging and lo != -hi) or (not diverging and lo != 0.0):
            return None
        scales[name] = LayerScale(lo, hi, diverging=diverging)
    return scales


def cached_probe(
    model: GCNNModel, inputs: np.ndarray, root: Path | None = None
) -> tuple[ModelProbe, bool]:
    """:func:`probe_model`, with the colour scales from the cache when these weights were
    measured on these inputs before; ``(probe, True)`` on a cache hit. A hit costs one
    forward pass of one digit (the layouts come from its shapes); a miss measures and
    writes the cache atomically. A cache that cannot be read or written is no error."""
    import torch

    weights, measured_on = weights_digest(model), inputs_digest(inputs)
    path, record = None, None
    with suppress(OSError, ValueError, GcnnViewerError):  # no usable cache folder
        path = scales_path(weights, measured_on, root)
    try:
        if path is not None and path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON: measured again
        record = None
    if record is not None:
        x = torch.from_numpy(np.ascontiguousarray(inputs[:1], dtype=np.float32))[:, None]
        with torch.inference_mode(), torch_threads(1):
            maps = model.feature_maps(x)
        layouts = layer_layouts(model, maps)
        scales = scales_from_record(record, weights, measured_on, tuple(layouts))
        if scales is not None:
            records = {r.name: r for r in model.layer_records()}
            return ModelProbe(tuple(layouts), layouts, scales, model.group, records), True
    probe = probe_model(model, inputs)
    if path is not None:
        from gcnn_viewer.data.files import atomic_file, json_text

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path, "w", encoding="utf-8") as f:
                f.write(json_text(scales_record(probe, weights, measured_on), indent=1))
        except OSError:
            pass  # measured again next time
    return probe, False


def level_inputs(samples: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """The inputs colour scales are measured on: sample digits at 8 angles ``[N, 28, 28]``."""
    digits = list(samples) if samples is not None else [p for _, p in sample_digits()]
    if not digits:  # no samples shipped: a ring, so every layer still sees some structure
        yy, xx = np.mgrid[0:28, 0:28] - 13.5
        r = np.hypot(yy, xx)
        digits = [np.clip(1.5 - np.abs(r - 6.0) / 1.5, 0, 1).astype(np.float32)]
    return np.stack(
        [rotate_input(Digit(np.asarray(d, np.float32), 1), a) for d in digits for a in LEVEL_ANGLES]
    )


def describe_checkpoint(record: CheckpointRecord, source: str) -> str:
    """One line on where the weights come from and how good they are."""
    final = record.final or {}
    parts = [source]
    if final.get("test_error") is not None:
        n = final.get("n_test")
        where = f" ({n:,} regenerated MNIST-rot test digits)" if n else ""
        parts.append(f"test error {100 * float(final['test_error']):.2f}%{where}")
    elif record.complete is False:
        history = record.history
        epochs = record.train_config.epochs if record.train_config is not None else None
        if history and epochs:
            parts.append(f"partly trained (epoch {history[-1].get('epoch')}/{epochs})")
        else:
            parts.append("partly trained")
    return " · ".join(parts)


@dataclass(eq=False)
class ModelEntry:
    """One selectable model. ``key`` identifies it in the selectors and in settings."""

    key: str
    arch: str  # a registered model's name (gcnn_viewer.models.registry)
    source: str  # "shipped", "untrained", a file name, or whatever added it
    trained: bool
    loader: Callable[[], tuple[GCNNModel, str]] = field(repr=False)  # -> (model, detail)
    path: Path | None = None
    detail: str = ""
    error: str = ""  # set when loading failed and the entry fell back to an untrained model
    _model: GCNNModel | None = field(default=None, repr=False)
    _probe: ModelProbe | None = field(default=None, repr=False)
    # a user's own model (issue 22): its name and a few words, instead of the registry's
    own_title: str = ""
    own_kind: str = ""
    # loading and probing happen once, on whichever thread asks first (the app's start-up
    # thread, or the GUI thread when the user picks a model meanwhile): the others wait
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def title(self) -> str:
        """The model's name for a person, e.g. ``P4CNN-RotationPooling``; a user's model's
        own name."""
        return self.own_title or model_spec(self.arch).title

    @property
    def weights_title(self) -> str:
        """The title and, unless shipped, whose weights: ``P4CNN``, ``P4CNN (untrained)``,
        ``P4CNN (run.pt)``; a user's model by its own name. The Lab compares two sets of
        weights of one network: this tells them apart."""
        if self.is_user_model or self.source == "shipped":
            return self.title
        return f"{self.title} ({self.source})"

    @property
    def is_user_model(self) -> bool:
        """A user's own model (``FILE.py:FACTORY``, a live module), not a registered one."""
        return bool(self.own_title)

    @property
    def kind(self) -> str:
        """A few words on the architecture, e.g. ``p4 with rotation pooling``."""
        return self.own_kind or model_spec(self.arch).description

    @property
    def label(self) -> str:
        """Selector text, e.g. ``P4CNN — trained (p4: rotation-equivariant)`` or
        ``P4MCNN — UNTRAINED, random weights (…)`` (a narrow selector elides the end)."""
        title = self.title
        if self.is_user_model:
            return f"{title} — {self.source} ({self.kind})"
        if self.source == "shipped":
            return f"{title} — trained ({self.kind})"
        if self.source == "untrained":
            return f"{title} — UNTRAINED, random weights ({self.kind})"
        return f"{title} — {self.source}"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def probed(self) -> bool:
        return self._probe is not None

    @property
    def model(self) -> GCNNModel:
        """The network, frozen (:meth:`GCNNModel.freeze`): every thread may run it, none may
        change it. New weights come as a new object (:meth:`ModelCatalog.update_model`)."""
        with self._lock:
            if self._model is None:
                model, self.detail = self.loader()
                self._model = model.freeze()
            return self._model

    def probe(self, inputs: np.ndarray | None = None) -> ModelProbe:
        """Layouts and colour scales (measured once; cached on disk per weights)."""
        with self._lock:
            if self._probe is None:
                x = level_inputs() if inputs is None else inputs
                self._probe, _ = cached_probe(self.model, x)
            return self._probe

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def _untrained(arch: str) -> Callable[[], tuple[GCNNModel, str]]:
    def load() -> tuple[GCNNModel, str]:
        import torch

        from gcnn_viewer.models.networks import build_model

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(UNTRAINED_SEED)
            model = build_model(arch)
        note = (
            f"untrained: random weights (seed {UNTRAINED_SEED}) because no trained "
            f"{model_spec(arch).weights_file} is shipped — its predictions mean nothing, its "
            "maps show the architecture only"
        )
        return model.eval(), note

    return load


def _from_file(path: Path, source: str) -> Callable[[], tuple[GCNNModel, str]]:
    def load() -> tuple[GCNNModel, str]:
        from gcnn_viewer.training.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(path)
        return checkpoint.model, describe_checkpoint(checkpoint.record, source)

    return load


class ModelCatalog:
    """Every selectable model, shipped or untrained first, then opened checkpoints."""

    def __init__(self, weights_dir: Path | None = None) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir is not None else shipped_dir()
        self.added = Event()  # (entry): a new selectable model
        self.changed = Event()  # (entry): an entry has new weights (see update_model)
        self.entries: list[ModelEntry] = []
        for arch in model_names():
            path = self.weights_dir / model_spec(arch).weights_file
            if path.is_file():
                entry = ModelEntry(
                    f"shipped:{arch}", arch, "shipped", True, _from_file(path, "shipped weights")
                )
                entry.path = path
            else:
                entry = ModelEntry(f"untrained:{arch}", arch, "untrained", False, _untrained(arch))
            self.entries.append(entry)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def get(self, key: str) -> ModelEntry:
        for entry in self.entries:
            if entry.key == key:
                return entry
        raise KeyError(key)

    def find(self, arch: str) -> ModelEntry:
        """The built-in entry (shipped or untrained) for an architecture; KeyError (naming
        the registered models) for a name the registry does not know."""
        for e in self.entries:
            if e.arch == arch and e.source in ("shipped", "untrained"):
                return e
        raise KeyError(f"{arch!r} is not a model; models: {' '.join(model_names())}")

    def load(self, key: str) -> ModelEntry:
        """The entry with its model loaded; shipped weights that fail to load are replaced by
        the untrained model, with the reason in ``entry.error`` (the app never stops on it)."""
        entry = self.get(key)
        with entry._lock:
            if entry.loaded:
                return entry
            try:
                entry.model  # noqa: B018  (loads)
            except CheckpointError as exc:
                if entry.source != "shipped":
                    raise
                entry.loader, entry.trained = _untrained(entry.arch), False
                entry.source, entry.error = "untrained", str(exc)
                entry.model  # noqa: B018
        return entry

    def prepare(self, keys: Sequence[str]) -> list[ModelEntry]:
        """Load and probe the entries ``keys`` (the app does this on its start-up thread,
        while its window is already on screen); each once, in order."""
        entries = []
        for key in dict.fromkeys(keys):
            entry = self.load(key)
            entry.probe()
            entries.append(entry)
        return entries

    def defaults(self) -> tuple[str, str]:
        """The pair shown at start: Z2CNN vs P4CNN; a model without shipped weights is
        swapped for another shipped one where there is one, so trained models come first."""
        shipped = [e.arch for e in self.entries if e.source == "shipped"]
        pair = []
        for preferred in DEFAULT_PAIR:
            arch = preferred
            if preferred not in shipped:
                spare = [a for a in shipped if a not in DEFAULT_PAIR and a not in pair]
                arch = spare[0] if spare else preferred
            pair.append(self.find(arch).key)
        return pair[0], pair[1]

    def open_checkpoint(self, path: Path | str) -> ModelEntry:
        """Load a checkpoint our CLI wrote and add it (or reload it if already open).

        Raises :class:`CheckpointError` (one line) for a corrupt, foreign or mismatched file.
        """
        from gcnn_viewer.training.checkpoint import load_checkpoint

        if not isinstance(path, (str, os.PathLike)):
            kind = type(path).__name__
            raise CheckpointError(f"a checkpoint path must be text or a path, not {kind}")
        path = Path(path).expanduser().resolve()
        checkpoint = load_checkpoint(path)  # fails here, before anything changes
        if checkpoint.record.user_spec is not None:  # a `train` run of a user's own model
            return self.add_user_model(checkpoint.model, source=checkpoint.record.user_spec)
        key = f"file:{path}"
        detail = describe_checkpoint(checkpoint.record, f"weights from {path.name}")
        model = checkpoint.model.freeze()
        if any(e.key == key for e in self.entries):  # reopened: maybe retrained since
            return self.update_model(key, model, detail)
        entry = ModelEntry(key, checkpoint.name, path.name, True, lambda: (model, detail), path)
        entry._model, entry.detail = model, detail
        self.entries.append(entry)
        self.added.emit(entry)
        return entry

    def open_user_model(
        self,
        spec: str,
        *,
        weights: str | os.PathLike | None = None,
        name: str | None = None,
        input_size: int | None = None,
        layers: Sequence[str] | None = None,
    ) -> ModelEntry:
        """Call a user's factory (``FILE.py:FACTORY`` or ``package.module:FACTORY``: this
        runs the user's code), load ``weights`` into it, wrap it
        (:class:`~gcnn_viewer.models.user.UserModel`, frozen) and add it; the same spec with
        the same options again gives the entry new weights (the file may have changed).
        :class:`~gcnn_viewer.errors.UserModelError` (one line, naming the spec) when it
        cannot be shown."""
        from gcnn_viewer.models.user import load_user_model

        model = load_user_model(
            spec, weights=weights, name=name, input_size=input_size, layers=layers
        )
        return self.add_user_model(model, source=spec)

    def add_user_model(self, model: GCNNModel, source: str = "") -> ModelEntry:
        """Add a wrapped user's model (:func:`~gcnn_viewer.models.user.wrap_model`), frozen
        here; one already added under the same spec and options gets these weights."""
        config = getattr(model, "config", {}) or {}
        source = source or config.get("spec") or model.name
        key = "user:" + json.dumps(config, sort_keys=True, default=str, allow_nan=False)
        from gcnn_viewer.models.user import is_model_spec

        if not is_model_spec(str(config.get("spec", ""))):  # a live module (view()): its own
            key += f":{id(getattr(model, 'module', model))}"
        weights = config.get("weights")
        detail = f"your model {source}" + (f" · weights {Path(weights).name}" if weights else "")
        skipped = getattr(model, "skipped", None) or {}
        if skipped:
            detail += f" · not shown: {', '.join(skipped)}"
        kind = model.summary() if callable(getattr(model, "summary", None)) else "your model"
        model = model.freeze()
        if any(e.key == key for e in self.entries):
            return self.update_model(key, model, detail)
        entry = ModelEntry(key, model.name, source, True, lambda: (model, detail))
        entry._model, entry.detail = model, detail
        entry.own_title, entry.own_kind = model.name, kind
        entry.path = Path(weights) if weights else None
        self.entries.append(entry)
        self.added.emit(entry)
        return entry

    def update_model(
        self, key: str, model: GCNNModel, detail: str | None = None, *, rescale: bool = True
    ) -> ModelEntry:
        """Give entry ``key`` new weights (a reloaded file, a snapshot of a model in
        training) and announce it with ``changed(entry)``. ``rescale=False`` keeps the colour
        scales, so that successive snapshots of one training run stay comparable.
        ``model`` is frozen here (:meth:`GCNNModel.freeze`): hand over a model of its own,
        never one that is still being trained."""
        entry = self.get(key)
        if model.name != entry.arch:
            raise ValueError(f"{key} shows a {entry.arch}, not a {model.name}")
        entry._model = model.freeze()
        if detail is not None:
            entry.detail = detail
        if rescale:
            entry._probe = None
        self.changed.emit(entry)
        return entry

    def add_model(
        self, model: GCNNModel, source: str, detail: str = "", key: str = ""
    ) -> ModelEntry:
        """Register a model made elsewhere (e.g. trained in the app) under ``key``; it is
        frozen here, as :meth:`update_model` freezes."""
        key = key or f"added:{source}:{len(self.entries)}"
        entry = ModelEntry(key, model.name, source, True, lambda: (model, detail))
        entry._model, entry.detail = model.freeze(), detail
        self.entries.append(entry)
        self.added.emit(entry)
        return entry

"""Your own model: any ``nn.Module`` seen through forward hooks (issue 22).

A user names a model as ``FILE.py:FACTORY`` or ``package.module:FACTORY`` (a callable that
returns an ``nn.Module``), or hands a live module to the Python API. :class:`UserModel` wraps
it with the interface the app, export and analysis use for the shipped models
(:class:`~gcnn_viewer.models.networks.GCNNModel`): ``feature_maps``, ``layer_records``,
``freeze`` and the rest.

- **Layers** are the outputs of the model's children (or of the modules named with
  ``--layers``), named by module path, in forward order; the model's output is ``logits``.
  ``[B, C, H, W]`` is planar; ``[B, C, G, H, W]`` with G = 4 is p4, with G = 8 p4m; an escnn
  ``GeometricTensor`` is converted by ``gcnn_viewer.models.escnn_support`` when escnn is
  installed; anything else is skipped, with one line in :attr:`UserModel.skipped`.
- **Input:** ``[B, 1, N, N]`` float pixels in [0, 1], white digit on black; the model
  normalises them itself. N is ``input_size`` (``--input-size``, else the module's attribute
  ``input_size``, else 28). A 28×28 input given to a model of another size is padded (or
  cropped) about its centre.
- **Loading a .py file runs it**: that is the user's own code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gcnn_viewer.errors import ConfigError, UserModelError, first_line
from gcnn_viewer.group import P4, P4M, Group
from gcnn_viewer.models.frozen import FreezableModule
from gcnn_viewer.models.layers import LOGITS, LayerRecord, layer_record
from gcnn_viewer.models.networks import MNIST_SIZE, GCNNModel

__all__ = [
    "GROUPS_BY_ORDER",
    "MAX_INPUT_SIZE",
    "UserModel",
    "is_model_spec",
    "list_factories",
    "load_factory",
    "load_user_model",
    "wrap_model",
]

GROUPS_BY_ORDER: dict[int, Group] = {4: P4, 8: P4M}  # the orientation axis of a 5-D map
MIN_INPUT_SIZE, MAX_INPUT_SIZE = 8, 512
PROBE_BATCH = 2  # layers are discovered on a blank batch of two (a batch axis that stays B)


# -- specs -------------------------------------------------------------------------------------
def _split_spec(text: str) -> tuple[str, str] | None:
    """``("FILE.py", "FACTORY")`` / ``("pkg.mod", "FACTORY")``, or None when ``text`` is no spec."""
    if not isinstance(text, str) or ":" not in text:
        return None
    target, _, attr = text.rpartition(":")
    parts = attr.split(".")
    if not target or not all(p.isidentifier() for p in parts):
        return None
    if target.lower().endswith(".py"):
        return target, attr
    if all(p.isidentifier() for p in target.split(".")):
        return target, attr
    return None


def is_model_spec(text: str) -> bool:
    """``x.py:f`` or ``a.b:f``: a factory to call. Never true for a shipped model's name, a
    checkpoint path or ``mnist-rot:12``."""
    return _split_spec(text) is not None


def _user_frame(exc: BaseException) -> str:
    """``file.py:line`` of the deepest frame of the user's code in ``exc``'s traceback (not
    ours, not torch's); "" when there is none."""
    ours = Path(__file__).resolve().parents[1]
    theirs = Path(torch.__file__).resolve().parent
    found = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{Path(exc.filename).name}:{exc.lineno}"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if resolved.is_relative_to(ours) or resolved.is_relative_to(theirs):
            continue
        if frame.filename.startswith("<"):  # importlib's frozen frames
            continue
        found = f"{path.name}:{frame.lineno}"
    return found


def _raised(spec: str, what: str, exc: BaseException) -> UserModelError:
    """One line: ``SPEC: WHAT raised TypeError: message (model.py:12)``."""
    where = _user_frame(exc)
    at = f" ({where})" if where else ""
    return UserModelError(f"{spec}: {what} raised {type(exc).__name__}: {first_line(exc)}{at}")


def _load_file(path: Path, spec: str) -> Any:
    """Run a .py file as a module of its own (the user's code) and return it."""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "no such file"
        raise UserModelError(f"{spec}: {path}: {what}")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"gcnn_viewer_user_{path.stem if path.stem.isidentifier() else 'model'}_{digest}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise UserModelError(f"{spec}: {path} cannot be loaded as Python")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses, pickling and typing look modules up here
    folder = str(path.resolve().parent)  # its sibling modules import as they would beside it
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any exception is theirs, shown in one line
        sys.modules.pop(name, None)
        raise _raised(spec, f"running {path.name}", exc) from None
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    return module


def _import_module(target: str, spec: str) -> Any:
    """Import ``package.module`` as ``python -c 'import …'`` would from the current folder."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name and (target == exc.name or target.startswith(exc.name + ".")):
            raise UserModelError(f"{spec}: no module named {exc.name!r}") from None
        raise _raised(spec, f"importing {target}", exc) from None
    except Exception as exc:
        raise _raised(spec, f"importing {target}", exc) from None
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def _factories(module: Any) -> list[str]:
    """The callables ``module`` defines (not imports) that can be called without arguments:
    functions and ``nn.Module`` classes, in the order the file defines them."""
    out = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value):
            if not issubclass(value, nn.Module):
                continue
        elif not inspect.isfunction(value):
            continue
        try:
            signature = inspect.signature(value)
        except (TypeError, ValueError):
            continue
        required = [
            p
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if not required:
            out.append(name)
    return out


def list_factories(path: str | Path) -> list[str]:
    """The factories a .py file defines that a user could pick: its functions and
    ``nn.Module`` classes callable without arguments. **Runs the file** (the user's code)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"a model file must be text or a path, not {type(path).__name__}")
    path = Path(path).expanduser()
    return _factories(_load_file(path, str(path)))


def load_factory(spec: str) -> tuple[Callable[[], nn.Module], str]:
    """``"FILE.py:FACTORY"`` or ``"package.module:FACTORY"`` -> ``(factory, default name)``;
    the default name is the factory's own (``build`` for ``net.py:build``). Imports the
    module (runs the user's code). :class:`UserModelError` (one line, naming the spec) for a
    missing file or module, code that raises, or a factory it does not define."""
    parts = _split_spec(spec)
    if parts is None:
        shown = spec if isinstance(spec, str) else type(spec).__name__
        raise UserModelError(f"{shown}: a model spec is FILE.py:FACTORY or package.module:FACTORY")
    target, attr = parts
    if target.lower().endswith(".py"):
        module = _load_file(Path(target).expanduser(), spec)
    else:
        module = _import_module(target, spec)
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            offered = ", ".join(_factories(module)) or "none"
            raise UserModelError(
                f"{spec}: {target} defines no {attr!r} (factories it defines: {offered})"
            )
        value = getattr(value, part)
    if not callable(value):
        raise UserModelError(f"{spec}: {attr} is a {type(value).__name__}, not a factory to call")
    return value, attr.rpartition(".")[2]


# -- weights ----------------------------------------------------------------------------------
def load_weights(module: nn.Module, weights: str | Path, spec: str) -> None:
    """Load a state_dict, or one of our checkpoints (its ``state_dict``), into ``module``;
    ``torch.load(weights_only=True)``: a weights file never runs code."""
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UserModelError(
            f"{spec}: weights {path}: {'is a folder' if path.is_dir() else 'no such file'}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt, foreign or unsafe file: torch's reason, one line
        raise UserModelError(
            f"{spec}: weights {path.name} cannot be read as a state_dict: {first_line(exc)}"
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # one of our checkpoints
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise UserModelError(
            f"{spec}: weights {path.name} hold no state_dict (a dict of named tensors)"
        )
    expected = module.state_dict()
    if set(expected) != set(state) and {f"module.{k}" for k in expected} == set(state):
        state = {k.removeprefix("module."): v for k, v in state.items()}  # a UserModel's own
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape)
    )
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            problems.append(f"{label}: {', '.join(keys[:3])}{more}")
    if problems:
        raise UserModelError(
            f"{spec}: weights {path.name} do not match the model ({'; '.join(problems)})"
        )
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise UserModelError(f"{spec}: weights {path.name}: {first_line(exc)}") from None


# -- the wrapper ------------------------------------------------------------------------------
def _escnn_converter() -> Callable[[Any], Any] | None:
    """``gcnn_viewer.models.escnn_support.convert`` when that module and escnn are there."""
    if importlib.util.find_spec("escnn") is None:
        return None
    try:  # an optional module of this package (issue 22, helper H5): importlib on purpose
        support = importlib.import_module("gcnn_viewer.models.escnn_support")
    except ImportError:
        return None
    return getattr(support, "convert", None)


def _shape(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is None and hasattr(value, "tensor"):
        shape = getattr(value.tensor, "shape", None)
    if shape is not None:
        return f"[{', '.join(str(int(n)) for n in shape)}]"
    return f"a {type(value).__name__}"


class UserModel(FreezableModule):
    """Any ``nn.Module`` seen through forward hooks, with the interface of the shipped models:
    :attr:`name`, :meth:`feature_maps` (in forward order, ending with ``"logits"`` ``[B, K]``),
    :meth:`layer_records`, :attr:`skipped` (layer -> one line on why it is not shown),
    :attr:`input_size`, :meth:`freeze`, :meth:`unfrozen_copy`, :attr:`frozen`,
    :attr:`config`, :attr:`group` (the finest group among its layers, or None) and
    ``forward(x)`` -> logits.

    The layers are found once, here, by a forward pass of a blank input in eval mode."""

    def __init__(
        self,
        module: nn.Module,
        *,
        name: str,
        input_size: int = MNIST_SIZE,
        layers: Sequence[str] | None = None,
        spec: str = "",
        weights: str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise UserModelError(f"{spec or name}: not an nn.Module but a {type(module).__name__}")
        self.module = module
        self.training = module.training  # the module's own mode, restored as it was found
        self.name = str(name)
        self.spec = spec or self.name
        self.input_size = input_size
        self.weights = weights
        self._layer_paths = tuple(layers) if layers else None
        self._targets = self._find_targets()
        self._converter = _escnn_converter()
        self._records, self.skipped = self._discover()
        self._by_name = {r.name: r for r in self._records}

    # -- discovery
    def _find_targets(self) -> tuple[tuple[str, nn.Module], ...]:
        if self._layer_paths is None:
            return tuple(self.module.named_children())
        named = dict(self.module.named_modules())
        named.pop("", None)
        missing = [p for p in self._layer_paths if p not in named]
        if missing:
            offered = ", ".join(list(named)[:12]) + (" …" if len(named) > 12 else "")
            raise UserModelError(
                f"{self.spec}: no module named {', '.join(missing)} (--layers takes module "
                f"paths: {offered or 'the model has no submodules'})"
            )
        return tuple((p, named[p]) for p in dict.fromkeys(self._layer_paths))

    def _run(self, x: torch.Tensor) -> tuple[list[tuple[str, Any]], Any]:
        """One forward pass of the user's module with hooks on the layers (this thread's calls
        only, so that threads sharing the model never see each other's maps): the layers'
        outputs in forward order, named by module path (``relu#2`` for a module's second
        call), and the module's output."""
        caller = threading.get_ident()
        seen: list[tuple[str, Any]] = []

        def tap(path: str) -> Callable[..., None]:
            def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
                if threading.get_ident() == caller:
                    if isinstance(output, torch.Tensor):  # an in-place ReLU may change it next
                        output = output.clone()
                    seen.append((path, output))

            return hook

        handles = [m.register_forward_hook(tap(p)) for p, m in self._targets]
        try:
            out = self.module(x)
        finally:
            for handle in handles:
                handle.remove()
        counts: dict[str, int] = {}
        named = []
        for path, output in seen:
            counts[path] = counts.get(path, 0) + 1
            named.append((path if counts[path] == 1 else f"{path}#{counts[path]}", output))
        return named, out

    def _convert(
        self, name: str, output: Any, batch: int | None = None
    ) -> tuple[torch.Tensor, LayerRecord] | str:
        """A layer's output as our tensor and its record, or the reason it is not shown."""
        fields: dict[str, Any] = {}
        if not isinstance(output, torch.Tensor):
            converted = self._converter(output) if self._converter is not None else None
            if isinstance(converted, str):
                return converted
            if converted is None:
                return f"{_shape(output)} is not a tensor of maps"
            output, extra = converted
            if isinstance(extra, LayerRecord):
                fields = {
                    "kind": extra.kind,
                    "group": extra.group,
                    "channel_labels": extra.channel_labels,
                    "interpolated": extra.interpolated,
                    "transform": extra.transform,
                }
            else:
                fields = dict(extra or {})
        shape = tuple(output.shape)
        if name == LOGITS:
            return "the name 'logits' is taken by the model's output"
        if len(shape) not in (4, 5):
            return f"{_shape(output)} is not [B, C, H, W] or [B, C, G, H, W] maps"
        if batch is not None and shape[0] != batch:
            return f"{_shape(output)} does not keep the batch axis first"
        if shape[-1] != shape[-2]:
            return f"{_shape(output)}: its maps are not square"
        if min(shape[1:]) < 1:
            return f"{_shape(output)} is empty"
        if fields:
            kind = fields.get("kind") or ("group" if len(shape) == 5 else "planar")
            order = shape[2] if kind == "group" else 1
            labels = fields.get("channel_labels")
            try:
                record = LayerRecord(
                    name, kind, shape[1], order, shape[-2], shape[-1],
                    group=fields.get("group"),
                    channel_labels=tuple(labels) if labels is not None else None,
                    interpolated=bool(fields.get("interpolated", False)),
                    transform=fields.get("transform"),
                )  # fmt: skip
            except ValueError as exc:  # a converter's fields that do not fit the tensor
                return f"{_shape(output)}: {first_line(exc)}"
            return output, record
        if len(shape) == 5:
            group = GROUPS_BY_ORDER.get(shape[2])
            if group is None:
                return (
                    f"{_shape(output)}: an orientation axis of {shape[2]} is neither p4's 4 "
                    "nor p4m's 8"
                )
            return output, layer_record(name, output, group)
        return output, layer_record(name, output)

    def _logits(self, out: Any) -> torch.Tensor:
        if not isinstance(out, torch.Tensor) and hasattr(out, "tensor"):  # escnn's output
            out = out.tensor
        if not isinstance(out, torch.Tensor):
            raise UserModelError(
                f"{self.spec}: the model returns {_shape(out)}, not logits [B, K] (a tensor)"
            )
        if out.dim() >= 2 and all(n == 1 for n in out.shape[2:]):
            out = out.flatten(1)  # [B, K, 1, 1] -> [B, K]
        if out.dim() != 2:
            raise UserModelError(f"{self.spec}: the model returns {_shape(out)}, not logits [B, K]")
        return out

    def _discover(self) -> tuple[tuple[LayerRecord, ...], dict[str, str]]:
        was_training = self.module.training
        self.module.train(False)
        try:
            with torch.inference_mode():
                blank = torch.zeros(PROBE_BATCH, 1, self.input_size, self.input_size)
                named, out = self._run(self._cast(blank))
        except UserModelError:
            raise
        except Exception as exc:  # the user's forward: any exception is theirs, one line
            size = f"{PROBE_BATCH}, 1, {self.input_size}, {self.input_size}"
            raise _raised(self.spec, f"the forward pass of a blank [{size}] input", exc) from None
        finally:
            self.module.train(was_training)
        logits = self._logits(out)
        if logits.shape[0] != PROBE_BATCH:
            raise UserModelError(
                f"{self.spec}: the model returns {_shape(logits)} for a batch of "
                f"{PROBE_BATCH}, not logits [B, K]"
            )
        records: list[LayerRecord] = []
        skipped: dict[str, str] = {}
        for name, output in named:
            converted = self._convert(name, output, PROBE_BATCH)
            if isinstance(converted, str):
                skipped[name] = converted
            else:
                records.append(converted[1])
        records.append(layer_record(LOGITS, logits))
        return tuple(records), skipped

    def layer_records(self) -> tuple[LayerRecord, ...]:
        """One record per layer shown, in forward order, then ``logits``."""
        return self._records

    def skipped_lines(self) -> list[str]:
        """One line per layer not shown: ``name: reason; not shown``."""
        return [f"{self.name}: layer {n}: {why}; not shown" for n, why in self.skipped.items()]

    @property
    def group(self) -> Group | None:
        """The finest group among the layers (the largest orientation axis), or None."""
        groups = [r.group for r in self._records if r.group is not None]
        return max(groups, key=lambda g: g.order) if groups else None

    @property
    def config(self) -> dict:
        """What names this model (JSON): its spec, name, input size, layers and weights."""
        return {
            "name": self.name,
            "spec": self.spec,
            "input_size": self.input_size,
            "layers": list(self._layer_paths) if self._layer_paths else None,
            "weights": self.weights,
        }

    def summary(self) -> str:
        """A few words, e.g. ``your model: p4, 8 layers``."""
        groups = sorted({r.group.name for r in self._records if r.group is not None})
        kinds = ", ".join(groups) if groups else "planar"
        shown = sum(1 for r in self._records if r.is_map)
        return f"your model: {kinds}, {shown} layers"

    # -- input
    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        ref = next((p for p in self.module.parameters() if p.is_floating_point()), None)
        if ref is None:
            ref = next((b for b in self.module.buffers() if b.is_floating_point()), None)
        if ref is None:
            return x.float()
        return x.to(device=ref.device, dtype=ref.dtype)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """Check ``x`` ``[B, 1, N, N]`` (or ``[B, 1, 28, 28]``, padded or cropped about its
        centre to N×N), floating pixels in [0, 1]."""
        n = self.input_size
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{self.name} expects a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != x.shape[3]:
            raise ValueError(f"{self.name} expects [B, 1, {n}, {n}] images, got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(f"{self.name} expects floating-point pixels in [0, 1], got {x.dtype}")
        side = x.shape[-1]
        if side != n:
            if side != MNIST_SIZE:
                raise ValueError(
                    f"{self.name} expects [B, 1, {n}, {n}] images (or 28×28 digits to pad), "
                    f"got {tuple(x.shape)}"
                )
            x = pad_to(x, n)
        if self._frozen:
            self._check_frozen()
        return self._cast(x)

    # -- what the app, export and analysis call
    def feature_maps(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Every shown layer's output in forward order (group maps ``[B, C, G, H, W]``,
        planar ``[B, C, H, W]``), ending with ``"logits"`` ``[B, K]``."""
        named, out = self._run(self._input(x))
        maps: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, output in named:
            if name not in self._by_name:
                continue
            if not isinstance(output, torch.Tensor):
                converted = self._convert(name, output)
                if isinstance(converted, str):
                    continue
                output = converted[0]
            maps[name] = output
        maps[LOGITS] = self._logits(out)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._logits(self.module(self._input(x)))

    # -- frozen models: FreezableModule's, as the shipped models' (docs/ARCHITECTURE.md,
    # "Threads and models"); an error names the model as the user called it
    def _frozen_label(self) -> str:
        return self.name


def pad_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """``x`` ``[..., n, n]`` padded with zeros (or cropped) about its centre to ``size``.
    An odd difference puts the extra row and column at the bottom and right."""
    n = x.shape[-1]
    if n == size:
        return x
    if size > n:
        before = (size - n) // 2
        after = size - n - before
        return F.pad(x, (before, after, before, after))
    start = (n - size) // 2
    return x[..., start : start + size, start : start + size]


def _input_size(value: object, spec: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserModelError(f"{spec}: {where} must be a whole number, not {value!r}")
    if not MIN_INPUT_SIZE <= value <= MAX_INPUT_SIZE:
        raise UserModelError(
            f"{spec}: {where} must be {MIN_INPUT_SIZE}..{MAX_INPUT_SIZE}, not {value}"
        )
    return value


def wrap_model(
    module: nn.Module,
    *,
    name: str | None = None,
    input_size: int | None = None,
    layers: Sequence[str] | None = None,
    spec: str = "",
    weights: str | None = None,
) -> UserModel | GCNNModel:
    """``module`` with the interface the app, export and analysis use: a
    :class:`GCNNModel` or :class:`UserModel` as it is, any other ``nn.Module`` wrapped in a
    :class:`UserModel` (not copied: the wrapper runs the module itself). ``input_size``:
    else the module's attribute ``input_size``, else 28."""
    if isinstance(module, (GCNNModel, UserModel)):
        return module
    label = name or spec or type(module).__name__
    if not isinstance(module, nn.Module):
        raise UserModelError(
            f"{label}: a model must be a torch nn.Module, not {type(module).__name__}"
        )
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise UserModelError(f"{label}: a model's name must be non-empty text")
    if layers is not None and (
        isinstance(layers, str) or not all(isinstance(p, str) for p in layers)
    ):
        raise UserModelError(f"{label}: layers must be a list of module paths")
    if input_size is not None:
        size = _input_size(input_size, label, "the input size")
    elif getattr(module, "input_size", None) is not None:
        size = _input_size(module.input_size, label, "the model's attribute input_size")
    else:
        size = MNIST_SIZE
    return UserModel(
        module,
        name=(name or type(module).__name__).strip(),
        input_size=size,
        layers=layers,
        spec=spec,
        weights=weights,
    )


def load_user_model(
    spec: str,
    *,
    weights: str | Path | None = None,
    name: str | None = None,
    input_size: int | None = None,
    layers: Sequence[str] | None = None,
) -> UserModel:
    """Call the factory ``spec`` names (``FILE.py:FACTORY``, ``package.module:FACTORY``),
    load ``weights`` into it, and wrap it (:func:`wrap_model`); the name defaults to the
    factory's. **Runs the user's code.** :class:`UserModelError` (one line naming the spec)
    for anything the user can fix."""
    factory, default = load_factory(spec)
    try:
        module = factory()
    except Exception as exc:  # the user's factory: any exception is theirs, one line
        raise _raised(spec, f"{default}()", exc) from None
    if not isinstance(module, nn.Module):
        raise UserModelError(
            f"{spec}: {default}() returned a {type(module).__name__}, not a torch nn.Module"
        )
    if weights is not None:
        load_weights(module, weights, spec)
    return wrap_model(
        module,
        name=name or default,
        input_size=input_size,
        layers=layers,
        spec=spec,
        weights=str(Path(weights).expanduser()) if weights is not None else None,
    )  # a factory that returns one of ours (a GCNNModel) gets it as it is

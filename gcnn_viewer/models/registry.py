"""Every model the project knows, in one place: the one list the CLI, the app, the training
defaults, the reproduction table and the checkpoint reader all read.

Torch-free and import-light on purpose (the standard library and :mod:`gcnn_viewer.errors`
only): the command line builds its ``--model`` choices from it without loading torch. Adding a
model is one :class:`ModelSpec` here plus its network class in
:mod:`gcnn_viewer.models.networks` (docs/ARCHITECTURE.md, “Where to add things”); a test checks
that the two lists agree and that every consumer offers every registered model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from gcnn_viewer.errors import ConfigError

Kind = Literal["planar", "p4", "p4m"]
# the package the shipped weights, sample digits, icon and desktop files are read from at run
# time with importlib.resources (resources/ at the top of the source tree)
RESOURCE_PACKAGE = "gcnn_viewer.resources"


@dataclass(frozen=True)
class ModelSpec:
    """What the project knows about one model, besides its network class.

    ``name`` is the key everywhere a program sees a model (checkpoints' ``model_config.name``,
    ``--model``, shipped file names, settings); ``title`` is what a person reads, everywhere (the
    paper's name where it has one: one name per model, in the app, the CLI and the tables).
    """

    name: str  # "p4cnn_rotpool"
    title: str  # "P4CNN-RotationPooling"
    kind: Kind  # the group its hidden layers are indexed by: none, p4 or p4m
    description: str  # a few words for a selector, e.g. "p4 with rotation pooling"
    paper_epochs: int  # the faithful protocol's epochs (docs/ARCHITECTURE.md, “Training protocol”)
    paper_error: float | None  # test error % in Table 1 of Cohen & Welling (2016); None: absent
    poster_error: float | None  # test error % of the seed poster's reproduction; None: absent
    table_row: int | None  # its row in Table 1 (`gcnn-viewer reproduce` trains it by default)
    # the network's constructor arguments a checkpoint may record, and their types; the
    # checkpoint reader refuses any other (``model_config`` is untrusted input)
    arguments: Mapping[str, type] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", MappingProxyType(dict(self.arguments)))

    @property
    def weights_file(self) -> str:
        """The shipped weights' file name inside :data:`RESOURCE_PACKAGE`."""
        return f"{self.name}.pt"


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` (its network class goes into :mod:`gcnn_viewer.models.networks`)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is registered already")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a model (tests that register a stand-in undo it with this)."""
    _REGISTRY.pop(name, None)


def model_names() -> tuple[str, ...]:
    """Every registered model's name, in the order selectors list them."""
    return tuple(_REGISTRY)


def model_specs() -> tuple[ModelSpec, ...]:
    return tuple(_REGISTRY.values())


def unknown_model_message(name: object) -> str:
    """One line naming the valid models, for every place that refuses a model name."""
    return f"unknown model {name!r}; choose one of {', '.join(_REGISTRY)}"


def is_model(name: object) -> bool:
    return isinstance(name, str) and name in _REGISTRY


def model_spec(name: str) -> ModelSpec:
    """The spec of model ``name``; :class:`ConfigError` (one line listing the valid names)
    for any other name."""
    if not is_model(name):
        raise ConfigError(unknown_model_message(name))
    return _REGISTRY[name]


def table_models() -> tuple[str, ...]:
    """The models `gcnn-viewer reproduce` trains by default: Table 1's rows, in its order."""
    rows = [s for s in _REGISTRY.values() if s.table_row is not None]
    return tuple(s.name for s in sorted(rows, key=lambda s: s.table_row))


# The models the app shows side by side at start (a plain CNN against a p4 network), and the
# one training starts from by default.
DEFAULT_PAIR = ("z2cnn", "p4cnn")
DEFAULT_TRAIN_MODEL = "p4cnn"

register(
    ModelSpec(
        name="z2cnn",
        title="Z2CNN",
        kind="planar",
        description="plain CNN",
        paper_epochs=300,
        paper_error=5.03,
        poster_error=5.12,
        table_row=0,
        arguments={"channels": int, "dropout": float},
    )
)
register(
    ModelSpec(
        name="p4cnn",
        title="P4CNN",
        kind="p4",
        description="p4: rotation-equivariant",
        paper_epochs=100,
        paper_error=2.28,
        poster_error=2.79,
        table_row=2,
        arguments={"channels": int},
    )
)
register(
    ModelSpec(
        name="p4cnn_rotpool",
        title="P4CNN-RotationPooling",
        kind="p4",
        description="p4 with rotation pooling",
        paper_epochs=100,
        paper_error=3.21,
        poster_error=4.02,
        table_row=1,
        arguments={"channels": int},
    )
)
register(
    ModelSpec(
        name="p4mcnn",
        title="P4MCNN",
        kind="p4m",
        description="p4m: rotations and mirrors",
        paper_epochs=100,  # beyond the paper: as its other group networks
        paper_error=None,
        poster_error=None,
        table_row=None,
        arguments={"channels": int},
    )
)

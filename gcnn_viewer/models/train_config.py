"""The settings of a training run, each defined once: type, default, range, choices and help.

:class:`TrainConfig` is what a checkpoint records (``train_config``) and what the training loop
runs; the command line's ``train`` options and the app's Train panel are built from the same
field metadata (:func:`train_options`), so a default or a choice changed here changes them all.
Torch-free (the command line reads it to build ``--help``).
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from gcnn_viewer.errors import ConfigError
from gcnn_viewer.models import registry

MAX_SEED = 2**32 - 1  # torch takes up to 2**64-1, numpy's legacy seeding 2**32-1: the common range


@dataclass(frozen=True)
class TrainOption:
    """How one :class:`TrainConfig` field is offered to a person (CLI flag, form field)."""

    name: str  # the TrainConfig field
    flag: str  # the command line's spelling, e.g. "--batch-size"
    kind: type  # int, float, str or bool
    default: Any  # TrainConfig's default (None: decided by the model, e.g. the paper's epochs)
    help: str
    choices: tuple[str, ...] = ()  # the allowed values (str fields with a fixed set)
    choice_labels: tuple[str, ...] = ()  # the same, as a form shows them
    low: float | None = None  # smallest allowed value (numbers)
    high: float | None = None  # largest allowed value (numbers)
    low_exclusive: bool = False  # ``low`` itself is not allowed (e.g. lr > 0)
    label: str = ""  # a form's label
    app_default: Any = None  # where the app starts differently from TrainConfig (see epochs)
    form_high: int | None = None  # the largest value a form's spin box offers
    metavar: str | None = None  # the command line's placeholder for the value


def _option(default: Any, help: str, **meta: Any) -> Any:  # noqa: A002  (argparse's word)
    """A dataclass field whose metadata describes its option (see :class:`TrainOption`)."""
    return field(default=default, metadata={"help": help, **meta})


_AUGMENT = ("paper", "none", "rotation")
_SCHEDULES = ("constant", "cosine")
_SPLITS = ("trainval", "train")
_RECALIBRATION = ("paper", "eval", "off")


@dataclass
class TrainConfig:
    """Everything that determines a training run (saved in its checkpoints)."""

    model: str = _option(
        registry.DEFAULT_TRAIN_MODEL,
        "the architecture to train",
        label="Model",
        model_choice=True,
    )
    epochs: int | None = _option(  # None: the paper's (the model's registry entry)
        None,
        "default: the paper's",
        low=1,
        label="Epochs",
        app_default=5,  # the app's first run is a short one; the paper's take hours on a CPU
        form_high=1000,
    )
    batch_size: int = _option(
        128,
        "images per optimizer step, 1-4096 (the paper: 128)",
        low=1,
        high=4096,  # one step's activations and gradients stay a few GB (p4cnn at 4096: ~5 GB)
        label="batch",
        form_high=4096,
    )
    lr: float = _option(1e-3, "the learning rate (Adam); > 0, finite", low=0, low_exclusive=True)
    lr_schedule: Literal["constant", "cosine"] = _option(
        "constant", "the learning rate over the run", choices=_SCHEDULES
    )
    weight_decay: float = _option(0.0, "Adam's weight decay; >= 0, finite", low=0)
    seed: int = _option(
        0, f"the run's random seed, 0 .. {MAX_SEED}", low=0, high=MAX_SEED, label="Seed"
    )
    # paper: what the paper's code did. It drew uniform(−0.5, 0.5)·2π "radians" and passed them
    # to skimage's rotate, which takes degrees: every training image jittered by up to ±π
    # degrees with bilinear resampling. rotation: uniform over the full circle.
    augment: Literal["paper", "none", "rotation"] = _option(
        "paper",
        "paper (default, faithful): the original code's ±π-degree jitter; "
        "rotation: a random angle over the full circle",
        choices=_AUGMENT,
        choice_labels=("paper (±π° jitter, as the paper's code)", "none", "full rotation (0–360°)"),
        label="Augment",
    )
    train_split: Literal["trainval", "train"] = _option(  # the paper trains on all 12k
        "trainval",
        "trainval: all 12k digits (paper); train: 10k, keeping valid unseen",
        choices=_SPLITS,
    )
    # BN population statistics recomputed over the training set before the final test.
    # paper: as the paper's code (chainer's fine-tuning pass), one more epoch in training mode
    # without updates: shuffled, the run's augmentation, dropout on. eval: the same pass with
    # the model as at evaluation (dropout off) and no augmentation. off: keep running averages.
    bn_recalibration: Literal["paper", "eval", "off"] = _option(
        "paper",
        "BN population statistics before the final test: paper (default) recomputes them "
        "as the paper's code, in training mode with dropout and augmentation; eval with the "
        "model as at evaluation; off keeps the running averages",
        choices=_RECALIBRATION,
        flag="--recalibrate",
    )
    eval_every: int = _option(  # epochs between evaluations on the valid split; 0: never
        1, "evaluate the valid split every N epochs (0: never)", low=0, metavar="N"
    )
    device: str = _option(
        "auto", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps", label="Device"
    )
    init_from: str | None = _option(  # fine-tune: start from this checkpoint's weights
        None,
        "fine-tune: start from this checkpoint's weights (a new run, never 'faithful')",
        metavar="PATH",
    )
    # Two extra test evaluations at the end, recorded beside the reported error: with BN's
    # running averages, and (bn_recalibration "paper") with the pass done in eval mode. They
    # triple the end-of-run cost, so only `reproduce` (Table 1's columns) turns them on.
    diagnostics: bool = _option(
        False,
        "also measure the test error with BN's running averages and (recalibrate paper) "
        "with the BN pass in eval mode; two more test passes (on by default in reproduce)",
    )

    def __post_init__(self) -> None:
        # checked for type as well as range: a config may come from an untrusted checkpoint
        if not registry.is_model(self.model):
            raise ConfigError(registry.unknown_model_message(self.model))
        if self.epochs is None:
            self.epochs = registry.model_spec(self.model).paper_epochs
        for option in train_options():
            value = getattr(self, option.name)
            if option.kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ConfigError(f"{option.name} must be an integer, not {value!r}")
                if value < option.low:
                    raise ConfigError(f"{option.name} must be >= {option.low}, not {value}")
                if option.high is not None and value > option.high:
                    raise ConfigError(
                        f"{option.name} must be in {option.low} .. {option.high}, not {value}"
                    )
            elif option.kind is float:
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ConfigError(f"{option.name} must be a number, not {value!r}")
                if not math.isfinite(value):
                    raise ConfigError(f"{option.name} must be finite, not {value}")
                setattr(self, option.name, float(value))
            elif option.choices and option.name != "model" and value not in option.choices:
                raise ConfigError(f"{option.name} must be one of {', '.join(option.choices)}")
        if self.lr <= 0:
            raise ConfigError(f"lr (the learning rate) must be > 0, not {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, not {self.weight_decay}")
        if not isinstance(self.device, str):
            raise ConfigError(f"device must be a string, not {self.device!r}")
        if self.init_from is not None and not isinstance(self.init_from, str):
            raise ConfigError(f"init_from must be a path, not {self.init_from!r}")
        if not isinstance(self.diagnostics, bool):
            raise ConfigError(f"diagnostics must be true or false, not {self.diagnostics!r}")

    @property
    def protocol(self) -> str:
        """``"faithful"`` only when every setting is the paper's; otherwise ``"custom"``."""
        paper = TrainConfig(model=self.model, seed=self.seed, device=self.device)
        same = all(
            getattr(self, f.name) == getattr(paper, f.name)
            for f in fields(self)
            if f.name not in ("seed", "device", "eval_every", "diagnostics")
        )
        return "faithful" if same else "custom"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        values = dict(values)
        if "recalibrate_bn" in values:  # older checkpoints: True meant what is now "eval"
            values.setdefault("bn_recalibration", "eval" if values["recalibrate_bn"] else "off")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


_KINDS = {"model": str, "epochs": int, "init_from": str}


def train_options() -> tuple[TrainOption, ...]:
    """Every :class:`TrainConfig` field as an option, in field order; read at call time, so
    the model choices are whatever the registry holds then."""
    options = []
    for f in fields(TrainConfig):
        meta = f.metadata
        kind = _KINDS.get(f.name) or {"int": int, "float": float, "bool": bool}.get(
            str(f.type), str
        )
        choices = tuple(meta.get("choices", ()))
        help_text = meta["help"]
        if meta.get("model_choice"):
            choices = registry.model_names()
        if f.name == "epochs":
            paper = ", ".join(f"{s.paper_epochs} {s.name}" for s in registry.model_specs())
            help_text = f"{help_text} ({paper})"
        low = meta.get("low")
        if kind is int and low is None:
            low = 0
        options.append(
            TrainOption(
                name=f.name,
                flag=meta.get("flag", "--" + f.name.replace("_", "-")),
                kind=kind,
                default=None if f.default is MISSING else f.default,
                help=help_text,
                choices=choices,
                choice_labels=tuple(meta.get("choice_labels", ())) or choices,
                low=low,
                high=meta.get("high"),
                low_exclusive=meta.get("low_exclusive", False),
                label=meta.get("label", f.name.replace("_", " ").capitalize()),
                app_default=meta.get("app_default", f.default),
                form_high=meta.get("form_high"),
                metavar=meta.get("metavar"),
            )
        )
    return tuple(options)


def train_option(name: str) -> TrainOption:
    """The option of TrainConfig field ``name``."""
    return next(o for o in train_options() if o.name == name)

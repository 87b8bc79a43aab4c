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
# a user model's input N×N: as gcnn_viewer.data.digits' MIN/MAX_INPUT_SIZE (models and data are
# siblings; tests/training/test_user_models.py checks they agree)
MIN_INPUT_SIZE, MAX_INPUT_SIZE = 20, 64
USER_MODEL_EPOCHS = 10  # a user's model has no paper: its default number of epochs


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
        "the architecture to train: a shipped model, or your own as FILE.py:FACTORY or "
        "package.module:FACTORY (a function returning an nn.Module that maps [B, 1, N, N] "
        "pixels in [0, 1] to [B, 10] logits; loading it runs that file's code)",
        label="Model",
        model_choice=True,
        metavar="MODEL",
    )
    # Your own model (model "FILE.py:FACTORY"): the next three go with it only.
    name: str | None = _option(
        None, "your model's name in the app, figures and data keys (default: FACTORY)"
    )
    input_size: int | None = _option(  # None: the module's input_size attribute, else 28
        None,
        f"your model's input N×N, {MIN_INPUT_SIZE}-{MAX_INPUT_SIZE} (default: its input_size "
        "attribute, else 28); the 28×28 MNIST-rot digits are padded (cropped) centrally",
        low=MIN_INPUT_SIZE,
        high=MAX_INPUT_SIZE,
        metavar="N",
    )
    weights: str | None = _option(
        None,
        "your model starts from these weights: a state_dict or a gcnn-viewer checkpoint "
        "(loaded weights_only)",
        metavar="FILE",
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
    # torch's CPU threads for this run: part of the recipe, since float sums taken in another
    # order change the last bits (p4cnn, 10 steps at 1 and 2 threads: weights differ by 1e-2).
    # 0: this process's torch default, recorded as the number used when the run starts.
    threads: int = _option(
        0,
        "torch CPU threads for this run, 1-1024 (0: this machine's default, recorded as the "
        "number used); the same seed and threads give the same weights",
        low=0,
        high=1024,
        metavar="N",
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
        if not self.is_user_model and not registry.is_model(self.model):
            raise ConfigError(
                f"{registry.unknown_model_message(self.model)}, or your own as "
                "FILE.py:FACTORY or package.module:FACTORY"
            )
        if self.epochs is None:
            self.epochs = (
                USER_MODEL_EPOCHS
                if self.is_user_model
                else registry.model_spec(self.model).paper_epochs
            )
        for option in train_options():
            value = getattr(self, option.name)
            if value is None and option.default is None:  # not given (name, input_size, ...)
                continue
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
        for key in ("init_from", "weights"):
            if getattr(self, key) is not None and not isinstance(getattr(self, key), str):
                raise ConfigError(f"{key} must be a path, not {getattr(self, key)!r}")
        if self.name is not None and (
            not isinstance(self.name, str) or not self.name.strip() or len(self.name) > 100
        ):
            raise ConfigError(f"name must be a short text, not {self.name!r}")
        if not isinstance(self.diagnostics, bool):
            raise ConfigError(f"diagnostics must be true or false, not {self.diagnostics!r}")

    @property
    def is_user_model(self) -> bool:
        """``model`` names a user's own model, ``FILE.py:FACTORY`` or ``package.module:FACTORY``
        (never a shipped name)."""
        if not isinstance(self.model, str) or registry.is_model(self.model):
            return False
        from gcnn_viewer.models.user import is_model_spec

        return is_model_spec(self.model)

    @property
    def model_name(self) -> str:
        """The model's name as the run shows it: a shipped model's, or a user model's
        ``name`` (default: its FACTORY)."""
        if self.is_user_model:
            return self.name or self.model.rpartition(":")[2]
        return self.model

    def check_model_options(self) -> None:
        """:class:`ConfigError` when ``name``, ``input_size`` or ``weights`` come with a shipped
        model: they describe a model of the user's own (a shipped model takes 28×28 digits
        and starts from a checkpoint with ``init_from``)."""
        if self.is_user_model:
            if self.init_from is not None:
                raise ConfigError(
                    f"{self.model}: start your own model from a file with --weights, "
                    "not --init-from"
                )
            return
        given = [
            train_option(key).flag
            for key in ("name", "input_size", "weights")
            if getattr(self, key) is not None
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} go{'es' if len(given) == 1 else ''} with a model of your "
                f"own (--model FILE.py:FACTORY), not {self.model}"
                + (" (fine-tune it with --init-from)" if "--weights" in given else "")
            )

    @property
    def protocol(self) -> str:
        """``"faithful"`` only when every setting is the paper's; otherwise ``"custom"``
        (always for a user's own model: it has no paper)."""
        if self.is_user_model:
            return "custom"
        paper = TrainConfig(model=self.model, seed=self.seed, device=self.device)
        same = all(
            getattr(self, f.name) == getattr(paper, f.name)
            for f in fields(self)
            if f.name not in ("seed", "device", "threads", "eval_every", "diagnostics")
        )
        return "faithful" if same else "custom"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        values = dict(values)
        if "recalibrate_bn" in values:  # older checkpoints: True meant what is now "eval"
            values.setdefault("bn_recalibration", "eval" if values["recalibrate_bn"] else "off")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


_KINDS = {"model": str, "epochs": int, "init_from": str, "input_size": int}


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
            shipped = f"a shipped model ({', '.join(choices)})"
            help_text = help_text.replace("a shipped model", shipped, 1)
        if f.name == "epochs":
            paper = ", ".join(f"{s.paper_epochs} {s.name}" for s in registry.model_specs())
            help_text = f"{help_text} ({paper}; {USER_MODEL_EPOCHS} for your own model)"
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

"""What the command lines share: argparse types that check a value where it is typed (one
line naming the option, via argparse), and the help texts of options that several
sub-commands take. Torch-free, so building the parsers stays fast."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from gcnn_viewer.models.registry import model_names  # torch-free

INPUT_HELP = (
    "a digit 0-9 (the shipped sample of that digit; default 7), an image path, or "
    "mnist-rot:N (MNIST-rot test digit N, from the data cache)"
)


def model_help(count: str = "one or two models") -> str:
    """``--model``'s help, naming every registered model (read when the parser is built, so
    a model added to the registry is offered here too)."""
    return (
        f"{count}: {', '.join(model_names())}, a checkpoint path, or your own model as "
        "FILE.py:FACTORY or package.module:FACTORY (this runs that code; see --weights)"
    )


OWN_MODEL_INPUT_SIZES = (8, 512)


def add_own_model_options(
    parser: argparse.ArgumentParser, *, several: bool = True, layers: bool = True
) -> None:
    """``--weights``, ``--name``, ``--input-size`` and ``--layers``: the options of a user's
    own model (``--model FILE.py:FACTORY``; docs/own-model.md). With ``several`` (a command
    taking two models) ``--weights`` and ``--name`` take one value per model, in the order of
    ``--model``. ``layers=False``: the command has a ``--layers`` of its own (the layers to
    show), which then also names a user's model's layers. Read them with
    :func:`own_model_options`."""
    group = parser.add_argument_group(
        "your own model (--model FILE.py:FACTORY or package.module:FACTORY)"
    )
    many = {"nargs": "+"} if several else {}
    each = ", one per model in the order of --model" if several else ""
    group.add_argument(
        "--weights",
        metavar="FILE",
        **many,
        help=f"weights for your model{each}: a state_dict or a gcnn-viewer checkpoint, read "
        "with torch.load(weights_only=True)",
    )
    group.add_argument(
        "--name",
        metavar="NAME",
        **many,
        help=f"your model's name in figures and data keys{each} (default: the factory's name)",
    )
    low, high = OWN_MODEL_INPUT_SIZES
    group.add_argument(
        "--input-size",
        type=int_in(low, high),
        metavar="N",
        help="your model takes [B, 1, N, N] pixels (default: its attribute input_size, else "
        "28); for N 20-64 the digit is drawn into the N×N field the MNIST way, otherwise the "
        "28×28 digit is padded (or cropped) about its centre",
    )
    if not layers:
        return
    group.add_argument(
        "--layers",
        nargs="+",
        metavar="PATH",
        help="the modules whose outputs are your model's layers, by module path such as "
        "features.3 (default: its children)",
    )


def own_model_options(args: argparse.Namespace) -> dict:
    """What :func:`add_own_model_options` parsed, as keyword arguments of
    :class:`gcnn_viewer.viewer.sources.OwnModelOptions`."""

    def listed(value: object) -> tuple:
        if value is None:
            return ()
        return tuple(value) if isinstance(value, (list, tuple)) else (value,)

    layers = getattr(args, "layers", None)
    return {
        "weights": listed(getattr(args, "weights", None)),
        "names": listed(getattr(args, "name", None)),
        "input_size": getattr(args, "input_size", None),
        "layers": tuple(layers) if layers else None,
    }


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (no upper bound when ``high`` is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            bound = f"{low} .. {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {value}")
        return value

    return parse


def number(*, positive: bool) -> Callable[[str], float]:
    """An argparse type: a finite float, > 0 (``positive``) or >= 0."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
        if value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"must be {'> 0' if positive else '>= 0'}, not {text}")
        return value

    return parse


def angle(text: str) -> float:
    """An argparse type: a finite number of degrees (any sign; turned modulo 360 later)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of degrees") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of degrees")
    return value

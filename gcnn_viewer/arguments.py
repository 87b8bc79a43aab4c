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
    return f"{count}: {', '.join(model_names())}, or a checkpoint path"


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

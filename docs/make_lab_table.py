"""The equivariance lab's table for the manual (docs/lab.md): the shipped P4CNN's error per
layer at 90° and at 45°, for input sizes 27-30, each rotation method, with and without the
disc mask, averaged over the ten shipped sample digits (0-9).

    python docs/make_lab_table.py            # print the tables (Markdown)
    python docs/make_lab_table.py --write    # and put them into docs/lab.md between the markers
    python docs/make_lab_table.py --z2cnn RUN.pt   # Z2CNN trained on rotations: the comparison

The numbers are those of ``gcnn-viewer analyse equivariance --model p4cnn --input D
--input-size N --rotation M --mask K --angles 90 45`` (the same functions: analysis/lab.py),
averaged over D = 0 … 9. Took 2.5 minutes on a shared two-core CPU (55 s of CPU time).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.analysis.lab import LabSettings, lab_curves
from gcnn_viewer.viewer.sources import resolve_input, resolve_models

if TYPE_CHECKING:
    import torch

    from gcnn_viewer.data.digits import Digit

PAGE = Path(__file__).resolve().parent / "lab.md"
START, END = "<!-- lab-table: start (docs/make_lab_table.py) -->", "<!-- lab-table: end -->"
SIZES = (27, 28, 29, 30)
METHODS = ("nearest", "bilinear", "bicubic", "supersample:4", "supersample:8")
MASKS = ("none", "disc")
DIGITS = tuple(str(d) for d in range(10))


def measure(
    model: torch.nn.Module, digits: Sequence[Digit], size: int, method: str, mask: str
) -> dict[str, np.ndarray]:
    """Each layer's mean error over ``digits`` at [90°, 45°] (NaN where n/a)."""
    settings = LabSettings(size, method, mask)
    runs = [lab_curves(model, d, [90.0, 45.0], settings).errors for d in digits]
    return {layer: np.mean([r[layer] for r in runs], axis=0) for layer in runs[0]}


def cell(value: float) -> str:
    if np.isnan(value):
        return "n/a"
    if value <= EXACT_TOLERANCE:
        return "exact"
    return f"{value:.2g}" if value >= 0.01 else f"{value:.1e}"


def tables() -> str:
    (model,) = resolve_models(["p4cnn"])
    digits = [resolve_input(d).snapshot.digit for d in DIGITS]
    results = {
        (n, m, k): measure(model.model, digits, n, m, k)
        for n in SIZES
        for m in METHODS
        for k in MASKS
    }
    layers = list(next(iter(results.values())))
    out = [
        f"P4CNN (shipped weights, sha256 {model.sha256[:12]}), mean relative error over the "
        'ten sample digits 0–9; "exact": at most '
        f"{EXACT_TOLERANCE:g} (float32 rounding); n/a: the layer cannot be computed at that "
        "size. The app's rotation, `native`, is `bicubic` for these 28×28 digits.",
        "",
        "**At 90°** (the same for every rotation method: a quarter turn is an exact rot90), "
        "mask none / disc:",
        "",
        "| layer | " + " | ".join(f"{n}×{n}" for n in SIZES) + " |",
        "|---|" + "---|" * len(SIZES),
    ]
    for layer in layers:
        row = [
            " / ".join(cell(results[(n, METHODS[0], k)][layer][0]) for k in MASKS) for n in SIZES
        ]
        out.append(f"| {layer} | " + " | ".join(row) + " |")
    for n in SIZES:
        out += [
            "",
            f"**At 45°, input {n}×{n}**, mask none / disc:",
            "",
            "| layer | " + " | ".join(METHODS) + " |",
            "|---|" + "---|" * len(METHODS),
        ]
        for layer in layers:
            row = [" / ".join(cell(results[(n, m, k)][layer][1]) for k in MASKS) for m in METHODS]
            out.append(f"| {layer} | " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def z2cnn_table(run: Path) -> str:
    """A plain CNN's error at the quarter turns, layer by layer, as training on rotations
    changes it: untrained, the paper's augmentation, ``run`` (rotation augmentation), the
    shipped Z2CNN (rotation augmentation, 300 epochs); mean over the ten sample digits and
    90°, 180°, 270°; and how often the predicted class is the same at all four quarter turns."""
    import torch

    from gcnn_viewer.models.networks import build_model

    root = PAGE.parent.parent
    torch.manual_seed(0)
    untrained = build_model("z2cnn").eval()
    models = {
        "untrained (seed 0)": untrained,
        "paper augmentation (±3°), 300 epochs": resolve_models(
            [str(root / "results" / "table1" / "z2cnn-seed0.pt")]
        )[0].model,
        f"rotation augmentation, {run.name}": resolve_models([str(run)])[0].model,
        "rotation augmentation, 300 epochs (shipped)": resolve_models(["z2cnn"])[0].model,
    }
    digits = [resolve_input(d).snapshot.digit for d in DIGITS]
    quarters = [90.0, 180.0, 270.0]
    rows: dict[str, list[str]] = {}
    same = []
    for model in models.values():
        runs = [lab_curves(model, d, quarters) for d in digits]
        for layer in runs[0].errors:
            mean = float(np.mean([r.errors[layer] for r in runs]))
            rows.setdefault(layer, []).append(cell(mean))
        agree = 0
        with torch.inference_mode():
            for d in digits:
                x = torch.from_numpy(np.stack([np.rot90(d.image, k).copy() for k in range(4)]))
                agree += len(set(model(x[:, None]).argmax(1).tolist())) == 1
        same.append(f"{agree}/{len(digits)}")
    out = [
        "| layer | " + " | ".join(models) + " |",
        "|---|" + "---|" * len(models),
        *(f"| {layer} | " + " | ".join(v) + " |" for layer, v in rows.items()),
        "| same class at 0/90/180/270° | " + " | ".join(same) + " |",
    ]
    return "\n".join(out) + "\n"


def write(text: str) -> None:
    page = PAGE.read_text(encoding="utf-8")
    if START not in page or END not in page:
        sys.exit(f"{PAGE}: the markers {START} … {END} are missing")
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"also write them into {PAGE.name}")
    parser.add_argument(
        "--z2cnn",
        type=Path,
        metavar="RUN.pt",
        help="instead: Z2CNN's quarter-turn error per layer, untrained, paper-augmented, RUN "
        "and shipped",
    )
    args = parser.parse_args()
    if args.z2cnn is not None:
        print(z2cnn_table(args.z2cnn))
        return
    text = tables()
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()

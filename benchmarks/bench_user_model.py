"""Frame time of a user's own model against the shipped P4CNN, side by side in one run
(issue 22 §3: within 1.5× for a model of similar size; docs/ARCHITECTURE.md, “Measuring
performance”).

Both go through the app's one frame pipeline, ``compute_frame`` (the worker's call: rotate
the digit, every layer's maps, stabilisation, mosaics, RGB32 colours), one torch thread as
the worker runs it, at angles that are mostly not quarter turns (bicubic rotation). Models:

- **shipped**: P4CNN from the catalog (``shipped:p4cnn``, frozen; batch-norm folded into
  cached filter banks);
- **user**: ``examples/p4_plain_torch.py:build`` opened as a user's model
  (``ModelCatalog.open_user_model``): the same architecture written in plain torch ops, seen
  through forward hooks (:class:`~gcnn_viewer.models.user.UserModel`): 10 channels × 4
  orientations per layer, the same layers and parameter count as P4CNN, but its group
  convolutions build their filter banks in every forward and its batch-norm is not folded.

The models take turns within every block, so outside load hits them alike; the table gives
the median frame time of each and its ratio to the shipped model.

    python benchmarks/bench_user_model.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the checkout this file lives in

from gcnn_viewer.export.colours import colour_tables  # noqa: E402
from gcnn_viewer.viewer.inference import FrameRequest, PanelSpec, compute_frame  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402
from gcnn_viewer.viewer.sources import resolve_input  # noqa: E402

EXAMPLE = f"{ROOT / 'examples' / 'p4_plain_torch.py'}:build"
TARGET = 1.5


def requests(catalog: ModelCatalog) -> dict[str, FrameRequest]:
    snapshot = resolve_input("7").snapshot
    colours = colour_tables()
    shipped = catalog.load(catalog.find("p4cnn").key)
    user = catalog.open_user_model(EXAMPLE, name="p4_plain_torch")
    entries = {"shipped P4CNN": shipped, "user p4 (example)": user}
    out = {}
    for label, entry in entries.items():
        panel = PanelSpec(entry.key, entry.model, entry.probe())
        out[label] = FrameRequest(0, snapshot, 0.0, False, (panel,), colours)
    return out


def frame_ms(request: FrameRequest, angles: list[float]) -> list[float]:
    times = []
    for angle in angles:
        r = FrameRequest(0, request.snapshot, angle, True, request.panels, request.colours)
        start = time.perf_counter()
        compute_frame(r)
        times.append(1000 * (time.perf_counter() - start))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (a few seconds)")
    parser.add_argument("--json", metavar="OUT", help="also write every number")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the app's worker runs a frame
    catalog = ModelCatalog()
    reqs = requests(catalog)
    params = {
        label: sum(p.numel() for p in r.panels[0].model.parameters()) for label, r in reqs.items()
    }
    blocks, per_block = (3, 12) if args.quick else (12, 36)
    angles = [float((7 + 10 * i) % 360) for i in range(per_block)]  # mostly not quarter turns
    for r in reqs.values():
        frame_ms(r, angles[:4])  # warm-up: filter caches, allocator
    times: dict[str, list[float]] = {label: [] for label in reqs}
    for _ in range(blocks):
        for label, r in reqs.items():
            times[label].extend(frame_ms(r, angles))
    base = statistics.median(times["shipped P4CNN"])
    print(f"torch {torch.__version__}, 1 thread, {blocks} blocks × {per_block} frames per model")
    print(f"{'model':<22}{'parameters':>11}{'median ms':>11}{'p90 ms':>9}{'ratio':>8}")
    rows = {}
    for label, t in times.items():
        median = statistics.median(t)
        p90 = statistics.quantiles(t, n=10)[-1]
        ratio = median / base
        rows[label] = {"params": params[label], "median_ms": median, "p90_ms": p90, "ratio": ratio}
        print(f"{label:<22}{params[label]:>11,}{median:>11.2f}{p90:>9.2f}{ratio:>7.2f}×")
    user_ratio = rows["user p4 (example)"]["ratio"]
    verdict = "within" if user_ratio <= TARGET else "OVER"
    print(f"user p4 / shipped P4CNN: {user_ratio:.2f}× ({verdict} the {TARGET}× target)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "times": times}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export timings: the figure and the GIF of the issue's targets, as a user runs them.

    python benchmarks/bench_export.py              # 3 runs of each, fresh interpreters
    python benchmarks/bench_export.py --runs 1     # quicker

1. Figure: Z2CNN and P4CNN, every layer, at 0° and 90°, to PDF (target ≤ 3 s).
2. Animation: a 72-frame GIF of one layer (l1) of both models (target ≤ 15 s).

Each run is a fresh interpreter calling the ``gcnn-viewer export`` command's own function.
Printed per case: the export itself (after the imports: loading the shipped models, measuring
their colour scales, computing the maps, drawing and writing the file; median of the runs)
its CPU time (all threads; less sensitive than wall time to other load on a shared
machine), and the whole command as a shell sees it (interpreter start and the torch and
matplotlib imports too). Not a test: speed
targets live here, never in timed assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time
from gcnn_viewer.cli import main
import gcnn_viewer.export.render  # torch, matplotlib: counted in the whole command only
t0, c0 = time.perf_counter(), time.process_time()
code = main(sys.argv[1:])
print("EXPORT_S", time.perf_counter() - t0, time.process_time() - c0, code)
"""

CASES = {
    "figure: both models, all layers, 0° 90° -> PDF": [
        "export", "figure", "--model", "z2cnn", "p4cnn", "--angles", "0", "90",
        "--out", "{out}/figure.pdf",
    ],
    "animation: 72-frame GIF, l1 of both models": [
        "export", "animation", "--model", "z2cnn", "p4cnn", "--layers", "l1",
        "--frames", "72", "--out", "{out}/turn.gif",
    ],
}  # fmt: skip
TARGETS = {"figure": 3.0, "animation": 15.0}


def run_case(argv: list[str], out: str) -> tuple[float, float, float, int]:
    args = [a.replace("{out}", out) for a in argv]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    line = next(x for x in done.stdout.splitlines() if x.startswith("EXPORT_S"))
    _, seconds, cpu, code = line.split()
    if code != "0":
        raise RuntimeError(done.stderr)
    size = os.path.getsize(args[-1])
    return float(seconds), float(cpu), wall, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{runs} run(s) each, 1-minute load average {load:.2f} at the start")
    print("| export | export (median) | its CPU time | whole command (median) | target | file |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as out:
        for name, argv in CASES.items():
            results = [run_case(argv, out) for _ in range(runs)]
            export = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            wall = statistics.median(r[2] for r in results)
            target = TARGETS[argv[1]]
            kb = results[-1][3] / 1024
            print(
                f"| {name} | {export:.2f} s | {cpu:.2f} s | {wall:.2f} s | ≤ {target:.0f} s "
                f"| {kb:.0f} KB |"
            )
    end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"1-minute load average {end:.2f} at the end")


if __name__ == "__main__":
    main()

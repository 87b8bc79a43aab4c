"""End-of-run time of a training run: the passes after the last epoch (BN recalibration, the
test and valid evaluations), with and without the two diagnostic evaluations.

    python benchmarks/bench_end_of_run.py                  # P4CNN on the cached MNIST-rot
    python benchmarks/bench_end_of_run.py --model z2cnn --threads 2

Needs the real MNIST-rot in the data cache (``gcnn-viewer data fetch``). Training itself is
skipped: the passes cost the same whatever the weights, so each candidate starts from a fresh
model marked as trained and runs exactly what ``Trainer.run()`` does after the last epoch.
The two candidates run alternately, ``--repeats`` times each, so outside load hits both.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gcnn_viewer.data import load_mnist_rot
from gcnn_viewer.training import Datasets, TrainConfig, Trainer


def finish_seconds(model: str, data: Datasets, diagnostics: bool) -> tuple[float, list[str]]:
    config = TrainConfig(model=model, epochs=1, device="cpu", diagnostics=diagnostics)
    trainer = Trainer(config, data)
    trainer.epoch = config.epochs  # "trained": run() goes straight to the end-of-run passes
    trainer.global_step = trainer.steps_total
    start = time.perf_counter()
    records = list(trainer.run())
    wall = time.perf_counter() - start
    phases = list(dict.fromkeys(r.phase for r in records if r.kind == "finishing"))
    return wall, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="p4cnn")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = Datasets.from_mnist_rot(load_mnist_rot(use_network=False, use_npm=False))
    times: dict[bool, list[float]] = {False: [], True: []}
    phases: dict[bool, list[str]] = {}
    for _ in range(args.repeats):
        for diagnostics in (True, False):
            wall, phases[diagnostics] = finish_seconds(args.model, data, diagnostics)
            times[diagnostics].append(wall)
    print(f"{args.model}, {torch.get_num_threads()} threads, {args.repeats} repeat(s):")
    for diagnostics in (True, False):
        label = "with --diagnostics" if diagnostics else "default          "
        median = statistics.median(times[diagnostics])
        shown = ", ".join(f"{t:.1f}" for t in times[diagnostics])
        print(f"  {label}: {median:.1f} s  ({shown}; passes: {' / '.join(phases[diagnostics])})")
    saved = 1 - statistics.median(times[False]) / statistics.median(times[True])
    print(f"  saving: {100 * saved:.0f}% of the end-of-run time")


if __name__ == "__main__":
    main()

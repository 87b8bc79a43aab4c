"""Many runs at once (issue 24): the wall time of a 2 models × 2 seeds × 1 epoch reproduction
one after another (``--jobs 1``), two at a time (``--jobs 2``) and as Ray tasks on a local
cluster of two worker nodes, side by side in one run, with the checkpoints compared bit for bit.

    python benchmarks/bench_jobs.py                   # the cached MNIST-rot (12k + 50k digits)
    python benchmarks/bench_jobs.py --quick           # 2,000 training and test digits each
    python benchmarks/bench_jobs.py --device cuda --runs-per-gpu 1 2 4 8 --seeds 0 1 2 3

Needs the real MNIST-rot in the data cache (``gcnn-viewer data fetch``) and, for the Ray
candidate, Ray (``pip install 'gcnn-viewer[ray]'``; ``--no-ray`` skips it). Every run has
1 torch thread (``--threads``), as ``reproduce`` gives it by default; ``--jobs 1`` with 2
threads is measured too, since that is what one run alone can use of a 2-core CPU. Each
candidate trains into its own fresh folder; the Ray cluster's start is timed apart from the
runs (a cluster is started once and serves many commands).

On a GPU (``--device cuda``) it measures, instead, ``--runs-per-gpu`` K for each K given:
K runs at once on one GPU, their total training images/s and the wall time, to choose K.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from gcnn_viewer.data import load_mnist_rot
from gcnn_viewer.training import Datasets, read_run
from gcnn_viewer.training import parallel as par
from gcnn_viewer.training.reproduce import RunTask, reproduce, run_path

MODELS = ("p4cnn", "z2cnn")


def subset(data: Datasets, n: int) -> Datasets:
    def head(split):
        return None if split is None else (split[0][:n], split[1][:n])

    return replace(data, train=head(data.train), valid=head(data.valid), test=head(data.test))


def tasks(out: Path, seeds: list[int], threads: int, device: str) -> list[RunTask]:
    return [
        RunTask(m, s, str(run_path(out, m, s)), 1, device, threads) for m in MODELS for s in seeds
    ]


def sequential(data: Datasets, out: Path, seeds: list[int], threads: int, device: str) -> float:
    start = time.perf_counter()
    for _ in reproduce(list(MODELS), seeds, out, data, device=device, epochs=1, threads=threads):
        pass
    return time.perf_counter() - start


def many(runs: list[RunTask], backend) -> tuple[float, float]:
    """Wall seconds, and the runs' total training images/s (their last epoch records)."""
    start = time.perf_counter()
    speeds = {}
    for event in par.ManyRuns(runs, backend, worker=par.RunWorker(None, True)):
        if event.kind == "progress" and event.progress.kind == "epoch":
            speeds[event.run.path] = event.progress.images_per_s
        if event.kind == "failed":
            raise SystemExit(f"{event.run.label} failed: {event.message}")
    return time.perf_counter() - start, sum(speeds.values())


def same(a: Path, b: Path) -> bool:
    """Every checkpoint of folder ``a`` has bit-identical weights in folder ``b``."""
    for path in sorted(a.glob("*.pt")):
        wa, wb = read_run(path).state_dict, read_run(b / path.name).state_dict
        if any(not torch.equal(wa[k], wb[k]) for k in wa):
            return False
    return True


def ray_cluster(nodes: int):
    from ray.cluster_utils import Cluster

    start = time.perf_counter()
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    for _ in range(nodes):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    return cluster, time.perf_counter() - start


def fresh_forkserver() -> None:
    """Each candidate's worker processes start as a new command's would: from a new fork
    server that imports torch again (the first run of a command pays that import)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)  # CPython's own (used by its tests)
    if stop is not None:
        stop()


def one_round(args, data: Datasets, root: Path, cluster) -> dict[str, tuple[float, Path]]:
    """Each candidate once, into its own new folder: {name: (wall s, folder)}."""
    out: dict[str, tuple[float, Path]] = {}

    def folder(name: str) -> Path:
        path = root / f"{name}-{time.monotonic_ns()}"
        path.mkdir()
        return path

    f = folder("jobs1")
    out["--jobs 1"] = sequential(data, f, args.seeds, args.threads, "cpu"), f
    f = folder("jobs1t2")
    out["--jobs 1, 2 threads"] = sequential(data, f, args.seeds, 2, "cpu"), f
    fresh_forkserver()
    f = folder("jobs2")
    backend = par.LocalProcesses(data, ["cpu", "cpu"])
    out["--jobs 2"] = many(tasks(f, args.seeds, args.threads, "cpu"), backend)[0], f
    if cluster is not None:
        import ray

        ray.init(address=cluster.address, log_to_driver=False)  # a new job: new workers
        f = folder("ray")
        backend = par.RayTasks(data, device="cpu")
        out["Ray, 2 worker nodes"] = many(tasks(f, args.seeds, args.threads, "cpu"), backend)[0], f
        ray.shutdown()
    return out


def cpu(args, data: Datasets, root: Path) -> None:
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    n = len(args.seeds) * len(MODELS)
    cluster, started = ray_cluster(2) if not args.no_ray else (None, 0.0)
    rounds = [one_round(args, data, root, cluster) for _ in range(args.repeats)]
    if cluster is not None:
        cluster.shutdown()
    print(f"load average after:  {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"\n{n} runs (2 models × {len(args.seeds)} seeds × 1 epoch), {len(data.train[1])} "
        f"training digits, {len(data.test[1])} test digits, {args.threads} thread(s) per run; "
        f"median of {args.repeats} round(s), each round's in brackets"
    )
    walls = {name: statistics.median(r[name][0] for r in rounds) for name in rounds[0]}
    base = walls["--jobs 1"]
    for name, wall in walls.items():
        each = ", ".join(f"{r[name][0]:.1f}" for r in rounds)
        print(f"  {name:22s} {wall:7.1f} s  ({each})  {base / wall:5.2f}× the speed of --jobs 1")
    first = rounds[0]
    ref = first["--jobs 1"][1]
    checks = {name: same(ref, first[name][1]) for name in first if name != "--jobs 1"}
    print("  bit-identical to --jobs 1: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    print("  (1 and 2 threads are two recipes: expected False there)")
    if cluster is not None:
        extra = walls["Ray, 2 worker nodes"] / walls["--jobs 2"] - 1
        print(
            f"  Ray's overhead against --jobs 2: {100 * extra:+.0f}% "
            f"(starting the cluster, not included: {started:.1f} s)"
        )


def gpu(args, data: Datasets, root: Path) -> None:
    print(f"{torch.cuda.get_device_name(0)}; each K: {len(args.seeds) * len(MODELS)} runs")
    print("  K   wall s   total training images/s")
    for k in args.runs_per_gpu:
        out = root / f"k{k}"
        out.mkdir()
        devices = par.run_devices("cuda:0", k, k)
        wall, speed = many(
            tasks(out, args.seeds, args.threads, "cuda"), par.LocalProcesses(data, devices)
        )
        print(f"  {k:<3d} {wall:7.1f}   {speed:9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 digits per split")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every candidate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--runs-per-gpu", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    data = Datasets.from_mnist_rot(load_mnist_rot(use_network=False, use_npm=False))
    if args.quick:
        data = subset(data, 2000)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, numpy {np.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        (gpu if args.device == "cuda" else cpu)(args, data, Path(tmp))


if __name__ == "__main__":
    main()

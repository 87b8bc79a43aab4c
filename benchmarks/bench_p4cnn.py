"""P4CNN speed on the CPU, side by side in one run (docs/ARCHITECTURE.md, “Measuring performance”).

Measures, with the same torch threads and inputs for every model:

1. training-step throughput (images/s): batch 128 of 28×28, Adam lr 1e-3, cross-entropy,
   forward + backward + step; warm-up, then the median of several timed repeats, the models
   timed in turn within each repeat so that load changes hit all of them alike;
2. single-image eval latency (median and p95 ms over >= 500 calls; batch 1, eval mode,
   ``torch.inference_mode()``);
3. this CPU's practical peaks: one large channels-last 3×3 convolution and a 2048³ sgemm, and
   our P4CNN's training FLOP rate as a fraction of each.

Models: (a) ours, ``build_model("p4cnn")``; (b) a naive P4CNN written here, each group
convolution a Python loop over the 4 output rotations (rot90'd filters, one ``F.conv2d`` each,
then stack), same layers and initialisation, checked equal to ours on copied weights; (c) escnn's
equivalent (C4 regular fields, R2Conv, InnerBatchNorm, PointwiseMaxPool, GroupPooling), also
exported to plain torch for eval. escnn is optional: without it the run skips (c) and says why.

    python benchmarks/bench_p4cnn.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# measure the checkout this file lives in, whatever is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gcnn_viewer.models import build_model  # noqa: E402
from gcnn_viewer.nn import GroupConv  # noqa: E402

THREADS = 2
BATCH = 128
CHANNELS = 10
G = 4


# --------------------------------------------------------------------------------------------
# (b) the naive reference: a loop over output rotations in every forward


class NaiveP4Conv(nn.Module):
    """GrouPy's p4 convolution, one ``F.conv2d`` per output rotation r:
    ``y[:, :, r] = conv(x, rot90(roll(W, r, dim=G_in), r))``. Same parameters as ours."""

    def __init__(self, in_channels: int, out_channels: int, k: int, from_z2: bool) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.k = in_channels, out_channels, k
        self.g_in = 1 if from_z2 else G
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, self.g_in, k, k))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.normal_(self.weight, 0.0, math.sqrt(1.0 / (in_channels * self.g_in * k * k)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W = x.shape[0], x.shape[-2], x.shape[-1]
        x = x.reshape(B, self.in_channels * self.g_in, H, W)
        outs = []
        for r in range(G):
            # W[o, i, (s - r) mod 4] rotated by r quarter turns
            w = self.weight if self.g_in == 1 else torch.roll(self.weight, r, dims=2)
            w = torch.rot90(w, r, dims=(-2, -1)).reshape(self.out_channels, -1, self.k, self.k)
            outs.append(F.conv2d(x, w, self.bias))  # [B, out, H', W']
        return torch.stack(outs, dim=2)  # [B, out, 4, H', W']


class NaiveP4CNN(nn.Module):
    """The P4CNN stack (docs/ARCHITECTURE.md, “The models”) on :class:`NaiveP4Conv`.

    State-dict compatible with ours."""

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(()))
        self.register_buffer("input_std", torch.ones(()))
        self.convs = nn.ModuleList(
            [NaiveP4Conv(1, channels, 3, True)]
            + [NaiveP4Conv(channels, channels, 3, False) for _ in range(5)]
        )
        self.bns = nn.ModuleList(nn.BatchNorm3d(channels) for _ in range(6))
        self.top = NaiveP4Conv(channels, 10, 4, False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (x - self.input_mean) / self.input_std
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            h = F.relu(bn(conv(h)))  # [B, C, 4, H, W]
            if i == 1:
                B, C, _, H, W = h.shape
                h = F.max_pool2d(h.reshape(B, C * G, H, W), 2).view(B, C, G, H // 2, W // 2)
        return self.top(h).amax(dim=2).flatten(1)  # [B, 10]


# --------------------------------------------------------------------------------------------
# (c) escnn's equivalent, optional


def build_escnn() -> tuple[nn.Module | None, str]:
    """escnn's P4CNN, or ``(None, why not)``: C4 on R2, 10 regular fields per layer."""
    try:
        import escnn
        from escnn import gspaces
        from escnn import nn as enn
    except Exception as exc:  # ImportError, or a numpy ABI error from lie_learn
        return None, f"escnn not importable ({type(exc).__name__}: {str(exc).splitlines()[0]})"

    gspace = gspaces.rot2dOnR2(N=G)
    plane = enn.FieldType(gspace, [gspace.trivial_repr])
    regular = enn.FieldType(gspace, CHANNELS * [gspace.regular_repr])
    layers: list[nn.Module] = []
    for i in range(6):
        layers += [
            enn.R2Conv(plane if i == 0 else regular, regular, 3),  # no padding
            enn.InnerBatchNorm(regular),
            enn.ReLU(regular),
        ]
        if i == 1:
            layers.append(enn.PointwiseMaxPool2D(regular, 2))
    top = enn.FieldType(gspace, 10 * [gspace.regular_repr])
    layers += [enn.R2Conv(regular, top, 4), enn.GroupPooling(top)]

    class EscnnP4CNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("input_mean", torch.zeros(()))
            self.register_buffer("input_std", torch.ones(()))
            self.net = enn.SequentialModule(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = enn.GeometricTensor((x - self.input_mean) / self.input_std, plane)
            return self.net(h).tensor.flatten(1)  # [B, 10]

        def export(self) -> nn.Module:
            """The same network as plain torch layers (escnn's ``export``), eval mode."""
            exported = Exported(self.net.export())
            exported.input_mean.copy_(self.input_mean)
            exported.input_std.copy_(self.input_std)
            return exported.eval()

    class Exported(nn.Module):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.register_buffer("input_mean", torch.zeros(()))
            self.register_buffer("input_std", torch.ones(()))
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net((x - self.input_mean) / self.input_std).flatten(1)

    return EscnnP4CNN(), f"escnn {getattr(escnn, '__version__', '?')}"


# --------------------------------------------------------------------------------------------
# timing helpers


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forward_conv_flops(model: nn.Module) -> int:
    """Forward conv FLOPs of our P4CNN per image: 2·(out·G)·(in·G_in)·k²·H'·W' per layer,
    over the expanded filter banks, with H'·W' read from a traced forward."""
    sizes: dict[nn.Module, tuple[int, int]] = {}
    convs = [m for m in model.modules() if isinstance(m, GroupConv)]
    hooks = [
        m.register_forward_hook(lambda m, _, y: sizes.__setitem__(m, y.shape[-2:])) for m in convs
    ]
    with torch.no_grad():
        model.train()(torch.rand(2, 1, 28, 28))
    for h in hooks:
        h.remove()
    total = 0
    for m in convs:
        h, w = sizes[m]
        out, inp = m.out_channels * m.group.order, m.in_channels * m.input_order
        total += 2 * out * inp * m.kernel_size**2 * h * w
    return total


def time_round_robin(
    steps: dict[str, Callable[[], object]], warmup: int, repeats: int, inner: int
) -> dict[str, list[float]]:
    """Seconds per call of each function: ``repeats`` timings of ``inner`` calls each; within
    a repeat the functions take turns, so a burst of outside load is shared among them."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - t0) / inner)
    return times


def per_call_round_robin(
    calls: dict[str, Callable[[], object]], warmup: int, blocks: int, per_block: int
) -> dict[str, list[float]]:
    """Every single call's time in seconds, ``blocks`` × ``per_block`` calls each, in turns."""
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    clock = time.perf_counter
    for _ in range(blocks):
        for name, fn in calls.items():
            out = times[name]
            for _ in range(per_block):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return times


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


# --------------------------------------------------------------------------------------------
# the benchmarks


def bench_training(models: dict[str, nn.Module], quick: bool) -> dict[str, dict]:
    torch.manual_seed(0)
    x = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))
    steps = {}
    for name, model in models.items():
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model: nn.Module = model, opt: torch.optim.Optimizer = opt) -> None:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

        steps[name] = step
    warmup, repeats, inner = (1, 2, 1) if quick else (3, 9, 4)
    times = time_round_robin(steps, warmup, repeats, inner)
    return {
        name: {
            "step_s_median": statistics.median(t),
            "img_per_s": BATCH / statistics.median(t),
            "step_s_all": t,
        }
        for name, t in times.items()
    }


def bench_latency(models: dict[str, nn.Module], quick: bool) -> dict[str, dict]:
    torch.manual_seed(1)
    x = torch.rand(1, 1, 28, 28)
    calls = {}
    for name, model in models.items():
        model.eval()

        def call(model: nn.Module = model) -> None:
            with torch.inference_mode():
                model(x)

        calls[name] = call
    # quick: 200 calls, a smoke test; the full run's 2,000 give a stable p95
    warmup, blocks, per_block = (20, 2, 100) if quick else (100, 10, 200)
    times = per_call_round_robin(calls, warmup, blocks, per_block)
    return {
        name: {
            "calls": len(t),
            "median_ms": 1e3 * statistics.median(t),
            "p95_ms": 1e3 * percentile(t, 95),
            "mean_ms": 1e3 * statistics.fmean(t),
        }
        for name, t in times.items()
    }


def bench_peaks(quick: bool) -> dict[str, dict]:
    """GFLOP/s of one big channels-last 3×3 convolution (and the same in NCHW) and an sgemm."""
    torch.manual_seed(2)
    b = 32 if quick else 128
    x = torch.randn(b, 64, 56, 56)
    w = torch.randn(64, 64, 3, 3)
    conv_flops = 2 * 64 * 64 * 9 * 56 * 56 * b
    xcl, wcl = (t.contiguous(memory_format=torch.channels_last) for t in (x, w))
    a, bm = torch.randn(2048, 2048), torch.randn(2048, 2048)
    gemm_flops = 2 * 2048**3
    calls = {
        "conv3x3_channels_last": lambda: F.conv2d(xcl, wcl, padding=1),
        "conv3x3_nchw": lambda: F.conv2d(x, w, padding=1),
        "sgemm_2048": lambda: torch.mm(a, bm),
    }
    flops = {
        "conv3x3_channels_last": conv_flops,
        "conv3x3_nchw": conv_flops,
        "sgemm_2048": gemm_flops,
    }
    with torch.no_grad():
        times = time_round_robin(calls, warmup=1, repeats=3 if quick else 7, inner=1)
    return {
        name: {
            "flop": flops[name],
            "s_median": statistics.median(t),
            "gflop_per_s": flops[name] / statistics.median(t) / 1e9,
            # the best repeat is the least disturbed by other work on a shared machine
            "gflop_per_s_best": flops[name] / min(t) / 1e9,
        }
        for name, t in times.items()
    }


def check_naive_matches(ours: nn.Module, naive: nn.Module) -> float:
    """Largest |ours − naive| on copied weights (train-mode forward): the reference is right."""
    naive.load_state_dict(ours.state_dict())
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        a, b = ours.train()(x), naive.train()(x)
    err = (a - b).abs().max().item()
    if err > 1e-4 * max(1.0, a.abs().max().item()):
        raise AssertionError(f"naive P4CNN disagrees with ours: max |diff| = {err:.3g}")
    return err


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def progress(t_start: float, what: str) -> None:
    print(f"[{time.perf_counter() - t_start:5.1f} s] {what}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (smoke test)")
    parser.add_argument("--json", metavar="OUT", help="write every number to this JSON file")
    args = parser.parse_args(argv)

    torch.set_num_threads(THREADS)
    t_start = time.perf_counter()
    load_before = os.getloadavg()
    if load_before[0] > 1.0:
        print(f"warning: 1-min load average {load_before[0]:.2f}; timings will be noisy")

    torch.manual_seed(0)
    ours = build_model("p4cnn")
    naive = NaiveP4CNN()
    naive_err = check_naive_matches(ours, naive)
    naive = NaiveP4CNN()  # fresh weights for training, like the others
    escnn_model, escnn_note = build_escnn()
    if escnn_model is None:
        print(
            f"skipping escnn: {escnn_note}.\n  escnn's dependency lie_learn needs numpy<2; e.g.\n"
            "  python -m venv --system-site-packages /opt/escnn-venv && "
            "/opt/escnn-venv/bin/pip install escnn\n"
            "  /opt/escnn-venv/bin/python benchmarks/bench_p4cnn.py"
        )
    train_models: dict[str, nn.Module] = {"ours": ours, "naive loop": naive}
    if escnn_model is not None:
        train_models["escnn"] = escnn_model
    params = {name: n_params(m) for name, m in train_models.items()}
    fwd_flops = forward_conv_flops(build_model("p4cnn"))

    progress(t_start, "timing training steps")
    train = bench_training(train_models, args.quick)

    eval_models = dict(train_models)
    if escnn_model is not None:
        escnn_model.eval()  # escnn expands and caches its filters when switched to eval
        eval_models["escnn export"] = escnn_model.export()
        x = torch.rand(3, 1, 28, 28)
        with torch.inference_mode():
            export_err = (escnn_model(x) - eval_models["escnn export"](x)).abs().max().item()
    progress(t_start, "timing single-image eval")
    latency = bench_latency(eval_models, args.quick)

    progress(t_start, "timing the conv and sgemm peaks")
    peaks = bench_peaks(args.quick)
    conv_peak = peaks["conv3x3_channels_last"]["gflop_per_s"]
    sgemm = peaks["sgemm_2048"]["gflop_per_s"]
    ours_rate = train["ours"]["img_per_s"] * 3 * fwd_flops / 1e9

    result = {
        "quick": args.quick,
        "env": {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpu": cpu_name(),
            "python": platform.python_version(),
            "escnn": escnn_note,
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "batch": BATCH,
        "params": params,
        "naive_vs_ours_max_abs_diff": naive_err,
        "escnn_export_vs_eval_max_abs_diff": export_err if escnn_model is not None else None,
        "train": train,
        "eval_latency": latency,
        "peaks": peaks,
        "ours_forward_conv_mflop_per_image": fwd_flops / 1e6,
        "ours_train_gflop_per_s": ours_rate,
        "ours_train_fraction_of_conv_peak": ours_rate / conv_peak,
        "ours_train_fraction_of_sgemm": ours_rate / sgemm,
    }
    result["seconds"] = time.perf_counter() - t_start

    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return result


def markdown(r: dict) -> str:
    train, lat, params = r["train"], r["eval_latency"], r["params"]
    ref_t = train.get("escnn", {}).get("img_per_s")
    ref_l = lat.get("escnn", {}).get("median_ms")
    env = r["env"]
    lines = [
        f"P4CNN on {env['cpu']}, torch {env['torch']}, {env['threads']} threads; "
        f"{env['escnn']}; load avg {env['loadavg_before'][0]:.2f} → "
        f"{env['loadavg_after'][0]:.2f}" + (" (--quick)" if r["quick"] else ""),
        "",
        "| model | parameters | train img/s (batch 128) | × escnn | eval latency median / p95 "
        "(ms, batch 1) | × escnn |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "ours": 'ours (`build_model("p4cnn")`)',
        "naive loop": "naive loop over rotations",
        "escnn": "escnn (C4 regular, R2Conv)",
        "escnn export": "escnn `export()` (eval only)",
    }
    for name in lat:
        t = train.get(name)
        tp = f"{t['img_per_s']:.0f}" if t else "—"
        tr = f"{t['img_per_s'] / ref_t:.2f}" if t and ref_t else "—"
        p = params.get(name, params.get("escnn") if name.startswith("escnn") else None)
        lm, lp = lat[name]["median_ms"], lat[name]["p95_ms"]
        lr = f"{ref_l / lm:.2f}" if ref_l else "—"
        lines.append(f"| {labels[name]} | {p:,} | {tp} | {tr} | {lm:.3f} / {lp:.3f} | {lr} |")
    pk = r["peaks"]
    peak_batch = pk["conv3x3_channels_last"]["flop"] // (2 * 64 * 64 * 9 * 56 * 56)
    lines += [
        "",
        "× escnn: speed-up over escnn (its time / this model's time); > 1 is faster.",
        "",
        f"- conv peak (3×3, 64→64, 56×56, batch {peak_batch}, channels-last): "
        f"{pk['conv3x3_channels_last']['gflop_per_s']:.1f} GFLOP/s "
        f"(NCHW: {pk['conv3x3_nchw']['gflop_per_s']:.1f})",
        f"- sgemm 2048³: {pk['sgemm_2048']['gflop_per_s']:.1f} GFLOP/s",
        f"- ours, training: {r['ours_forward_conv_mflop_per_image']:.2f} MFLOP forward conv per "
        f"image × 3 × {train['ours']['img_per_s']:.0f} img/s = "
        f"{r['ours_train_gflop_per_s']:.1f} GFLOP/s = "
        f"{100 * r['ours_train_fraction_of_conv_peak']:.0f}% of the conv peak, "
        f"{100 * r['ours_train_fraction_of_sgemm']:.0f}% of sgemm",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

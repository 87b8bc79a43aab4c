"""Interaction latency of the desktop app: input change -> last plot repainted.

Drives the real main window (two models, every layer shown) and times, per input event, from
the moment the event is delivered to the moment the last of the plots that show its result
has finished painting: every layer mosaic of both models, both probability-bar plots and the
28×28 input preview (and, for strokes, the canvas). Paths:

- rotation: the angle slider moved 1° at a time (the dial and spin box share the path);
- rotation +90°: the exact quarter-turn action;
- stroke: mouse moves with the left button held on the canvas, as a user draws.

Closed loop: the next event is sent after the previous one is on screen plus a short pause,
so each sample is one input's full latency. A separate open-loop run drags the slider at
100 events/s to show coalescing (latest wins: stale requests are dropped, not queued).

    python benchmarks/bench_interaction.py            # ~20 s; prints a Markdown table
    python benchmarks/bench_interaction.py --n 100 --json out.json

Uses the offscreen Qt platform unless DISPLAY is set (then the real X server, e.g. Xvfb).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import torch  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.gui import canvas as canvas_module  # noqa: E402
from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.gui.synthetic_input import move_held, press, release  # noqa: E402

TARGET_MEDIAN_MS, TARGET_P95_MS = 16.0, 33.0


class PaintClock:
    """Time at which watched widgets last *finished* painting.

    Wraps the ``paintEvent`` of the classes that draw results (pyqtgraph's views, which
    paint their whole scene in it, and the input preview), so the time is taken after the
    painting returned (an event filter would see the event before the paint).
    """

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self.on_paint = None

    def wrap(self, cls, name: str) -> None:
        original = getattr(cls, name)
        clock = self

        def wrapped(obj, *args, **kwargs):
            result = original(obj, *args, **kwargs)
            clock.done[id(obj)] = time.perf_counter()
            if clock.on_paint is not None:
                clock.on_paint()
            return result

        setattr(cls, name, wrapped)


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="samples per path")
    parser.add_argument("--pause-ms", type=float, default=15.0, help="idle time between inputs")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    args = parser.parse_args()

    clock = PaintClock()
    clock.wrap(pg.GraphicsView, "paintEvent")  # feature maps, probability bars, sweep plot
    clock.wrap(canvas_module.InputPreview, "paintEvent")
    clock.wrap(canvas_module.DrawingCanvas, "paintEvent")

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    settings_file = Path(tempfile.mkdtemp()) / "bench.ini"
    settings = QtCore.QSettings(str(settings_file), QtCore.QSettings.Format.IniFormat)
    t_start = time.perf_counter()
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    loop = QtCore.QEventLoop()
    safety = QtCore.QTimer()  # wake up now and then even if nothing paints
    safety.setInterval(20)
    safety.timeout.connect(loop.quit)

    def spin_until(condition, timeout_s=10.0) -> bool:
        """Block in Qt's event loop (not a busy loop: the GUI thread of the real app is idle
        between events too) until ``condition`` holds after a paint or a frame."""
        deadline = time.perf_counter() + timeout_s
        clock.on_paint = lambda: loop.quit() if condition() else None
        safety.start()
        try:
            while not condition():
                if time.perf_counter() > deadline:
                    return False
                loop.exec()
        finally:
            safety.stop()
            clock.on_paint = None
        return True

    spin_until(
        lambda: window.last_frame is not None and window.last_frame.seq == window.pending_frame
    )
    first_frame_s = time.perf_counter() - t_start
    spin_until(lambda: window.last_sweep is not None, 30)
    for _ in range(50):  # settle the layout
        app.processEvents()

    applied = {"t": 0.0, "seq": -1}

    def frame_shown(result) -> None:
        applied.update(t=time.perf_counter(), seq=result.seq)

    window.frameShown.connect(frame_shown)

    def result_items() -> list[int]:
        """Widgets that repaint for every frame: both models' maps and the input preview.
        Bars and the sweep marker repaint only when their values change (checked below)."""
        return [id(panel.maps) for panel in window.panels] + [id(window.preview)]

    optional = [id(panel.bars) for panel in window.panels] + [id(window.sweep.plot)]

    def measure(send, include_canvas=False) -> float:
        items = result_items()
        t0 = time.perf_counter()
        send()
        target = window.pending_frame
        canvas_id = id(window.canvas)

        def on_screen() -> bool:
            if applied["seq"] != target:
                return False
            if include_canvas and clock.done.get(canvas_id, 0.0) < t0:
                return False  # the stroke itself, painted before the frame arrives
            return all(clock.done.get(i, 0.0) >= applied["t"] for i in items)

        if not spin_until(on_screen):
            missing = [i for i in items if clock.done.get(i, 0.0) < applied["t"]]
            window.shutdown()
            raise RuntimeError(
                f"frame {target} never reached the screen (shown: {applied['seq']}, "
                f"unpainted: {len(missing)} of {len(items)})"
            )
        # let the plots whose values changed (bars, sweep marker) finish their repaint too
        for _ in range(5):
            before = dict(clock.done)
            app.processEvents()
            if clock.done == before:
                break
        painted = [
            t for i, t in clock.done.items() if t >= applied["t"] and (i in items or i in optional)
        ]
        if include_canvas:
            painted.append(clock.done[canvas_id])
        latency = max(painted) - t0
        app.processEvents()
        time.sleep(args.pause_ms / 1000)  # idle between inputs, as a user's hand is
        app.processEvents()
        return 1000 * latency

    # -- rotation: slider 1° steps ------------------------------------------------------------
    slider = window.rotation.slider
    rotation = [measure(lambda v=v: slider.setValue(v)) for v in range(1, args.n + 1)]
    slider.setValue(0)
    quarter = [
        measure(window.actions_by_id["rotatePlus"].trigger) for _ in range(max(20, args.n // 4))
    ]

    # -- strokes: mouse moves with the left button held ---------------------------------------
    window.actions_by_id["clear"].trigger()
    canvas = window.canvas

    size = min(canvas.width(), canvas.height())
    stroke = []
    per_stroke = 40
    for s in range((args.n + per_stroke - 1) // per_stroke):
        pts = [
            QtCore.QPoint(
                int(size * (0.25 + 0.5 * t)), int(size * (0.2 + 0.6 * abs(np.sin(3 * t + s))))
            )
            for t in np.linspace(0, 1, per_stroke + 1)
        ]
        measure(lambda p=pts[0]: press(canvas, p), True)
        for p in pts[1:]:
            if len(stroke) < args.n:
                stroke.append(measure(lambda p=p: move_held(canvas, p), True))
        release(canvas, pts[-1])
        if s == 0:  # drawing committed -> the 0–360° sweep is recomputed and replotted
            t0 = time.perf_counter()
            version = window.state.drawing.version
            spin_until(
                lambda v=version: window.last_sweep is not None and window.last_sweep.version == v,
                30,
            )
            sweep_ms = 1000 * (time.perf_counter() - t0)

    # -- open loop: a fast dial drag, to show coalescing ---------------------------------------
    sched = window.scheduler
    submitted, taken = sched.frames_submitted, sched.frames_taken
    shown = []
    window.frameShown.connect(lambda r: shown.append(r.seq))
    t0 = time.perf_counter()
    for i in range(200):  # 100 events/s for 2 s
        slider.setValue((i * 3) % 360)
        next_t = t0 + (i + 1) * 0.01
        while (left_s := next_t - time.perf_counter()) > 0:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 1)
            time.sleep(min(left_s, 0.002))
    last_input = time.perf_counter()
    spin_until(lambda: window.last_frame.seq == window.pending_frame)
    settle_ms = 1000 * (time.perf_counter() - last_input)
    drag = {
        "events": sched.frames_submitted - submitted,
        "computed": sched.frames_taken - taken,
        "shown": len(shown),
        "last_input_to_frame_ms": settle_ms,
    }

    load = os.getloadavg()
    rows = [
        ("rotation: slider, 1° steps", rotation),
        ("rotation: +90° (exact rot90)", quarter),
        ("stroke: mouse move on the canvas", stroke),
    ]
    left_model, right_model = (window.state.catalog.get(k).label for k in window.state.panel_keys)
    window.close()

    print(f"\nInteraction latency, input event -> last plot repainted ({args.n} samples a path)")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f}; torch {torch.__version__} (inference: 1 thread); Qt platform "
        f"{QtGui.QGuiApplication.platformName()}; window 1600×1000"
    )
    print(f"models: {left_model} | {right_model}; all 8 layers of each shown\n")
    print("| path | n | median ms | p95 ms | max ms | target (median / p95) |")
    print("|---|---:|---:|---:|---:|---|")
    summary = {}
    for name, values in rows:
        med, p95 = statistics.median(values), percentile(values, 95)
        ok = "met" if med <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS else "MISSED"
        print(
            f"| {name} | {len(values)} | {med:.1f} | {p95:.1f} | {max(values):.1f} | "
            f"≤ {TARGET_MEDIAN_MS:.0f} / ≤ {TARGET_P95_MS:.0f}: {ok} |"
        )
        summary[name] = {"median_ms": med, "p95_ms": p95, "max_ms": max(values), "samples": values}
    print(
        f"\nfirst frame on screen {first_frame_s:.2f} s after creating the window; "
        f"stroke released -> 0–360° sweep (181 angles × 2 models) replotted: {sweep_ms:.0f} ms"
    )
    print(
        f"open-loop slider drag, 100 events/s for 2 s: {drag['events']} requests, "
        f"{drag['computed']} computed, {drag['shown']} shown (the rest coalesced); "
        f"last input -> its frame: {drag['last_input_to_frame_ms']:.1f} ms"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"paths": summary, "drag": drag, "sweep_ms": sweep_ms, "load": load}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start-up, measured side by side in one run (issue 20, "A window in a second").

    python benchmarks/bench_startup.py              # 5 rounds, a private Xvfb screen
    python benchmarks/bench_startup.py --offscreen  # without X (no "mapped" column)

Each round starts, in fresh processes and in turn (so that the machine's noise falls on all
alike): ``python -c "import torch"``, ``gcnn-viewer --version``, ``gcnn-viewer --help`` and
the app itself, launched as ``gcnn-viewer`` is (``gcnn_viewer.cli.main([])``, from the
current folder's ``gcnn_viewer`` when there is one: run it from an older checkout to measure
that). For the app it records, from the moment the process is started:

- **mapped**: the main window is mapped on the X screen (found by its title with xdotool, as
  ``packaging/measure_startup.py`` does);
- **shown**: the window's first expose event has reached the GUI thread (it paints now;
  a version that shows its window only after loading the models may have been exposed
  before the benchmark could watch: then "-");
- **maps**: the first frame of both models' feature maps is on screen (``frameShown``);
- **stall**: the longest the GUI thread did not answer a 10 ms timer between shown and
  maps (while torch and the models load on the start-up thread).

The first round starts with an empty data cache (the colour scales are measured: "cold")
and writes Python's byte code (to a scratch ``PYTHONPYCACHEPREFIX``, even where
``PYTHONDONTWRITEBYTECODE`` is set); the others find both, as every start after the first
does (and as a pip install has byte code from the start). Medians are over the warm rounds.
Settings live in a temporary folder, so a stored session of yours does not change what is
measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW_TITLE = " vs "  # "Z2CNN vs P4CNN — gcnn-viewer": the main window

CHILD = r"""
import json, os, sys, time
T0 = float(os.environ["BENCH_T0"])
stamps = {}

def stamp(name):
    stamps.setdefault(name, time.time() - T0)

def on_window(window):
    from PySide6 import QtCore

    class Exposed(QtCore.QObject):
        def eventFilter(self, obj, event):
            if event.type() == QtCore.QEvent.Type.Expose and obj.isExposed():
                stamp("shown")
            return False

    handle = window.windowHandle()
    exposed = Exposed(window)
    handle.installEventFilter(exposed)
    stall, last = [0.0], [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        stall[0] = max(stall[0], now - last[0])
        last[0] = now

    timer = QtCore.QTimer(window)
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()

    def maps(_frame):
        if "maps" in stamps:
            return
        stamp("maps")
        beat()
        timer.stop()
        stamps["stall"] = stall[0]
        print("BENCH " + json.dumps(stamps), flush=True)
        QtCore.QTimer.singleShot(0, window.close)

    window.frameShown.connect(maps)

# (patched on the class, not passed in: the same child measures older versions too)
import gcnn_viewer.gui.main_window as main_window
show = main_window.MainWindow.show

def show_and_watch(self):
    show(self)
    on_window(self)

main_window.MainWindow.show = show_and_watch
from gcnn_viewer.cli import main
sys.exit(main([]))
"""


def launcher() -> list[str]:
    found = shutil.which("gcnn-viewer", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "gcnn_viewer"]


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def app_times(
    env: dict[str, str], display: str | None, cwd: Path | None = None, timeout: float = 120.0
) -> dict:
    env = dict(env, BENCH_T0=repr(time.time()))
    start = time.perf_counter()
    app = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=cwd,
    )  # fmt: skip
    mapped = None
    try:
        while display and mapped is None and time.perf_counter() - start < timeout:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
                env=env,
                capture_output=True,
            )
            if found.returncode == 0 and found.stdout.strip():
                mapped = time.perf_counter() - start
            elif app.poll() is not None:
                break
            else:
                time.sleep(0.02)
        out, err = app.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        app.kill()
        out, err = app.communicate()
        raise RuntimeError(f"the app did not end within {timeout:.0f} s: {err[-2000:]}") from None
    finally:
        if app.poll() is None:
            app.kill()
    lines = [line for line in out.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise RuntimeError(f"the app did not report its start-up: {err.strip()[-2000:]}")
    times = json.loads(lines[-1][len("BENCH ") :])
    times["mapped"] = mapped
    return times


def start_xvfb(display: str) -> subprocess.Popen:
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            sys.exit(f"bench_startup: {tool} is needed (or use --offscreen)")
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from gcnn_viewer.gui.platform_check import xcb_connects

    deadline = time.monotonic() + 30
    while not xcb_connects(display):
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"bench_startup: Xvfb did not start on {display}")
        time.sleep(0.1)
    return server


def median(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.2f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="warm rounds (default 5)")
    parser.add_argument("--display", default=":73")
    parser.add_argument("--offscreen", action="store_true", help="Qt's offscreen platform")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also start the app of another checkout (e.g. git archive of an older commit) "
        "in every round, right after this one",
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="gcnn-bench-startup-"))
    env = dict(os.environ, GCNN_VIEWER_DATA=str(scratch / "cache"))
    env["XDG_CONFIG_HOME"] = str(scratch / "config")  # QSettings: no stored session
    # Byte code as an installed package has it (pip compiles it; a checkout writes it on the
    # first run), kept out of the source tree: without it every start compiles every module.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    env.pop("WAYLAND_DISPLAY", None)
    server = None
    if args.offscreen:
        env["QT_QPA_PLATFORM"], display = "offscreen", None
    else:
        env.pop("QT_QPA_PLATFORM", None)
        display = env["DISPLAY"] = args.display
        server = start_xvfb(display)
    try:
        cli = launcher()
        wall([*cli, "--version"], env)  # warm the file cache once
        rows = []
        for i in range(args.runs + 1):
            row = {
                "torch": wall([sys.executable, "-c", "import torch"], env),
                "version": wall([*cli, "--version"], env),
                "help": wall([*cli, "--help"], env),
            }
            row.update(app_times(env, display))
            if args.compare is not None:
                other = app_times(env, display, cwd=args.compare.resolve())
                row.update({f"{k} (compared)": v for k, v in other.items()})
            rows.append(row)
            print(
                f"round {i} ({'cold' if i == 0 else 'warm'} colour-scale cache): "
                + ", ".join(f"{k} {v:.2f}" for k, v in row.items() if isinstance(v, float)),
                flush=True,
            )
        warm = rows[1:]
        keys = ("torch", "version", "help", "mapped", "shown", "maps", "stall")
        keys += tuple(f"{k} (compared)" for k in keys[3:])
        col = {k: [r.get(k) for r in warm] for k in keys}
        print(
            f"\nmedian of {len(warm)} warm starts, seconds (CPUs: {os.cpu_count()}, "
            f"{'offscreen' if args.offscreen else 'Xvfb'}):\n"
            f"  python -c 'import torch'  {median(col['torch'])}\n"
            f"  gcnn-viewer --version     {median(col['version'])}\n"
            f"  gcnn-viewer --help        {median(col['help'])}\n"
            f"  window mapped (xdotool)   {median(col['mapped'])}\n"
            f"  window shown (exposed)    {median(col['shown'])}\n"
            f"  first feature maps        {median(col['maps'])}\n"
            f"  longest GUI stall         {median(col['stall'])}\n"
            f"  cold cache: shown {median([rows[0].get('shown')])}, "
            f"maps {median([rows[0].get('maps')])}"
        )
        if args.compare is not None:
            print(
                f"  compared checkout {args.compare}: mapped "
                f"{median(col['mapped (compared)'])}, shown {median(col['shown (compared)'])}, "
                f"first maps {median(col['maps (compared)'])}, "
                f"stall {median(col['stall (compared)'])}"
            )
        torch = statistics.median(col["torch"])
        for name in ("mapped", "maps", "mapped (compared)", "maps (compared)"):
            if any(v is not None for v in col[name]):
                value = statistics.median(v for v in col[name] if v is not None)
                print(f"  {name} / import torch: {value / torch:.2f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Start-up time of installed launchers, measured the same way for each (pip install, bundle).

    python packaging/measure_startup.py gcnn-viewer dist/gcnn-viewer/gcnn-viewer

For every launcher: the wall time of ``LAUNCHER --version`` (interpreter or bootloader start,
imports of the command line), and the time from starting ``LAUNCHER`` until its main window
is mapped on a private Xvfb screen (found by title with xdotool: the splash screen does not
count), each the median of --runs fresh starts. Needs Xvfb and xdotool (Debian: xvfb,
xdotool). Run it from a folder outside the source tree to be sure what is measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

WINDOW_TITLE = " vs "  # "gcnn-viewer — P4CNN vs Z2CNN": the main window, not the splash


def version_time(launcher: str) -> float:
    start = time.perf_counter()
    subprocess.run([launcher, "--version"], check=True, capture_output=True)
    return time.perf_counter() - start


def window_time(launcher: str, display: str, timeout: float = 120.0) -> float:
    env = dict(os.environ, DISPLAY=display)
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    start = time.perf_counter()
    app = subprocess.Popen(
        [launcher], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        while time.perf_counter() - start < timeout:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
                env=env,
                capture_output=True,
            )
            if found.returncode == 0 and found.stdout.strip():
                return time.perf_counter() - start
            if app.poll() is not None:
                raise RuntimeError(
                    f"{launcher} exited with {app.returncode} before its window: "
                    + app.stderr.read().strip()
                )
            time.sleep(0.02)
        raise RuntimeError(f"no window from {launcher} within {timeout:.0f} s")
    finally:
        app.terminate()
        app.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("launchers", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--display", default=":71")
    args = parser.parse_args()
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            sys.exit(f"measure_startup: {tool} is needed (Debian: apt install xvfb xdotool)")
    server = subprocess.Popen(
        ["Xvfb", args.display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from gcnn_viewer.gui.platform_check import xcb_connects

        deadline = time.monotonic() + 30
        while not xcb_connects(args.display):  # Xvfb takes a moment to listen
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"measure_startup: Xvfb did not start on {args.display}")
            time.sleep(0.1)
        for launcher in args.launchers:
            path = shutil.which(launcher) or launcher
            version_time(path)  # warm the file cache once; then measure
            versions = [version_time(path) for _ in range(args.runs)]
            windows = [window_time(path, args.display) for _ in range(args.runs)]
            print(
                f"{launcher}: --version {statistics.median(versions):.2f} s "
                f"(runs {', '.join(f'{t:.2f}' for t in versions)}); "
                f"window shown {statistics.median(windows):.2f} s "
                f"(runs {', '.join(f'{t:.2f}' for t in windows)})",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

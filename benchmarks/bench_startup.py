"""Start-up time of the desktop app: interpreter start -> main window shown with its first
frame (both models' feature maps) painted.

    python benchmarks/bench_startup.py            # 3 runs, each in a fresh interpreter

Uses the offscreen Qt platform unless DISPLAY is set (then the real X server, e.g. Xvfb).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtWidgets
app = QtWidgets.QApplication([sys.argv[0]])
from gcnn_viewer.gui.main_window import MainWindow
window = MainWindow()
window.show()
while window.last_frame is None:
    app.processEvents()
    time.sleep(0.002)
app.processEvents()
print(time.perf_counter() - t0)
window.close()
"""


def main(runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    shown = ", ".join(f"{t:.2f}" for t in times)
    print(f"window with first frame: {shown} s (median {statistics.median(times):.2f} s)")


if __name__ == "__main__":
    main()

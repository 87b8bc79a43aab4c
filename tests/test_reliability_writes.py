"""Reliability of writes and sizes (issue 19, sections 2, 3 and 5), through the real entry
points: no write loses data, no small input makes unbounded work, nothing is silently wrong.

Command lines run as subprocesses (``python -m gcnn_viewer``, or a launcher that runs the real
``cli.main`` on a tiny data set) where the process is what is tested: two at once, a kill -9,
a full disk. The rule "every write goes through one helper" is checked on the source itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import gcnn_viewer

ROOT = Path(gcnn_viewer.__file__).resolve().parents[1]
PACKAGE = ROOT / "gcnn_viewer"

# The real `gcnn-viewer` command line on the tiny data set of tests/test_cli.py (MNIST-rot is
# 62,000 digits), with an optional barrier: each process says it is ready and waits for the
# other (or for the test's go), so that two runs really overlap.
LAUNCHER = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from gcnn_viewer import cli
from tests.test_cli import TinyMnistRot

barrier = os.environ.get("H5_BARRIER")

def load(args, recorded=None):
    if barrier:
        folder = Path(barrier)
        (folder / f"ready-{{os.getpid()}}").touch()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (folder / "go").exists():
            if len(list(folder.glob("ready-*"))) >= 2:
                break
            time.sleep(0.02)
    return TinyMnistRot()

cli._load_data = load
sys.exit(cli.main(sys.argv[1:]))
"""


def launcher(tmp_path: Path) -> Path:
    script = tmp_path / "tiny_cli.py"
    script.write_text(LAUNCHER.format(root=str(ROOT)))
    return script


def env(**more: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **more}


def run_cli(args: list[str], timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """``python -m gcnn_viewer ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "gcnn_viewer", *args],
        env=kwargs.pop("env", env()),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def one_error_line(err: str, *needles: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert ": error: " in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- 2. No write loses data ----------------------------------------------------------------------
def test_two_train_runs_to_one_new_out_one_wins_the_other_refuses(tmp_path):
    """Both runs start together and pass the barrier only together (or when one has quit):
    today both find --out free, both exit 0 and print the same checkpoint."""
    script = launcher(tmp_path)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    out = tmp_path / "runs" / "new.pt"
    argv = [sys.executable, str(script), "train", "--model", "z2cnn", "--epochs", "1"]
    argv += ["--out", str(out), "--device", "cpu"]
    procs = [
        subprocess.Popen(
            argv,
            env=env(H5_BARRIER=str(barrier)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # one that quits lets the other go on
        if any(p.poll() is not None for p in procs):
            (barrier / "go").touch()
            break
        if len(list(barrier.glob("ready-*"))) >= 2:
            break
        time.sleep(0.02)
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = next(r for r in results if r[0] == 0)
    loser = next(r for r in results if r[0] != 0)
    assert f"checkpoint: {out}" in winner[1]
    assert "checkpoint:" not in loser[1]
    one_error_line(loser[2], str(out), "another run")
    assert out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["new.pt"]  # no lock, no temp

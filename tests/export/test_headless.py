"""Export needs no Qt: every kind runs with PySide6 and pyqtgraph unimportable, as on a
server without X libraries (a fresh interpreter with their imports blocked)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gcnn_viewer.export import ExportError, export_figure

BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    BLOCKED = {blocked!r}

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked in this test")
            return None

    sys.meta_path.insert(0, NoQt())
    for name in BLOCKED:
        sys.modules.pop(name, None)
    from gcnn_viewer.cli import main

    out = sys.argv[1]
    runs = [
        ["figure", "--model", "z2cnn", "p4cnn", "--layers", "l1", "--dpi", "30",
         "--out", out + "/view.png"],
        ["figure", "--model", "z2cnn", "p4cnn", "--rotate-and-cycle", "--stabilised",
         "--out", out + "/cycle.svg"],
        ["animation", "--model", "p4cnn", "--layers", "l1", "--frames", "3", "--dpi", "30",
         "--out", out + "/turn.gif"],
        ["sweep", "--model", "p4cnn", "--step", "90", "--out", out + "/sweep.csv"],
        ["data", "--model", "p4cnn", "--out", out + "/maps.npz"],
        ["figure", "--model", "p4cnn", "--group-view", "--layers", "l2", "--dpi", "30",
         "--out", out + "/group.png"],
        ["animation", "--model", "p4cnn", "--group-animation", "--frames", "2", "--dpi", "30",
         "--out", out + "/group.gif"],
    ]
    codes = [main(["export", *argv]) for argv in runs]
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({{"codes": codes, "qt": loaded}}))
    """
)


def test_every_kind_runs_with_qt_blocked(tmp_path):
    script = SCRIPT.format(blocked=BLOCKED)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0] * 7, "qt": []}, done.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "cycle.svg", "group.gif", "group.png", "maps.npz", "sweep.csv", "sweep.csv.json",
        "turn.gif", "view.png",
    ]  # fmt: skip


def test_read_only_folder_is_one_line(spec, tmp_path, monkeypatch):
    """Where the temp file cannot be made (read-only folder; root ignores chmod, so the
    refusal is simulated), the error is one line and nothing is written."""

    import os

    from gcnn_viewer.data import files

    real_open = os.open

    def refuse(path, *args, **kwargs):  # the atomic writer's temp file, nothing else
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refuse)
    with pytest.raises(ExportError) as info:
        export_figure(spec, tmp_path / "x.png", dpi=30)
    assert str(info.value) == f"cannot write {tmp_path / 'x.png'}: permission denied"
    assert list(tmp_path.iterdir()) == []

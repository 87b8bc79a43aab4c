"""Reliability of writes and sizes (issue 19, sections 2, 3 and 5), through the real entry
points: no write loses data, no small input makes unbounded work, nothing is silently wrong.

Command lines run as subprocesses (``python -m gcnn_viewer``, or a launcher that runs the real
``cli.main`` on a tiny data set) where the process is what is tested: two at once, a kill -9,
a full disk. The rule "every write goes through one helper" is checked on the source itself.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

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
def race(tmp_path: Path, args: list[str]) -> list[tuple[int, str, str]]:
    """Two processes of the tiny command line with ``args`` at once: both start together
    and pass the barrier (their data load) only together, or when one of them has quit.
    Their (exit status, stdout, stderr)."""
    script = launcher(tmp_path)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), *args],
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
    return [(p.wait(timeout=300), *p.communicate()) for p in procs]


def test_two_train_runs_to_one_new_out_one_wins_the_other_refuses(tmp_path):
    """Today both find --out free, both exit 0 and print the same checkpoint."""
    out = tmp_path / "runs" / "new.pt"
    results = race(
        tmp_path,
        ["train", "--model", "z2cnn", "--epochs", "1", "--out", str(out), "--device", "cpu"],
    )
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = next(r for r in results if r[0] == 0)
    loser = next(r for r in results if r[0] != 0)
    assert f"checkpoint: {out}" in winner[1]
    assert "checkpoint:" not in loser[1]
    one_error_line(loser[2], str(out), "another run")
    assert out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["new.pt"]  # no lock, no temp


def test_two_reproduce_runs_in_one_folder_never_train_one_run_twice(tmp_path):
    out = tmp_path / "table"
    args = ["reproduce", "--models", "z2cnn", "--seeds", "0", "--epochs", "1"]
    results = race(tmp_path, [*args, "--out", str(out), "--device", "cpu"])
    assert sorted(code for code, _, _ in results) == [0, 2], results
    loser = next(r for r in results if r[0] != 0)
    one_error_line(loser[2].splitlines()[-1], "z2cnn-seed0.pt", "another run")
    trained = [r for r in results if "z2cnn seed 0: test error" in r[2]]
    assert len(trained) == 1


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of a few hundred KiB (root only; skipped elsewhere): a disk that really fills."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def make(size: str = "1m") -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
        return mount

    yield make
    subprocess.run(["umount", str(mount)], capture_output=True)


def fill(folder: Path) -> None:
    """Write a filler file into ``folder`` until its disk is full."""
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory) -> Path:
    """A reproduce folder holding finished 1-epoch runs of z2cnn and p4cnn (seed 0)."""
    tmp = tmp_path_factory.mktemp("runs")
    script = launcher(tmp)
    out = tmp / "table"
    argv = [sys.executable, str(script), "reproduce", "--models", "z2cnn", "p4cnn"]
    argv += ["--seeds", "0", "--epochs", "1", "--out", str(out), "--device", "cpu"]
    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def reproduce_again(folder: Path, tmp_path: Path, *models: str) -> subprocess.CompletedProcess:
    """``reproduce --models MODELS --seeds 0`` on a copy of :func:`finished_runs` at ``folder``."""
    script = launcher(tmp_path)
    argv = [sys.executable, str(script), "reproduce", "--models", *models, "--seeds", "0"]
    argv += ["--epochs", "1", "--out", str(folder), "--device", "cpu"]
    return subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=300)


def test_reproduce_with_fewer_models_keeps_every_finished_run_in_its_tables(
    finished_runs, tmp_path
):
    import shutil

    out = tmp_path / "table"
    shutil.copytree(finished_runs, out)
    done = reproduce_again(out, tmp_path, "z2cnn")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "results.json").read_text())
    assert sorted(row["model"] for row in summary["rows"]) == ["p4cnn", "z2cnn"]
    table = (out / "results.md").read_text()
    assert "| P4CNN |" in table and "| Z2CNN |" in table


def test_reproduce_names_the_runs_its_tables_leave_out(finished_runs, tmp_path):
    import shutil

    out = tmp_path / "table"
    shutil.copytree(finished_runs, out)
    (out / "notes-seed9.pt").write_bytes(b"not a checkpoint")
    done = reproduce_again(out, tmp_path, "z2cnn", "p4cnn")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "results.json").read_text())
    assert [e["checkpoint"] for e in summary["left_out"]] == ["notes-seed9.pt"]
    assert "notes-seed9.pt" in (out / "results.md").read_text()
    assert len(summary["rows"]) == 2


def test_reproduce_on_a_full_disk_leaves_no_invalid_json_and_says_so_in_one_line(
    finished_runs, small_disk, tmp_path
):
    disk = small_disk("600k")
    out = disk / "table"
    out.mkdir()
    (out / "z2cnn-seed0.pt").write_bytes((finished_runs / "z2cnn-seed0.pt").read_bytes())
    fill(disk)
    script = launcher(tmp_path)
    argv = [sys.executable, str(script), "reproduce", "--models", "z2cnn", "--seeds", "0"]
    argv += ["--out", str(out), "--device", "cpu"]
    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    one_error_line(done.stderr, "results.json", "no space left")
    assert sorted(p.name for p in out.iterdir()) == ["z2cnn-seed0.pt"]  # no torn JSON, no temp


def limited_file_size(limit: int):
    """For ``preexec_fn``: every file the process writes stops growing at ``limit`` bytes
    (``write`` fails with EFBIG, as on a full disk or a quota, but without root)."""

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_failed_install_desktop_keeps_the_existing_entry(tmp_path):
    home = tmp_path / "share"
    entry = home / "applications" / "gcnn-viewer.desktop"
    done = run_cli(["--install-desktop"], env=env(XDG_DATA_HOME=str(home)))
    assert done.returncode == 0, done.stderr
    entry.write_bytes(entry.read_bytes().replace(b"Exec=", b"Exec=/old/"))
    before = entry.read_bytes()
    done = run_cli(
        ["--install-desktop"],
        env=env(XDG_DATA_HOME=str(home)),
        preexec_fn=limited_file_size(64),  # the entry is a few hundred bytes
    )
    assert entry.read_bytes() == before  # today: cut to 64 bytes
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]  # no temp left
    assert done.returncode == 2
    one_error_line(done.stderr, str(entry))


# -- exports onto special files -------------------------------------------------------------------
EXPORT = ["export", "figure", "--model", "z2cnn", "--layers", "l1", "--angles", "0", "--dpi", "20"]


def test_export_refuses_a_fifo_in_one_line_and_leaves_it(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    done = run_cli([*EXPORT, "--out", str(fifo)], timeout=120)
    assert done.returncode == 2
    one_error_line(done.stderr, str(fifo), "FIFO")
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.png"]


def test_export_refuses_a_device_node(tmp_path):
    link = tmp_path / "null.png"
    link.symlink_to("/dev/null")  # a symlink to a device: the device is the destination
    done = run_cli([*EXPORT, "--out", str(link)], timeout=120)
    assert done.returncode == 2
    one_error_line(done.stderr, str(link), "character device")
    assert Path("/dev/null").is_char_device() and link.is_symlink()


def test_export_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "figure.png"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "figure.png"
    link.symlink_to(real)
    done = run_cli([*EXPORT, "--out", str(link)], timeout=120)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in real.parent.iterdir()) == ["figure.png"]


def test_export_refuses_a_symlink_another_user_left_in_a_shared_folder(tmp_path):
    """In a sticky world-writable folder (/tmp), following another user's link would let
    them choose which of our files gets replaced."""
    if os.geteuid() != 0:
        pytest.skip("making a link owned by another user needs root")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    mine = tmp_path / "precious.txt"
    mine.write_text("mine")
    link = shared / "figure.png"
    link.symlink_to(mine)
    os.lchown(link, 4242, 4242)
    done = run_cli([*EXPORT, "--out", str(link)], timeout=120)
    assert done.returncode == 2
    one_error_line(done.stderr, str(link), "another user")
    assert mine.read_text() == "mine" and link.is_symlink()


def test_export_keeps_the_destination_files_mode(tmp_path):
    out = tmp_path / "private.png"
    out.write_bytes(b"old")
    out.chmod(0o600)
    done = run_cli([*EXPORT, "--out", str(out)], timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
    assert (out.stat().st_mode & 0o777) == 0o600


KILLED_EXPORT = """
import os, sys, time
sys.path.insert(0, {root!r})
from gcnn_viewer import cli
from matplotlib.figure import Figure

def stuck(fig, tmp, *args, **kwargs):  # the figure half written, then the process is killed
    with open(tmp, "wb") as f:
        f.write(b"partial")
    print("writing", flush=True)
    time.sleep(600)

Figure.savefig = stuck
sys.exit(cli.main(sys.argv[1:]))
"""


def test_the_temp_file_a_killed_export_leaves_is_removed_by_the_next(tmp_path):
    from gcnn_viewer.data.files import QUIET_S

    script = tmp_path / "killed_export.py"
    script.write_text(KILLED_EXPORT.format(root=str(ROOT)))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "figure.png"
    proc = subprocess.Popen(
        [sys.executable, str(script), *EXPORT, "--out", str(out)],
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    debris = [p for p in out_dir.iterdir() if p.name != "figure.png"]
    assert len(debris) == 1 and debris[0].read_bytes() == b"partial", debris
    then = time.time() - QUIET_S - 5  # quiet for a minute: its writer is gone, not slow
    os.utime(debris[0], (then, then))
    done = run_cli([*EXPORT, "--out", str(out)], timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["figure.png"]


# -- the rule: one atomic-write helper ------------------------------------------------------------
HELPER = PACKAGE / "data" / "files.py"
ATOMIC = {"atomic_path", "atomic_output", "atomic_file"}  # their `as` names are temp files
SAVERS = {("torch", "save"), ("np", "save"), ("np", "savez"), ("np", "savez_compressed")}
MOVERS = {("os", "replace"), ("os", "rename"), ("shutil", "copy"), ("shutil", "copyfile")}
MOVERS |= {("shutil", "copy2"), ("shutil", "move"), ("tempfile", "mkstemp")}
MOVERS |= {("tempfile", "NamedTemporaryFile"), ("json", "dump"), ("json", "dumps")}


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


class _Writes(ast.NodeVisitor):
    """Every place a module writes a file by itself. Writing is allowed only into a name that
    ``with atomic_path/atomic_output/atomic_file(...) as NAME`` bound (or a file opened on
    it, or a ``BytesIO``), or into a parameter named ``tmp`` (the convention of a function
    handed its caller's temp file)."""

    def __init__(self) -> None:
        self.allowed: set[str] = {"tmp"}
        self.found: list[tuple[int, str]] = []

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call, name = item.context_expr, item.optional_vars
            if isinstance(call, ast.Call) and isinstance(name, ast.Name):
                func = _dotted(call.func)
                first = call.args[0] if call.args else None
                # open(tmp) or PdfPages(tmp) as NAME: NAME writes into the temp file
                if func and func[-1] in ATOMIC or self._ok(first):
                    self.allowed.add(name.id)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and _dotted(node.value.func)[-1:] == ("BytesIO",):
            self.allowed |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        self.generic_visit(node)

    def _ok(self, node: ast.AST | None) -> bool:
        if isinstance(node, ast.Call) and _dotted(node.func) == ("str",) and node.args:
            node = node.args[0]  # str(tmp)
        return isinstance(node, ast.Name) and node.id in self.allowed

    def _saved_to_a_path(self, func: tuple[str, ...], first: ast.AST | None) -> bool:
        """``image.save(str(path))`` and the like: a path expression, not a temp name."""
        path_like = (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call)
        return func[-1:] == ("save",) and isinstance(first, path_like) and not self._ok(first)

    def visit_Call(self, node: ast.Call) -> None:
        func = _dotted(node.func) or (getattr(node.func, "attr", ""),)
        first = node.args[0] if node.args else None
        second = node.args[1] if len(node.args) > 1 else None
        what = ".".join(func)
        if func == ("open",):
            mode = (
                second
                if second is not None
                else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            text = mode.value if isinstance(mode, ast.Constant) else "r"
            is_fd = isinstance(first, ast.Constant) and isinstance(first.value, int)
            if any(c in str(text) for c in "wax+") and not (self._ok(first) or is_fd):
                self.found.append((node.lineno, f"open(..., {text!r})"))
        elif func[-1:] in (("write_text",), ("write_bytes",), ("savefig",)) and isinstance(
            node.func, ast.Attribute
        ):
            targets = [node.func.value] + ([first] if func[-1] == "savefig" else [])
            if not any(self._ok(t) for t in targets):
                self.found.append((node.lineno, what))
        elif func[-2:] in SAVERS:
            if not self._ok(second if func[-2:] == ("torch", "save") else first):
                self.found.append((node.lineno, what))
        elif func[-2:] == ("json", "dumps") and any(
            k.arg == "allow_nan" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in node.keywords
        ):
            pass  # strict JSON: raises rather than emit NaN (a hash's input, say)
        elif func[-2:] in MOVERS or self._saved_to_a_path(func, first):
            self.found.append((node.lineno, what))
        self.generic_visit(node)


def direct_writes(source: str) -> list[tuple[int, str]]:
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visitor = _Writes()
            visitor.visit(node)
            found += visitor.found
    module = _Writes()  # module level, outside any function
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            module.visit(node)
    return sorted(set(found + module.found))


def test_the_scan_finds_each_kind_of_direct_write():
    """The scanner below is only as good as what it catches: each of these is a write that
    bypasses the helper, and each is found; the helper's own idioms are not."""
    bad = """
def f(path, fig, img, arr, obj):
    open(path, "w").write("x")
    with open(path, "wb") as f:
        f.write(b"")
    path.write_text("x")
    (path / "a").write_bytes(b"")
    torch.save(obj, path)
    np.savez(path, a=arr)
    np.savez_compressed(str(path), a=arr)
    fig.savefig(path)
    img.save(str(path))
    json.dump(obj, f)
    json.dumps(obj)
    os.replace(path, path)
    shutil.copy(path, path)
"""
    assert len(direct_writes(bad)) == 13, direct_writes(bad)
    good = """
def g(path, fig, obj, tmp):
    with atomic_path(path) as t:
        fig.savefig(t)
    with atomic_output(path) as t2, open(t2, "wb") as f:
        np.savez(f, a=1)
    with atomic_file(path) as f:
        torch.save(obj, f)
    with atomic_path(path) as t3, PdfPages(t3) as pdf:
        pdf.savefig(fig)
    sys.stdout = open(1, "w", closefd=False)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    tmp.write_text("x")
    open(path, "rb").read()
    trainer.save()
    hashlib.sha256(json.dumps(obj, allow_nan=False).encode())
"""
    assert direct_writes(good) == []


def test_every_file_the_package_writes_goes_through_the_one_atomic_helper():
    """No module but ``data/files.py`` opens a file for writing, saves a tensor, an array, a
    figure or an image to a path, renames, copies or dumps JSON by itself (issue 21 §3)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HELPER:
            continue
        for line, what in direct_writes(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offenders == [], (
        "write through gcnn_viewer.data.files (atomic_path, atomic_file, write_text, "
        "write_bytes) and make JSON with its json_text (or json.dumps(..., allow_nan=False))"
    )


# -- 5. Nothing silently wrong ------------------------------------------------------------------
def _no_constant(name: str):
    raise AssertionError(f"{name} is not JSON")


def accuracy_json(monkeypatch, capsys) -> dict:
    """``gcnn-viewer analyse accuracy --model p4cnn --json`` on 300 synthetic MNIST-rot test
    digits (the real command and the real cache; only the data set is small)."""
    from gcnn_viewer import cli
    from gcnn_viewer.analysis import cli as analysis_cli
    from tests.analysis.test_accuracy import synthetic_rot

    monkeypatch.setattr(analysis_cli, "_data_for", lambda model: synthetic_rot(300))
    capsys.readouterr()
    assert cli.main(["analyse", "accuracy", "--model", "p4cnn", "--bins", "12", "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out, parse_constant=_no_constant)  # NaN/Infinity are not JSON


def _rewrite(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(changes)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _another_models(a: dict) -> dict:
    """Predictions and error that agree with each other, but the meta names other weights:
    a file only the claimed weights hash can tell apart."""
    from tests.analysis.test_accuracy import synthetic_rot

    predictions = (a["predictions"].astype(np.int64) + 1) % 10
    _, labels = synthetic_rot(300).split("test")
    error = np.float64(np.count_nonzero(predictions != labels) / len(labels))
    meta = str(a["meta"]).replace(a["sha"], "f" * 64)
    return {"predictions": predictions.astype(np.int8), "error": error, "meta": np.array(meta)}


CORRUPTIONS = {
    "zeroed predictions": lambda p, a: _rewrite(p, predictions=np.zeros_like(a["predictions"])),
    "out-of-range predictions": lambda p, a: _rewrite(
        p, predictions=np.full_like(a["predictions"], 77)
    ),
    "a stored NaN": lambda p, a: _rewrite(p, error=np.float64("nan")),
    "another model's predictions": lambda p, a: _rewrite(p, **_another_models(a)),
    "a truncated file": lambda p, a: p.write_bytes(p.read_bytes()[:100]),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_wrong_analysis_cache_is_rebuilt_not_believed(corruption, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "cache"))
    first = accuracy_json(monkeypatch, capsys)
    (cached,) = (tmp_path / "cache" / "analysis").glob("*.npz")
    with np.load(cached, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["sha"] = json.loads(str(arrays["meta"]))["weights_sha256"]
    CORRUPTIONS[corruption](cached, arrays)
    again = accuracy_json(monkeypatch, capsys)
    assert again == first
    with np.load(cached, allow_pickle=False) as npz:  # rebuilt: right the next time too
        assert np.array_equal(npz["predictions"], arrays["predictions"])


def test_json_output_never_holds_nan_or_infinity():
    """The one JSON helper: a value that is not a number is null, and strict JSON results."""
    from gcnn_viewer.data.files import json_text

    text = json_text({"error": float("nan"), "bins": [np.float32("inf"), 0.5], "n": np.int64(3)})
    assert json.loads(text, parse_constant=_no_constant) == {
        "error": None,
        "bins": [None, 0.5],
        "n": 3,
    }


def _cached_mnist_rot(path: Path, angles: np.ndarray | None = None, **meta_more) -> Path:
    """A cache file as ``load_mnist_rot`` writes it, from a small synthetic set; ``angles``
    replaces the recorded angles after the hashes are taken (a corrupted file)."""
    import hashlib
    from dataclasses import asdict

    from tests.analysis.test_accuracy import synthetic_rot

    data = synthetic_rot(50)
    meta = {"spec": asdict(data.spec), "content_hash": data.content_hash, **meta_more}
    if meta_more.get("angles_sha256") == "right":  # the recorded angles' and indices' sha256
        digest = hashlib.sha256(np.ascontiguousarray(data.angles, "<f4").tobytes())
        digest.update(np.ascontiguousarray(data.source_index, "<i8").tobytes())
        meta["angles_sha256"] = digest.hexdigest()
    with open(path, "wb") as f:
        np.savez(
            f,
            images=data.images,
            labels=data.labels,
            angles=data.angles if angles is None else angles,
            source_index=data.source_index,
            meta=np.array(json.dumps(meta)),
        )
    return path


def test_a_cached_mnist_rot_with_angles_out_of_range_is_refused(tmp_path):
    """The content hash covers images and labels only: angles of 400° or NaN (by which the
    accuracy analysis bins its digits) were believed."""
    from gcnn_viewer.data import DataError
    from gcnn_viewer.data.mnist_rot import read_mnist_rot

    good = read_mnist_rot(_cached_mnist_rot(tmp_path / "good.npz"))
    for bad in (np.float32(400.0), np.float32("nan")):
        angles = good.angles.copy()
        angles[3] = bad
        with pytest.raises(DataError, match="out of range"):
            read_mnist_rot(_cached_mnist_rot(tmp_path / "bad.npz", angles))


def test_a_cached_mnist_rot_whose_angles_changed_is_refused(tmp_path):
    from gcnn_viewer.data import DataError
    from gcnn_viewer.data.mnist_rot import read_mnist_rot

    path = _cached_mnist_rot(tmp_path / "good.npz", angles_sha256="right")
    good = read_mnist_rot(path)
    angles = np.roll(good.angles, 1)  # every angle still in range, but not the recorded ones
    path = _cached_mnist_rot(tmp_path / "bad.npz", angles, angles_sha256="right")
    with pytest.raises(DataError, match="angles hash"):
        read_mnist_rot(path)


# -- 3. No small input makes unbounded work -----------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["export", "sweep", "--model", "p4cnn", "--step", "1e-4"], ["--step", "0.1", "3600"]),
        (["export", "figure", "--model", "p4cnn", "z2cnn", "--dpi", "2400"], ["dpi or less"]),
        (["export", "animation", "--model", "p4cnn", "--frames", "3600"], ["frames or fewer"]),
        (["export", "figure", "--model", "p4cnn", "--angles", *map(str, range(400))], ["360"]),
        (["analyse", "equivariance", "--model", "p4cnn", "--angles", *["1"] * 4000], ["3600"]),
        (
            ["analyse", "accuracy", "--model", "p4cnn", "--source", "mnist-upright"]
            + ["--angles", *["1"] * 400],
            ["360"],
        ),
    ],
    ids=["sweep-step", "figure-dpi", "animation-frames", "angles", "eq-angles", "acc"],
)
def test_a_size_beyond_its_stated_bound_is_one_line_before_any_work(argv, needles, tmp_path):
    """Each of these ran for minutes, filled the memory or died in the allocator. The bound
    is said in the option's --help too."""
    suffix = {"sweep": "csv", "animation": "gif"}.get(argv[1], "png")
    out = tmp_path / f"out.{suffix}"
    done = run_cli([*argv, "--out", str(out)], timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    one_error_line(done.stderr, *needles)
    assert list(tmp_path.iterdir()) == []
    option = next(a for a in argv if a in ("--step", "--dpi", "--frames", "--angles"))
    helped = run_cli([*argv[:2], "--help"]).stdout
    text = " ".join(helped.split())
    start = text.index(f"{option} {option[2].upper()}", text.index("options:"))  # --angles A
    bound = needles[-1] if needles[-1] != "dpi or less" else "100 megapixels"
    bound = "500 megapixels" if option == "--frames" else bound
    assert bound in text[start : text.index(" --", start + len(option) + 1)], text[start:]


def test_equivariance_over_many_angles_runs_in_batches_with_the_same_numbers(tmp_path):
    """300 angles (more than one batch) give what one batch gives, with a progress bar."""
    import torch

    from gcnn_viewer.analysis.cli import CURVE_BATCH
    from gcnn_viewer.analysis.equivariance import equivariance_curve
    from gcnn_viewer.export.common import resolve_input, resolve_models

    angles = [float(a) for a in np.arange(0.0, 360.0, 1.2)]
    assert len(angles) > CURVE_BATCH
    done = run_cli(
        ["analyse", "equivariance", "--model", "p4cnn", "--json", "--angles", *map(str, angles)]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "p4cnn: equivariance" in done.stderr  # the progress bar
    got = json.loads(done.stdout, parse_constant=_no_constant)
    (model,) = resolve_models(["p4cnn"])
    torch.set_num_threads(1)
    whole = equivariance_curve(model.model, resolve_input(None).snapshot.digit, angles)
    assert list(got["error"]) == list(whole)
    for layer, values in whole.items():
        np.testing.assert_allclose(got["error"][layer], values, rtol=1e-5, atol=1e-6)


def test_train_batch_size_has_a_stated_bound(tmp_path):
    """A batch of 100,000 ran as one batch of the whole training set (12,000 digits at once:
    gigabytes of activations); the bound is in --help and refused in one line."""
    script = launcher(tmp_path)
    argv = [sys.executable, str(script), "train", "--model", "z2cnn", "--epochs", "1"]
    argv += ["--batch-size", "100000", "--out", str(tmp_path / "run.pt"), "--device", "cpu"]
    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    one_error_line(done.stderr, "--batch-size", "4096")
    assert not (tmp_path / "run.pt").exists()
    assert "1-4096" in " ".join(run_cli(["train", "--help"]).stdout.split())

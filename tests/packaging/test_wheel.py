"""The wheel as a user gets it: built, installed into a fresh venv (reusing the torch and Qt
of the interpreter running the tests), and run from outside the source tree.

About 30-40 s on two cores: one wheel, one venv, shared by every test here.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = "Scripts" if sys.platform == "win32" else "bin"


def _run(args: list[str], cwd: Path, timeout: float = 120, **env: str):
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(env)
    return subprocess.run(
        args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(ROOT)],
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("gcnn_viewer-*.whl")
    return built


def runner_site_dirs() -> list[str]:
    """Where the interpreter running the tests finds its installed packages, wherever they
    are: a venv's site-packages, the user site of a ``pip install --user``, a conda
    environment's or the system's site-packages (Debian's dist-packages too)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    dirs += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    unique: list[str] = []
    for folder in dirs:
        if Path(folder).is_dir() and folder not in unique:
            unique.append(folder)
    return unique


@pytest.fixture(scope="module")
def env_dir(wheel: Path, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and nothing else of its own (torch, PySide6, numpy...
    come from the interpreter running the tests).

    Not ``--system-site-packages``: run from inside a venv (the README's set-up) that would
    see the *base* interpreter's packages, not the venv's. A ``.pth`` file naming the test
    runner's own site folders works in a venv, a ``--user`` install, conda and the system
    interpreter alike. Its folders come after the venv's own site-packages, so the wheel's
    copy of gcnn_viewer is the one imported; their ``.pth`` files (such as the runner's
    editable install of this checkout) are not run."""
    target = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(target)
    python = target / BIN / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=target.parent,
    )
    assert purelib.returncode == 0, purelib.stderr
    own_site = Path(purelib.stdout.strip())
    (own_site / "gcnn_viewer_test_runner.pth").write_text(
        "".join(f"{folder}\n" for folder in runner_site_dirs()), encoding="utf-8"
    )
    # pip itself comes from the runner's folders; --ignore-installed because the runner's own
    # (editable) gcnn-viewer is visible there too and would "already satisfy" it.
    result = _run(
        [str(python), "-m", "pip", "install", "-q", "--ignore-installed"]
        + ["--no-deps", "--no-index", str(wheel)],
        cwd=target.parent,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working folder with no gcnn_viewer/ or resources/ next to it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_wheel_carries_resources_and_no_tests(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in ("z2cnn", "p4cnn", "p4cnn_rotpool", "p4mcnn"):
        assert f"gcnn_viewer/resources/{model}.pt" in names
    assert any(n.startswith("gcnn_viewer/resources/samples/") for n in names)
    assert "gcnn_viewer/resources/desktop/gcnn-viewer.desktop" in names
    assert "gcnn_viewer/resources/desktop/icons/hicolor/48x48/apps/gcnn-viewer.png" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_package_loads_pretrained_outside_the_tree(env_dir: Path, outside: Path):
    code = (
        "import gcnn_viewer, torch\n"
        "from gcnn_viewer.models.pretrained import load_pretrained\n"
        "print(gcnn_viewer.__file__)\n"
        "model = load_pretrained('p4cnn')\n"
        "out = model(torch.zeros(1, 1, 28, 28))\n"
        "print(tuple(out.shape))\n"
    )
    result = _run([str(env_dir / BIN / "python"), "-c", code], cwd=outside)
    assert result.returncode == 0, result.stderr
    where, shape = result.stdout.strip().splitlines()[-2:]
    # the venv's copy, not the editable checkout the test runner uses
    assert Path(where).resolve().is_relative_to(env_dir.resolve()), where
    assert shape == "(1, 10)"


def test_installed_console_script(env_dir: Path, outside: Path):
    result = _run([str(env_dir / BIN / "gcnn-viewer"), "--version"], cwd=outside)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gcnn-viewer ")


def test_installed_app_shows_its_window_offscreen(env_dir: Path, outside: Path):
    """The main window of the installed package opens offscreen and paints its first frame
    (both models' feature maps) with the shipped models."""
    code = (
        "import sys, time\n"
        "from PySide6 import QtWidgets\n"
        "app = QtWidgets.QApplication([sys.argv[0]])\n"
        "from gcnn_viewer.gui.main_window import MainWindow\n"
        "window = MainWindow()\n"
        "window.show()\n"
        "deadline = time.monotonic() + 60\n"
        "while window.last_frame is None and time.monotonic() < deadline:\n"
        "    app.processEvents()\n"
        "    time.sleep(0.01)\n"
        "print('frame', window.last_frame is not None, len(window.last_frame.panels))\n"
        "window.shutdown()\n"
    )
    result = _run(
        [str(env_dir / BIN / "python"), "-c", code], cwd=outside, QT_QPA_PLATFORM="offscreen"
    )
    assert result.returncode == 0, result.stderr
    assert "frame True 2" in result.stdout


def test_installed_launcher_stays_up_offscreen(env_dir: Path, outside: Path):
    """`gcnn-viewer` itself (the console script a user types) runs the app until stopped."""
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = subprocess.Popen(
        [str(env_dir / BIN / "gcnn-viewer")],
        cwd=outside,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            app.wait(timeout=8)  # still running after 8 s: started, did not crash
    finally:
        app.terminate()
        _, err = app.communicate(timeout=30)
    assert "Traceback" not in err, err

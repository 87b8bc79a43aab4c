""".ci/run on a stand-in checkout: it runs the README's set-up block line by line, the app
launch offscreen and stopped after a while, and fails when any line fails, when the app does
not stay up, or when the README has no block. (The real block is run by CI itself.)"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or not shutil.which("bash") or not shutil.which("timeout"),
    reason=".ci/run is a bash script using coreutils' timeout",
)

APP_STAYS_UP = "#!/bin/sh\necho app-started\nexec sleep 60\n"


def _checkout(tmp_path: Path, block: str | None, app: str = APP_STAYS_UP) -> Path:
    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / ".ci", repo / ".ci", ignore=shutil.ignore_patterns("__pycache__"))
    fence = f"```bash\n{block}```\n" if block is not None else "No block.\n"
    (repo / "README.md").write_text(f"# x\n\n## Set-up (y)\n\n{fence}\n## Next\n", "utf-8")
    bin_dir = repo / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "gcnn-viewer"
    launcher.write_text(app, encoding="utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    return repo


def _ci(repo: Path) -> subprocess.CompletedProcess:
    # `python` (as .ci/run calls it) is the interpreter running these tests
    folders = [str(repo / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
    env = dict(os.environ, CI_APP_SECONDS="2", PATH=os.pathsep.join(folders))
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        ["bash", str(repo / ".ci" / "run")],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_runs_the_block_line_by_line_with_the_app_offscreen(tmp_path: Path):
    block = (
        "mkdir made && export FROM_LINE_1=yes\n"
        "echo installing && gcnn-viewer\n"
        'test "$FROM_LINE_1" = yes && touch made/tests-ran\n'
    )
    repo = _checkout(tmp_path, block, app='#!/bin/sh\necho "qpa=$QT_QPA_PLATFORM"\nexec sleep 60\n')
    result = _ci(repo)
    assert result.returncode == 0, result.stderr
    assert "qpa=offscreen" in result.stdout  # the launch ran offscreen ...
    assert "gcnn-viewer was up for 2 s" in result.stdout  # ... and was stopped
    assert (repo / "made" / "tests-ran").is_file()  # one shell: line 3 saw line 1's export


@pytest.mark.parametrize(
    "block",
    [
        "true\nfalse && echo never\necho not-reached > after\n",  # fails inside an && list
        "true\necho tests && sh -c 'exit 5'\n",  # pytest's status 5: no tests collected
    ],
    ids=["and-list", "exit-5"],
)
def test_a_failing_line_fails_ci(tmp_path: Path, block: str):
    repo = _checkout(tmp_path, block)
    result = _ci(repo)
    assert result.returncode != 0
    assert "set-up block failed" in result.stderr
    assert not (repo / "after").exists()


def test_an_app_that_does_not_stay_up_fails_ci(tmp_path: Path):
    repo = _checkout(tmp_path, "true && gcnn-viewer\ntouch after\n", app="#!/bin/sh\nexit 0\n")
    result = _ci(repo)
    assert result.returncode != 0
    assert "did not stay up" in result.stderr
    assert not (repo / "after").exists()


def test_no_block_fails_ci(tmp_path: Path):
    result = _ci(_checkout(tmp_path, None))
    assert result.returncode != 0
    assert "no ```bash block" in result.stderr

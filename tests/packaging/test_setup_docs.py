"""The README's set-up block, CI and the README as a front page agree.

CI (.ci/run) runs the block itself, taken from the README by .ci/readme_setup.py; these tests
check the block's shape, that the extraction fails loudly, and the README's length and links.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _readme_setup():
    spec = importlib.util.spec_from_file_location("readme_setup", ROOT / ".ci" / "readme_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setup_block() -> list[str]:
    return _readme_setup().setup_block(README.read_text(encoding="utf-8"))


def test_setup_block_makes_a_venv_launches_the_app_and_runs_the_tests():
    lines = _setup_block()
    assert len(lines) == 3, lines
    venv_line, app_line, test_line = lines
    assert venv_line == "python -m venv .venv && . .venv/bin/activate"
    install, launch = app_line.split(" && ")
    assert shlex.split(install)[:4] == ["python", "-m", "pip", "install"]
    assert "-e" in shlex.split(install) and launch == "gcnn-viewer"
    install, run_tests = test_line.split(" && ")
    # the test line installs the docs extra too: the tests build the manual (mkdocs --strict)
    assert "'.[test,docs]'" in install, install
    assert run_tests == "python -m pytest -q"
    torch_pins = {word for line in lines for word in shlex.split(line) if word.startswith("torch")}
    assert torch_pins == {"torch==2.13.0"}


def test_ci_runs_the_block_taken_from_the_readme():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'block="$(python .ci/readme_setup.py)"' in ci
    assert 'eval "$line"' in ci
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_setup.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == _setup_block()


@pytest.mark.parametrize(
    "readme",
    [
        "# gcnn-viewer\n\nNo set-up heading.\n",
        "# x\n\n## Set-up\n\nNo block here.\n\n## Next\n\n```bash\nls\n```\n",
        "# x\n\n## Set-up\n\n```bash\n\n```\n",
    ],
)
def test_no_setup_block_fails_ci(tmp_path: Path, readme: str):
    path = tmp_path / "README.md"
    path.write_text(readme, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "readme_setup.py"), str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_docs_extra_installs_the_manual_build():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {re.split(r"[<>=\[ ;]", spec, maxsplit=1)[0] for spec in extras["docs"]}
    assert {"mkdocs", "mkdocs-material", "mkdocstrings"} <= names
    assert any(spec.startswith("mkdocstrings[python]") for spec in extras["docs"])


def test_readme_is_a_front_page():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_readme_links_and_images_resolve():
    """Every relative link and image in the README names a file or folder of the checkout."""
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    local = [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert local
    missing = [t for t in local if not (ROOT / t.split("#", 1)[0]).exists()]
    assert missing == []

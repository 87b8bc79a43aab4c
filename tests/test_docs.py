"""The manual (docs/, mkdocs.yml) builds with ``mkdocs build --strict``: a broken link, a
missing image, a link to a repository file that is gone or a stale command-line reference
fails the build, and so these tests. Needs the ``docs`` extra (pip install -e '.[docs]'),
which the README's test line installs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    assert importlib.util.find_spec("mkdocs"), (
        "the manual's build needs the docs extra: python -m pip install -e '.[docs]'"
    )
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_manual_builds_strict(tmp_path: Path):
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    site = tmp_path / "site"
    for page in ("window", "training", "export", "analysis", "cli", "api", "table1"):
        assert (site / page / "index.html").is_file(), page
    assert (site / "ARCHITECTURE" / "index.html").is_file()
    # packaging/README.md, outside docs/, copied in by docs/hooks/repo_files.py
    assert (site / "repo" / "packaging" / "index.html").is_file()
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    # the API page is made from the docstrings (mkdocstrings), roles shown as code
    assert "P4ConvZ2" in api and "load_pretrained" in api and "export_figure" in api
    assert ":class:" not in api and ":func:" not in api


def test_cli_reference_is_generated_from_the_parsers():
    cli_reference = _hook("cli_reference")
    committed = cli_reference._split(DOCS.joinpath("cli.md").read_text(encoding="utf-8"))[1]
    assert committed == cli_reference.generated(), (
        "docs/cli.md is stale: run python docs/hooks/cli_reference.py"
    )
    from gcnn_viewer.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    for action in train._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in committed, flag


@pytest.fixture(scope="module")
def pristine_copy(tmp_path_factory) -> Path:
    """mkdocs.yml and docs/ copied with the repository files the manual links to, the
    command-line reference made current (its staleness is the test above's), and built once
    without a warning: each edit below alone then breaks it."""
    copy = tmp_path_factory.mktemp("manual") / "repo"
    shutil.copytree(DOCS, copy / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", copy)
    repo_files = _hook("repo_files")
    linked = {ROOT / name for name in repo_files.REPO_PAGES}
    for page in DOCS.glob("*.md"):
        linked |= {t for _, t in repo_files._outside_links(page, page.read_text(encoding="utf-8"))}
    for target in linked:
        if target.is_file():
            (copy / target.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(target, copy / target.relative_to(ROOT))
    cli_reference = _hook("cli_reference")
    cli_page = copy / "docs" / "cli.md"
    head, _, tail = cli_reference._split(cli_page.read_text(encoding="utf-8"))
    cli_page.write_text(head + cli_reference.generated() + tail, encoding="utf-8")
    result = _build(copy / "mkdocs.yml", copy.parent / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return copy


@pytest.fixture
def manual_copy(pristine_copy: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(pristine_copy, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "page, old, new, message",
    [
        ("cli.md", "| `--json` |", "| `--jason` |", "docs/cli.md is stale"),
        ("window.md", "](main-window.png)", "](no-such-image.png)", "no-such-image.png"),
        ("index.md", "](window.md)", "](no-such-page.md)", "no-such-page.md"),
        ("export.md", "](performance.md#export)", "](performance.md#nowhere)", "nowhere"),
        ("index.md", "](../packaging/README.md)", "](../packaging/GONE.md)", "GONE.md"),
    ],
    ids=["stale-cli-reference", "missing-image", "broken-link", "broken-anchor", "repo-file"],
)
def test_a_broken_manual_fails_the_build(manual_copy, tmp_path, page, old, new, message):
    _edit(manual_copy / "docs" / page, old, new)
    broken = _build(manual_copy / "mkdocs.yml", tmp_path / "site-broken")
    assert broken.returncode != 0
    assert message in broken.stderr, broken.stderr


def _bash_block(text: str, heading: str) -> str:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_manual_setup_block_is_the_readmes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    manual = (DOCS / "index.md").read_text(encoding="utf-8")
    assert _bash_block(manual, "## Set-up") == _bash_block(readme, "## Set-up")


def test_every_figure_is_in_the_manual():
    pages = "".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    figures = [p for p in DOCS.rglob("*") if p.suffix in (".png", ".gif", ".svg")]
    assert figures
    unused = [str(p.relative_to(DOCS)) for p in figures if f"]({p.relative_to(DOCS)})" not in pages]
    assert unused == []


def test_api_page_example_runs():
    """The Python API page's first example (shipped model, feature maps, equivariance) runs."""
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    exec(compile(code, "docs/api.md", "exec"), {"__name__": "api_example"})

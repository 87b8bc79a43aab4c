"""The README's set-up block and CI agree: .ci/run runs exactly the block's test line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no ```bash block in the Set-up section"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readme_test_line_exactly():
    lines = _setup_block()
    test_line = lines[-1]
    assert "pytest" in test_line and "[test]" in test_line
    ci = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci[-1] == test_line

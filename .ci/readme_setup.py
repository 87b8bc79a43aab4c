"""Print the README's set-up block: the first ```bash block under the "## Set-up" heading.

.ci/run runs what this prints, line by line, as a newcomer pasting the block would, so the README
and CI cannot drift apart; tests/packaging/test_setup_docs.py checks the block's shape. If the
heading or the block is missing or empty, this prints one line to stderr and exits with status 1,
and CI fails.

    python .ci/readme_setup.py [README.md]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADING = "## Set-up"
README = Path(__file__).resolve().parents[1] / "README.md"


class NoSetupBlock(Exception):
    """The README has no set-up heading or no non-empty ```bash block under it."""


def setup_block(readme: str) -> list[str]:
    """The non-empty lines of the first ```bash block in the README's set-up section."""
    sections = re.split(r"^(?=## )", readme, flags=re.M)
    section = next((s for s in sections if s.startswith(HEADING)), None)
    if section is None:
        raise NoSetupBlock(f"no {HEADING!r} heading in the README")
    block = re.search(r"^```bash[ \t]*\n(.*?)^```[ \t]*$", section, flags=re.S | re.M)
    if block is None:
        raise NoSetupBlock(f"no ```bash block under the README's {HEADING!r} heading")
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    if not lines:
        raise NoSetupBlock(f"the ```bash block under {HEADING!r} is empty")
    return lines


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else README
    try:
        lines = setup_block(path.read_text(encoding="utf-8"))
    except (OSError, NoSetupBlock) as exc:
        print(f"readme_setup: {path}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

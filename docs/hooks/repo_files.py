"""Links from the manual to files of the repository outside docs/ (MkDocs hook).

A page links such a file the way GitHub reads it, relative to the page:
``[packaging/README.md](../packaging/README.md)``. MkDocs only knows the files under docs/, so
this hook copies every linked file (and the extra pages in ``REPO_PAGES``) into the site
under ``repo/`` (Markdown files become pages) and points the links there. A link to a file
that does not exist is a warning, so ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, InclusionLevel

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
PREFIX = "repo"
# pages of the repository that the manual's navigation shows (mkdocs.yml `nav`)
REPO_PAGES = ("packaging/README.md", "benchmarks/README.md")
LINK = re.compile(r"(\]\()(\.\./[^)\s#]+)(#[^)\s]*)?(\))")

log = logging.getLogger("mkdocs.hooks.repo_files")


def _outside_links(page_path: Path, markdown: str):
    """(match, repository path) of every link from the page to a file outside docs/."""
    for match in LINK.finditer(markdown):
        target = (page_path.parent / match.group(2)).resolve()
        if not target.is_relative_to(DOCS):
            yield match, target


def on_files(files, config):
    wanted = {ROOT / name for name in REPO_PAGES}
    for file in files.documentation_pages():
        path = Path(file.abs_src_path)
        for _, target in _outside_links(path, path.read_text(encoding="utf-8")):
            if target.is_file() and target.is_relative_to(ROOT):
                wanted.add(target)
    for target in sorted(wanted):
        uri = f"{PREFIX}/{target.relative_to(ROOT).as_posix()}"
        if files.get_file_from_path(uri) is None:
            # a linked page need not be in the nav (a results table, say)
            files.append(
                File.generated(
                    config, uri, abs_src_path=str(target), inclusion=InclusionLevel.NOT_IN_NAV
                )
            )
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.abs_src_path is None:
        return markdown
    path = Path(page.file.abs_src_path)
    if not path.is_relative_to(DOCS):
        return markdown
    out, last = [], 0
    for match, target in _outside_links(path, markdown):
        out.append(markdown[last : match.start()])
        last = match.end()
        if not (target.is_file() and target.is_relative_to(ROOT)):
            log.warning(f"{page.file.src_uri}: links to {match.group(2)}, which does not exist")
            out.append(match.group(0))
            continue
        uri = f"{PREFIX}/{target.relative_to(ROOT).as_posix()}"
        rel = posixpath.relpath(uri, posixpath.dirname(page.file.src_uri) or ".")
        out.append(f"{match.group(1)}{rel}{match.group(3) or ''}{match.group(4)}")
    out.append(markdown[last:])
    return "".join(out)

"""A griffe extension for the Python API page: the docstrings' Sphinx roles
(:class:`~gcnn_viewer.x.Y`, :func:`f`, ...) shown as code (``Y``, ``f``), as Sphinx shows them,
instead of as literal ":class:" text. Listed under the mkdocstrings handler in mkdocs.yml."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|const|py:\w+):`(~?)([^`]+)`")


def _code(match: re.Match) -> str:
    target = match.group(2)
    if match.group(1):  # ~a.b.C shows as C
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


class RstRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)

"""The viewer tests' synthetic digit, and reading exported files back without extra
dependencies (PDF pages, text and document info)."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

from tests.viewer.conftest import seven  # noqa: F401  (one synthetic digit for both)


# -- reading files back ------------------------------------------------------------------------
def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF (``/Type /Page``, not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def _pdf_string(raw: bytes) -> bytes:
    """A PDF literal string's bytes (escapes undone)."""
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            nxt = raw[i + 1 : i + 2]
            if nxt.isdigit():
                m = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
                out.append(int(m.group(0), 8))
                i += 1 + len(m.group(0))
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """The text a PDF draws (matplotlib's Type 42 fonts: two-byte codes in TJ arrays)."""
    texts = []
    for m in re.finditer(rb"stream\r?\n", data):
        try:
            content = zlib.decompressobj().decompress(data[m.end() :])
        except zlib.error:
            continue
        for array in re.findall(rb"\[(.*?)\]\s*TJ", content, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", array, re.S)
            raw = b"".join(_pdf_string(p) for p in parts)
            texts.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(texts)


def pdf_info_json(data: bytes) -> dict:
    """The provenance JSON the exporter puts in the PDF's /Subject."""
    m = re.search(rb"/Subject \(((?:\\.|[^\\)])*)\)", data, re.S)
    assert m, "no /Subject in the PDF's document info"
    return json.loads(_pdf_string(m.group(1)).decode("latin-1"))


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))

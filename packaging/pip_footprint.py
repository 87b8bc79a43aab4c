"""Disk size of a pip install of gcnn-viewer: every distribution in its dependency closure.

    python packaging/pip_footprint.py

Sums the file sizes each installed distribution's RECORD lists (what a fresh venv holds),
following gcnn-viewer's requirements recursively (extras left out, markers evaluated).
"""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement


def closure(name: str, seen: dict[str, metadata.Distribution]) -> None:
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return
    seen[key] = dist
    for text in dist.requires or []:
        requirement = Requirement(text)
        marker: Marker | None = requirement.marker
        if marker is not None and not marker.evaluate({"extra": ""}):
            continue
        closure(requirement.name, seen)


def main() -> None:
    seen: dict[str, metadata.Distribution] = {}
    closure("gcnn-viewer", seen)
    sizes = sorted(
        ((sum(f.size or 0 for f in (d.files or [])), k) for k, d in seen.items()), reverse=True
    )
    for size, key in sizes[:8]:
        print(f"{size / 1e6:8.0f} MB  {key}")
    print(f"{sum(s for s, _ in sizes) / 1e6:8.0f} MB  total, {len(sizes)} distributions")


if __name__ == "__main__":
    main()

"""Export figures, animations, probability sweeps and data: one Qt-free renderer used by the
app and by ``gcnn-viewer export``.

The plain API, for the GUI and for scripts::

    from gcnn_viewer.export import ViewSpec, resolve_models, resolve_input, export_figure

    spec = ViewSpec(resolve_models(["z2cnn", "p4cnn"]), resolve_input("7"), angles=(0, 90))
    export_figure(spec, "maps.pdf")
    export_figure(spec, "cycle.png", rotate_and_cycle=True)

The app builds the same :class:`ViewSpec` from what is on screen
(:meth:`ExportModel.from_entry` for its catalog entries, :class:`ExportInput` for its drawing
snapshot). Every export writes atomically and records its provenance in the file; errors a
user can cause are one-line :class:`ExportError` s.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: the command line imports gcnn_viewer.export.cli to build its parser,
# and that must not pull in torch and matplotlib for every command. The public names are the
# modules' own ``__all__``, looked up in this order (common first: ``ViewSpec`` and friends
# need no matplotlib), so this file never repeats them.
_MODULES = ("common", "render")


def _module(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    if name == "__all__":  # PEP 562: `from gcnn_viewer.export import *` and help() ask
        return sorted({n for m in _MODULES for n in _module(m).__all__})
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for home in _MODULES:
        module = _module(home)
        if name in module.__all__:
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("__all__")))

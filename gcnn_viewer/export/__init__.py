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
# and that must not pull in torch and matplotlib for every command.
_HOMES = {
    "common": (
        "DEFAULT_ANGLES",
        "ExportCancelled",
        "ExportError",
        "ExportInput",
        "ExportModel",
        "ViewSpec",
        "atomic_output",
        "resolve_input",
        "resolve_models",
    ),
    "render": (
        "ANIMATION_FORMATS",
        "DATA_FORMATS",
        "FIGURE_FORMATS",
        "SWEEP_FORMATS",
        "export_animation",
        "export_data",
        "export_figure",
        "export_sweep",
        "feature_data",
        "mp4_available",
        "preview",
    ),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

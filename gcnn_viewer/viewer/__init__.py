"""The viewer's Qt-free state: drawing, rotation, models, display options, mosaics, inference.

The desktop app (:mod:`gcnn_viewer.gui`) is a thin set of Qt views over these objects; the
headless figure export can drive the same objects without Qt.
"""

from __future__ import annotations

from typing import Any

# Loaded on first use (PEP 562): importing one module of the package (the app's window
# imports several before torch is loaded) does not import the others.
_EXPORTS = {
    "browser": ("DigitBrowser", "cached_mnist_rot"),
    "drawing": ("Drawing", "InputSnapshot", "Stroke"),
    "events": ("Event",),
    "inference": (
        "FrameRequest",
        "FrameResult",
        "InferenceScheduler",
        "SweepRequest",
        "SweepResult",
        "compute_frame",
        "run_sweep",
        "stabilising_turns",
        "work_once",
    ),
    "layout": ("LayerLayout", "LayerScale", "MapPixel", "layer_layout", "stabilise"),
    "models": ("ModelCatalog", "ModelEntry", "ModelProbe", "sample_digits"),
    "state": ("ViewerState",),
}

__all__ = [
    "DigitBrowser",
    "Drawing",
    "Event",
    "FrameRequest",
    "FrameResult",
    "InferenceScheduler",
    "InputSnapshot",
    "LayerLayout",
    "LayerScale",
    "MapPixel",
    "ModelCatalog",
    "ModelEntry",
    "ModelProbe",
    "Stroke",
    "SweepRequest",
    "SweepResult",
    "ViewerState",
    "cached_mnist_rot",
    "compute_frame",
    "layer_layout",
    "run_sweep",
    "sample_digits",
    "stabilise",
    "stabilising_turns",
    "work_once",
]


def __getattr__(name: str) -> Any:
    # explicit imports (not importlib): the import contract sees every dependency
    if name in _EXPORTS["browser"]:
        import gcnn_viewer.viewer.browser as module
    elif name in _EXPORTS["drawing"]:
        import gcnn_viewer.viewer.drawing as module
    elif name in _EXPORTS["events"]:
        import gcnn_viewer.viewer.events as module
    elif name in _EXPORTS["inference"]:
        import gcnn_viewer.viewer.inference as module
    elif name in _EXPORTS["layout"]:
        import gcnn_viewer.viewer.layout as module
    elif name in _EXPORTS["models"]:
        import gcnn_viewer.viewer.models as module
    elif name in _EXPORTS["state"]:
        import gcnn_viewer.viewer.state as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value  # once: later lookups skip this function
    return value

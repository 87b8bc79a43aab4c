"""The viewer's Qt-free state: drawing, rotation, models, display options, mosaics, inference.

The desktop app (:mod:`gcnn_viewer.gui`) is a thin set of Qt views over these objects; the
headless figure export can drive the same objects without Qt.
"""

from gcnn_viewer.viewer.browser import DigitBrowser, cached_mnist_rot
from gcnn_viewer.viewer.drawing import Drawing, InputSnapshot, Stroke
from gcnn_viewer.viewer.events import Event
from gcnn_viewer.viewer.inference import (
    FrameRequest,
    FrameResult,
    InferenceScheduler,
    SweepRequest,
    SweepResult,
    compute_frame,
    run_sweep,
    stabilising_turns,
    work_once,
)
from gcnn_viewer.viewer.layout import LayerLayout, LayerScale, MapPixel, layer_layout, stabilise
from gcnn_viewer.viewer.models import ModelCatalog, ModelEntry, ModelProbe, sample_digits
from gcnn_viewer.viewer.state import ViewerState

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

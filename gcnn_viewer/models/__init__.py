"""The paper's networks (Z2CNN, P4CNN, P4CNN-RotationPooling) and P4MCNN."""

from gcnn_viewer.models.networks import (
    MODEL_NAMES,
    MODELS,
    P4CNN,
    P4MCNN,
    Z2CNN,
    GCNNModel,
    P4CNNRotationPooling,
    build_model,
)
from gcnn_viewer.models.pretrained import load_pretrained

__all__ = [
    "MODELS",
    "MODEL_NAMES",
    "P4CNN",
    "P4MCNN",
    "GCNNModel",
    "P4CNNRotationPooling",
    "Z2CNN",
    "build_model",
    "load_pretrained",
]

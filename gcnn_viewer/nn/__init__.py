"""Layers: group convolutions, pooling over space and orientations, group batch-norm."""

from gcnn_viewer.nn.gconv import (
    GroupConv,
    P4ConvP4,
    P4ConvZ2,
    P4MConvP4,
    P4MConvP4M,
    P4MConvZ2,
)
from gcnn_viewer.nn.group_ops import (
    GroupBatchNorm,
    GroupMaxPool2d,
    OrientationPool,
    group_max_pool2d,
    orientation_pool,
)

__all__ = [
    "GroupBatchNorm",
    "GroupConv",
    "GroupMaxPool2d",
    "OrientationPool",
    "P4ConvP4",
    "P4ConvZ2",
    "P4MConvP4",
    "P4MConvP4M",
    "P4MConvZ2",
    "group_max_pool2d",
    "orientation_pool",
]

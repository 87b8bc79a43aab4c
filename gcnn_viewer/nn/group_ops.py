"""Pooling and batch-norm for group feature maps ``[B, C, G, H, W]``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def group_max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Spatial max-pool of each orientation plane: ``[B, C, G, H, W]`` → ``[B, C, G, H', W']``."""
    B, C, G, H, W = x.shape
    planes = x.reshape(B, C * G, H, W)
    if B == 1 and planes.is_contiguous(memory_format=torch.channels_last):
        # a size-1 batch dim may get any stride from reshape, which hides the channels-last
        # layout from max_pool2d and sends it down a ~6x slower path; restore the canonical one
        planes = planes.as_strided(planes.shape, (H * W * C * G, 1, W * C * G, C * G))
    y = F.max_pool2d(planes, kernel_size, stride)
    return y.view(B, C, G, y.shape[-2], y.shape[-1])


def orientation_pool(x: torch.Tensor, mode: str = "max") -> torch.Tensor:
    """Pool over the orientation axis: ``[B, C, G, H, W]`` → ``[B, C, H, W]`` (invariant planes)."""
    if mode == "max":
        return x.amax(dim=-3)
    if mode == "mean":
        return x.mean(dim=-3)
    raise ValueError(f"orientation_pool mode must be 'max' or 'mean', got {mode!r}")


class GroupMaxPool2d(nn.Module):
    """Module form of :func:`group_max_pool2d`."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return group_max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class OrientationPool(nn.Module):
    """Module form of :func:`orientation_pool`."""

    def __init__(self, mode: str = "max") -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return orientation_pool(x, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class GroupBatchNorm(nn.BatchNorm3d):
    """Batch-norm of group maps ``[B, C, G, H, W]``: one mean/var/γ/β per channel, shared by the
    G orientations (statistics over B, G, H, W), so normalisation commutes with the group action."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() != 5:
            raise ValueError(f"GroupBatchNorm expects [B, C, G, H, W], got {tuple(input.shape)}")

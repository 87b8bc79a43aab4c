"""A GrouPy-style p4 network written with plain torch operations (no gcnn-viewer imports).

Its feature maps are 5-D, ``[B, C, 4, H, W]``: C channels, each at the four orientations of
the p4 group (0°, 90°, 180°, 270°), the layout of GrouPy's PyTorch ports. The layers:

- ``P4LiftConv``: one planar filter per output channel, stacked at its four quarter turns
  (``torch.rot90``) and applied with one ``F.conv2d``;
- ``P4GroupConv``: for output orientation r, every filter is turned by r quarter turns and
  its input-orientation axis cycled by r (``torch.roll``), again one ``F.conv2d``;
- both build their turned filters as GrouPy does: one gather through an index computed once
  from the filter's own positions (the same ``rot90``/``roll`` applied to ``arange``);
- ``P4BatchNorm``: ``nn.BatchNorm3d`` over ``[B, C, 4, H, W]``, so the four orientations of a
  channel share one mean, variance, γ and β (it commutes with the rotations);
- ``P4MaxPool``: 2×2 max-pooling over space, for each orientation separately;
- at the top, the maximum over the four orientations gives rotation-invariant ``[B, 10]``
  logits.

Turning the input by 90° (``torch.rot90(x, 1, dims=(-2, -1))``) turns every map by 90° and
cycles its orientation axis by one (``torch.roll(torch.rot90(f, 1, (-2, -1)), 1, dims=2)``),
exactly: the app's equivariance view shows float rounding at 90°, 180° and 270°.

Open it in the app::

    gcnn-viewer --model examples/p4_plain_torch.py:build

Train it::

    gcnn-viewer train --model examples/p4_plain_torch.py:build --epochs 10 --out runs/p4_plain.pt

The model takes ``[B, 1, 28, 28]`` pixels in [0, 1] and normalises them itself.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MEAN, STD = 0.13, 0.30  # MNIST's pixel statistics (about)


class P4LiftConv(nn.Module):
    """Planar input ``[B, C_in, H, W]`` → p4 maps ``[B, C_out, 4, H', W']``."""

    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        # GrouPy's way: where each entry of the four turned filters comes from, computed once
        # by turning the filter's own positions; forward is then one gather. [4, k, k]
        where = torch.arange(k * k).reshape(k, k)
        self.register_buffer(
            "index", torch.stack([torch.rot90(where, r) for r in range(4)]), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, c_in, k, _ = self.weight.shape
        # bank[o, r] = rot90(W[o], r): [C_out, C_in, 4, k, k] -> [C_out, 4, C_in, k, k]
        bank = self.weight.flatten(2)[:, :, self.index].transpose(1, 2)
        y = F.conv2d(x, bank.reshape(out * 4, c_in, k, k), self.bias.repeat_interleave(4))
        return y.reshape(y.shape[0], out, 4, *y.shape[-2:])


class P4GroupConv(nn.Module):
    """p4 maps ``[B, C_in, 4, H, W]`` → p4 maps ``[B, C_out, 4, H', W']`` (GrouPy's P4ConvP4)."""

    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in, 4, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out))
        nn.init.kaiming_uniform_(self.weight.view(c_out, c_in * 4, k, k), a=math.sqrt(5))
        # output orientation r: rot90(W[o, i, (s - r) mod 4], r) = rot90(roll(W, r, s-axis), r),
        # as a gather index computed once from the filter's own positions: [4 (r), 4 (s), k, k]
        where = torch.arange(4 * k * k).reshape(4, k, k)
        turned = [torch.rot90(torch.roll(where, r, dims=0), r, dims=(-2, -1)) for r in range(4)]
        self.register_buffer("index", torch.stack(turned), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, c_in, g, k, _ = self.weight.shape
        # [C_out, C_in, 4 (r), 4 (s), k, k] -> [C_out, 4 (r), C_in, 4 (s), k, k]
        bank = self.weight.flatten(2)[:, :, self.index].transpose(1, 2)
        b = x.shape[0]
        y = F.conv2d(
            x.reshape(b, c_in * g, *x.shape[-2:]),
            bank.reshape(out * 4, c_in * g, k, k),
            self.bias.repeat_interleave(4),
        )
        return y.reshape(b, out, 4, *y.shape[-2:])


class P4BatchNorm(nn.BatchNorm3d):
    """Batch-norm with statistics shared by a channel's four orientations (``[B, C, 4, H, W]``
    is read by BatchNorm3d as C channels over a 4×H×W volume)."""


class P4MaxPool(nn.Module):
    """Spatial max-pooling of each orientation's map."""

    def __init__(self, size: int = 2) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, g, h, w = x.shape
        y = F.max_pool2d(x.reshape(b, c * g, h, w), self.size)
        return y.reshape(b, c, g, *y.shape[-2:])


class P4Block(nn.Sequential):
    """Group convolution (lifting for the first), group batch-norm, ReLU."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, lift: bool = False) -> None:
        conv = P4LiftConv(c_in, c_out, k) if lift else P4GroupConv(c_in, c_out, k)
        super().__init__(conv, P4BatchNorm(c_out), nn.ReLU())


class P4Net(nn.Module):
    """28 → l1 26 → l2 24 → pool 12 → l3 10 → l4 8 → l5 6 → l6 4 → top 1 → max over 4."""

    input_size = 28

    def __init__(self, width: int = 10, classes: int = 10) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))
        self.l1 = P4Block(1, width, lift=True)
        self.l2 = P4Block(width, width)
        self.pool = P4MaxPool(2)
        self.l3 = P4Block(width, width)
        self.l4 = P4Block(width, width)
        self.l5 = P4Block(width, width)
        self.l6 = P4Block(width, width)
        self.top = P4GroupConv(width, classes, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        for stage in (self.l1, self.l2, self.pool, self.l3, self.l4, self.l5, self.l6):
            x = stage(x)
        y = self.top(x)  # [B, 10, 4, 1, 1]
        return y.amax(dim=2).flatten(1)  # the maximum over orientations: [B, 10]


def build() -> P4Net:
    """The p4 network, 10 channels × 4 orientations per layer, freshly initialised."""
    return P4Net()

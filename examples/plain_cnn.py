"""A plain CNN for MNIST-rot: four 3×3 convolutions, one 2×2 max-pool, a linear head.

Nothing in it knows about rotations, so the app shows what a network without equivariance
does with a turned digit: its maps change shape instead of turning with the input, and its
equivariance error at 90° is clearly non-zero.

Open it in the app::

    gcnn-viewer --model examples/plain_cnn.py:build

Train it (a state_dict or checkpoint for ``--weights``)::

    gcnn-viewer train --model examples/plain_cnn.py:build --epochs 10 --out runs/plain_cnn.pt

The model takes ``[B, 1, 28, 28]`` pixels in [0, 1] (white digit on black) and normalises
them itself; it returns ``[B, 10]`` logits.
"""

from __future__ import annotations

import torch
from torch import nn

MEAN, STD = 0.13, 0.30  # MNIST's pixel statistics (about); the model normalises its input


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3×3 convolution (no padding), batch-norm, ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out), nn.ReLU())


class PlainCNN(nn.Module):
    """28 → 26 → 24 → pool → 12 → 10 → 8 → global average → 10 logits."""

    input_size = 28  # the app draws the digit into a 28×28 field

    def __init__(self, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))
        self.conv1 = conv_block(1, width)
        self.conv2 = conv_block(width, width)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = conv_block(width, 2 * width)
        self.conv4 = conv_block(2 * width, 2 * width)
        self.head = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        x = self.conv4(self.conv3(self.pool(self.conv2(self.conv1(x)))))
        return self.head(x.mean(dim=(-2, -1)))


def build() -> PlainCNN:
    """The plain CNN, 16 channels wide (about 16k parameters), freshly initialised."""
    return PlainCNN()

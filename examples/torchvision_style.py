r"""A small CNN written the way torchvision writes its classifiers (AlexNet, VGG).

``features`` is an ``nn.Sequential`` of convolutions, ReLUs and max-pools, ``avgpool`` an
``nn.AdaptiveAvgPool2d`` and ``classifier`` an ``nn.Sequential`` ending in ``nn.Linear``.
It was not written for gcnn-viewer: its children are whole stages, so the app shows three
layers (``features``, ``avgpool``, the logits) unless you name deeper ones, e.g.
``--layers features.1 features.4 features.9`` (the ReLUs after the first, second and
last convolution).

Open it in the app::

    gcnn-viewer --model examples/torchvision_style.py:build \
        --layers features.1 features.4 features.9

Train it::

    gcnn-viewer train --model examples/torchvision_style.py:build --epochs 10 --out runs/tv_style.pt

The model takes ``[B, 1, 28, 28]`` pixels in [0, 1] and normalises them itself (torchvision
leaves that to a transform; here the viewer feeds raw pixels, so the model does it).
"""

from __future__ import annotations

import torch
from torch import nn


class SmallNet(nn.Module):
    def __init__(self, num_classes: int = 10, dropout: float = 0.3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.13]).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor([0.30]).view(1, 1, 1, 1))
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(64, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


def build(num_classes: int = 10) -> SmallNet:
    """The network, freshly initialised."""
    return SmallNet(num_classes=num_classes)

"""Small models written for the tests of "your own model" (issue 22): loaded as
``tests/models/user_nets.py:FACTORY`` the way a user names theirs. Plain torch only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LiftP4(nn.Module):
    """p4 lifting convolution ``[B, C, H, W] -> [B, O, 4, H', W']``: one filter bank of the
    filter turned by r quarter turns for orientation r (GrouPy's P4ConvZ2)."""

    def __init__(self, c_in: int, c_out: int, k: int = 3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k) / (c_in * k * k) ** 0.5)
        self.bias = nn.Parameter(torch.randn(c_out) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bank = torch.stack([torch.rot90(self.weight, r, dims=(-2, -1)) for r in range(4)], 1)
        o = self.weight.shape[0]
        y = F.conv2d(x, bank.reshape(o * 4, *self.weight.shape[1:]), self.bias.repeat_interleave(4))
        return y.view(y.shape[0], o, 4, *y.shape[-2:])


class GroupConvP4(nn.Module):
    """p4 group convolution ``[B, C, 4, H, W] -> [B, O, 4, H', W']`` by rolling the input
    orientation axis of the filter (GrouPy's P4ConvP4)."""

    def __init__(self, c_in: int, c_out: int, k: int = 3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 4, k, k) / (4 * c_in * k * k) ** 0.5)
        self.bias = nn.Parameter(torch.randn(c_out) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bank = torch.stack(
            [torch.rot90(torch.roll(self.weight, r, dims=2), r, dims=(-2, -1)) for r in range(4)], 1
        )  # [O, 4, C, 4, k, k]
        o, c, _, k, _ = self.weight.shape
        y = F.conv2d(
            x.reshape(x.shape[0], c * 4, *x.shape[-2:]),
            bank.reshape(o * 4, c * 4, k, k),
            self.bias.repeat_interleave(4),
        )
        return y.view(y.shape[0], o, 4, *y.shape[-2:])


class SpatialPool(nn.Module):
    """2×2 max pooling of every plane, any number of leading axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = F.max_pool2d(x.reshape(-1, 1, *x.shape[-2:]), 2)
        return flat.view(*x.shape[:-2], *flat.shape[-2:])


class PlainCNN(nn.Module):
    """conv → relu → conv → relu → pool → linear; the ReLU is one module called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(6 * 12 * 12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.relu(self.conv2(self.relu(self.conv1(x)))))
        return self.head(h.flatten(1))


class P4Net(nn.Module):
    """lift → relu → group conv → relu → pool → group conv (10 classes) → max over
    orientations and space: invariant logits, every 5-D map p4-equivariant."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.lift = LiftP4(1, width)
        self.relu = nn.ReLU()
        self.gconv = GroupConvP4(width, width)
        self.pool = SpatialPool()
        self.top = GroupConvP4(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.relu(self.gconv(self.relu(self.lift(x)))))
        return self.top(h).amax(dim=(2, 3, 4))


class ThreeAxis(nn.Module):
    """A layer of odd shape: ``[B, C, 3, H, W]`` (neither p4 nor p4m)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :3]


class Pair(nn.Module):
    """A layer whose output is not a tensor."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x


class OddNet(P4Net):
    """P4Net with two layers the app cannot show: ``odd`` [B, C, 3, H, W] and ``pair``."""

    def __init__(self) -> None:
        super().__init__()
        self.odd = ThreeAxis()
        self.pair = Pair()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.lift(x))
        self.odd(h)
        h, _ = self.pair(h)
        h = self.pool(self.relu(self.gconv(h)))
        return self.top(h).amax(dim=(2, 3, 4))


class Big(PlainCNN):
    """PlainCNN for 32×32 inputs (its attribute ``input_size``)."""

    input_size = 32

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(6 * 14 * 14, 10)


def plain_cnn() -> nn.Module:
    torch.manual_seed(0)
    return PlainCNN()


def p4_net() -> nn.Module:
    torch.manual_seed(0)
    return P4Net()


def odd_net() -> nn.Module:
    torch.manual_seed(0)
    return OddNet()


def big_cnn() -> nn.Module:
    torch.manual_seed(0)
    return Big()


def sequential() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 5), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def broken() -> nn.Module:
    raise RuntimeError("the factory is broken on purpose")


def not_a_module() -> int:
    return 7


def needs_argument(width: int) -> nn.Module:  # not offered: it needs an argument
    return PlainCNN()


class OrientationMax(nn.Module):
    """The maximum over the orientation axis: p4 maps -> rotation-invariant planar maps."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=2)


class EightAxis(nn.Module):
    """A side branch with an orientation axis of 8 (shown as p4m): the maps and their mirror."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, torch.flip(x, dims=(-2,))], dim=2)


class Mixed(nn.Module):
    """Layers of different groups in one model: lift (p4) -> relu -> max over orientations
    (planar) -> conv (planar) -> mean, and a side branch ``eight`` of 8 orientations."""

    def __init__(self) -> None:
        super().__init__()
        self.lift = LiftP4(1, 3)
        self.relu = nn.ReLU()
        self.eight = EightAxis()
        self.invariant = OrientationMax()
        self.conv = nn.Conv2d(3, 10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.lift(x))
        self.eight(h)
        return self.conv(self.invariant(h)).mean(dim=(2, 3))


class Odd33(nn.Module):
    """Takes 33×33 digits (its attribute ``input_size``); its map is its input."""

    input_size = 33

    def __init__(self) -> None:
        super().__init__()
        self.seen = nn.Identity()
        self.head = nn.Linear(33 * 33, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.seen(x).flatten(1))


def mixed() -> nn.Module:
    torch.manual_seed(0)
    return Mixed()


def odd33() -> nn.Module:
    torch.manual_seed(0)
    return Odd33()

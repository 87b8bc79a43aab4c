"""Group convolutions P4ConvZ2, P4ConvP4, P4MConvZ2, P4MConvP4 (GrouPy's definition and layout).

For a group G with spatial transforms T_g and a layer with weight ``W`` ``[out, in, G_in, k, k]``:

- from the plane (G_in = 1): ``y[b,o,g] = Σ_i corr2d(x[b,i], T_g W[o,i,0]) + bias[o]``
- from G:                    ``y[b,o,g] = Σ_i Σ_s corr2d(x[b,i,s], T_g W[o,i,g⁻¹·s]) + bias[o]``

For p4 the second line is GrouPy's ``rot90(W[o,i,(s−r) mod 4], r)``. Both satisfy
``layer(T_h x) == h·layer(x)`` with the actions of :mod:`gcnn_viewer.group`, for any kernel
size and symmetric padding at stride 1.

Implementation: the expanded filter bank ``[out·G, in·G_in, k, k]`` is ONE gather of the
flattened weight with an index precomputed at construction; then ONE ``F.conv2d``. The bank
is cached while the module is not training (and no gradient to the weight is wanted), and
rebuilt whenever the weight tensor changes (optimizer step, ``load_state_dict``); in training
mode it is built afresh on every call and never cached.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gcnn_viewer.errors import ConfigError, check_int
from gcnn_viewer.group import P4, P4M, Group
from gcnn_viewer.nn.functional import conv2d
from gcnn_viewer.nn.fusion import tensors_key

MAX_LAYER_CHANNELS = 4096  # per group convolution: a typo (10**9) fails here, not in malloc
MAX_KERNEL = 31


def _bank_index(group: Group, input_group: Group | None, in_channels: int, k: int) -> torch.Tensor:
    """Flat index into ``weight.view(out, -1)`` giving the bank ``[out, G·in·G_in·k·k]``.

    ``index[g, i, s, u, v]`` points at the weight entry that lands at filter position
    ``(u, v)`` of input (channel i, orientation s) for output orientation g.
    """
    g_in = 1 if input_group is None else input_group.order
    per_channel = torch.arange(g_in * k * k).view(g_in, k, k)  # [G_in, k, k]
    planes = []
    for g in group.elements:  # construction time only, never in forward
        if input_group is None:
            planes.append(group.act_on_image(g, per_channel))
        else:
            planes.append(group.act_on_group_map(g, per_channel))
    index = torch.stack(planes)  # [G, G_in, k, k]
    offsets = torch.arange(in_channels).view(1, in_channels, 1, 1, 1) * (g_in * k * k)
    return (index.unsqueeze(1) + offsets).reshape(-1)  # [G·in·G_in·k·k]


class GroupConv(nn.Module):
    """Base class of the four group convolutions; use the named subclasses."""

    group: Group
    input_group: Group | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(kernel_size, tuple):
            if len(set(kernel_size)) != 1:
                raise ConfigError("group convolutions need square kernels")
            kernel_size = kernel_size[0]
        # checked here: a float or a huge size would fail deep in torch, or allocate gigabytes
        in_channels = check_int(in_channels, "in_channels", 1, MAX_LAYER_CHANNELS)
        out_channels = check_int(out_channels, "out_channels", 1, MAX_LAYER_CHANNELS)
        kernel_size = check_int(kernel_size, "kernel_size", 1, MAX_KERNEL)
        stride = check_int(stride, "stride", 1, MAX_KERNEL)
        padding = check_int(padding, "padding", 0, MAX_KERNEL)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        g_in = self.input_order
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, g_in, kernel_size, kernel_size)
        )
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.register_buffer(
            "bank_index",
            _bank_index(self.group, self.input_group, in_channels, kernel_size),
            persistent=False,
        )
        self._cache: tuple[tuple, torch.Tensor, torch.Tensor | None] | None = None
        self.reset_parameters()

    @property
    def input_order(self) -> int:
        return 1 if self.input_group is None else self.input_group.order

    def reset_parameters(self) -> None:
        """GrouPy's initialisation: weight ~ N(0, 1/(C_in·G_in·k²)), bias 0."""
        fan_in = self.in_channels * self.input_order * self.kernel_size**2
        nn.init.normal_(self.weight, 0.0, math.sqrt(1.0 / fan_in))
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def filter_bank(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The expanded filters ``[out·G, in·G_in, k, k]`` and bias ``[out·G]``."""
        out, G, k = self.out_channels, self.group.order, self.kernel_size
        bank = self.weight.view(out, -1)[:, self.bank_index]  # [out, G·in·G_in·k·k]
        bank = bank.view(out * G, self.in_channels * self.input_order, k, k)
        bias = None if self.bias is None else self.bias.repeat_interleave(G)
        return bank, bias

    def _cached_filter_bank(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        wants_grad = torch.is_grad_enabled() and (
            self.weight.requires_grad or (self.bias is not None and self.bias.requires_grad)
        )
        if self.training or wants_grad:
            self._cache = None
            return self.filter_bank()
        key = tensors_key(self.weight, self.bias)
        # Threads may share a layer (a frozen model, docs/ARCHITECTURE.md "Threads and
        # models"): the cache is read once and replaced by one assignment, never changed in
        # place, so a reader sees a whole old entry or a whole new one; two threads racing
        # build the same bank twice.
        cache = self._cache
        if cache is None or cache[0] != key:
            with torch.no_grad():
                bank, bias = self.filter_bank()
            cache = (key, bank, bias)
            self._cache = cache
        return cache[1], cache[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [B, in, H, W] (plane input) or [B, in, G_in, H, W] (group input)
        return self.apply_bank(x, *self._cached_filter_bank())

    def apply_bank(
        self, x: torch.Tensor, bank: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        """Convolve ``x`` with an expanded bank (this layer's, or one with batch-norm folded in)."""
        expected = 4 if self.input_group is None else 5
        if x.dim() != expected:
            kind = "[B, C, H, W]" if expected == 4 else f"[B, C, {self.input_order}, H, W]"
            raise ValueError(f"{type(self).__name__} expects {kind}, got {tuple(x.shape)}")
        B, H, W = x.shape[0], x.shape[-2], x.shape[-1]
        y = conv2d(
            x.reshape(B, self.in_channels * self.input_order, H, W),
            bank,
            bias,
            stride=self.stride,
            padding=self.padding,
        )  # [B, out·G, H', W']
        return y.view(B, self.out_channels, self.group.order, y.shape[-2], y.shape[-1])

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != 1:
            s += f", stride={self.stride}"
        if self.padding:
            s += f", padding={self.padding}"
        return s + ("" if self.bias is not None else ", bias=False")

    def _load_from_state_dict(self, *args, **kwargs):  # noqa: ANN002, ANN003
        self._cache = None
        super()._load_from_state_dict(*args, **kwargs)


class P4ConvZ2(GroupConv):
    """Plane ``[B, C, H, W]`` → p4 maps ``[B, C', 4, H', W']``."""

    group, input_group = P4, None


class P4ConvP4(GroupConv):
    """p4 maps ``[B, C, 4, H, W]`` → p4 maps ``[B, C', 4, H', W']``."""

    group, input_group = P4, P4


class P4MConvZ2(GroupConv):
    """Plane ``[B, C, H, W]`` → p4m maps ``[B, C', 8, H', W']``."""

    group, input_group = P4M, None


class P4MConvP4(GroupConv):
    """p4m maps ``[B, C, 8, H, W]`` → p4m maps ``[B, C', 8, H', W']``."""

    group, input_group = P4M, P4M


# GrouPy's name for the same layer.
P4MConvP4M = P4MConvP4

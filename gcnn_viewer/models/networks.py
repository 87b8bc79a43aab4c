"""The paper's rotated-MNIST networks (Cohen & Welling 2016, Table 1) and a p4m variant.

Architectures follow the original experiment code (gconv_experiments/MNIST_ROT); see
docs/ARCHITECTURE.md, “The models”:
no padding, stride 1; hidden layer = conv → BN → ReLU; 28→26→24→pool→12→10→8→6→4→1.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from gcnn_viewer.errors import ConfigError, check_int, check_number
from gcnn_viewer.group import P4, P4M, Group
from gcnn_viewer.models.frozen import FreezableModule
from gcnn_viewer.models.layers import LayerRecord, layer_records
from gcnn_viewer.models.registry import model_spec
from gcnn_viewer.nn import (
    GroupBatchNorm,
    GroupConv,
    P4ConvP4,
    P4ConvZ2,
    P4MConvP4,
    P4MConvZ2,
    group_max_pool2d,
    orientation_pool,
)
from gcnn_viewer.nn.functional import conv2d
from gcnn_viewer.nn.fusion import fold_batch_norm, fold_input_normalisation, tensors_key

HIDDEN_LAYERS = ("l1", "l2", "l3", "l4", "l5", "l6")
MAX_CHANNELS = 512  # per hidden layer (models/record.py checks checkpoints against it too)
MNIST_SIZE = 28  # the shipped size: 28→26→24→pool→12→10→8→6→4→1
MIN_INPUT_SIZE, MAX_INPUT_SIZE = 20, 64  # N×N inputs taken; logits from N = 28 on


class MapTooSmallError(ConfigError):
    """An input so small that a layer's window does not fit the map it gets: that layer and
    every later one (the logits too) cannot be computed. ``layer`` names it; the message is
    one line saying why."""

    def __init__(self, layer: str, message: str) -> None:
        super().__init__(message)
        self.layer = layer


class GCNNModel(FreezableModule):
    """Base: input normalisation inside the model, and per-layer feature maps.

    Callers feed raw pixels ``[B, 1, N, N]`` in [0, 1] (white digit on black): 28×28 digits,
    or N from 20 to 64 (:meth:`_input`). The training set's mean/std live in buffers saved
    with the weights.
    """

    name: str = ""
    group: Group | None = None

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(()))
        self.register_buffer("input_std", torch.ones(()))
        self._folded: dict[int, tuple[tuple, torch.Tensor, torch.Tensor]] = {}
        self._records: tuple[LayerRecord, ...] | None = None

    # -- frozen models: what the app's threads share (docs/ARCHITECTURE.md, "Threads and
    # models"): FreezableModule's freeze(), train(), requires_grad_(), load_state_dict(),
    # and set_normalisation() below
    def unfrozen_copy(self) -> GCNNModel:
        """A deep copy that may be trained (see :meth:`FreezableModule.unfrozen_copy`), its
        folded-filter cache left behind."""
        copy = super().unfrozen_copy()
        copy._folded = {}
        return copy

    def set_normalisation(self, mean: float, std: float) -> None:
        if self._frozen:
            self._refuse("set_normalisation()")
        self.input_mean.fill_(mean)
        self.input_std.fill_(std)

    @property
    def config(self) -> dict:
        """What :func:`gcnn_viewer.models.build_model` needs to rebuild this model."""
        return {"name": self.name}

    def stages(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield ``(layer name, output)`` in order; the last is ``("logits", [B, 10])``."""
        raise NotImplementedError

    def feature_maps(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Every layer's output, in layer order: group maps ``[B, C, G, H, W]``, planar maps
        ``[B, C, H, W]``, ending with ``"logits"`` ``[B, 10]``."""
        return OrderedDict(self.stages(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *_, (_, logits) = self.stages(x)
        return logits

    input_size = MNIST_SIZE  # the side of the square input this model takes

    def layer_records(self) -> tuple[LayerRecord, ...]:
        """One :class:`~gcnn_viewer.models.layers.LayerRecord` per entry of
        :meth:`feature_maps`, in order (the last is ``logits``): computed once, from a forward
        pass of a blank input in eval mode (the model's mode is left as it was). Group maps
        belong to the model's group."""
        records = self._records
        if records is None:
            was_training = self.training
            nn.Module.train(self, False)  # a frozen model is in eval mode already
            try:
                with torch.inference_mode():
                    blank = torch.zeros(1, 1, self.input_size, self.input_size)
                    maps = self.feature_maps(blank.to(self.input_mean.dtype))
            finally:
                nn.Module.train(self, was_training)
            groups = {name: self.group for name, t in maps.items() if t.dim() == 5}
            records = self._records = layer_records(maps, groups)
        return records

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """Check the input; normalise it here unless l1's folded filters already do.

        The networks are for 28×28 digits, ``[B, 1, 28, 28]`` (B may be 0), and take any
        ``[B, 1, N, N]`` with N in 20..64 (:data:`MIN_INPUT_SIZE`, :data:`MAX_INPUT_SIZE`),
        float pixels in [0, 1]. From N = 28 on every layer is computed; the top's map is then
        larger than 1×1 (30 gives 2×2) and the logits are the maximum over its positions.
        Below 28 a map becomes smaller than the next layer's window: :meth:`stages` yields the
        layers before it, then raises :class:`MapTooSmallError` (27: the top's 4×4 kernel
        meets a 3×3 map). Any floating dtype is converted to the weights' dtype (float32);
        integer, bool and complex tensors are refused, since the scale of integer pixels
        (0-255? 0-1?) is ambiguous."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{self.name} expects a torch.Tensor, got {type(x).__name__}")
        n = x.shape[-1] if x.dim() == 4 else 0
        if (
            x.dim() != 4
            or tuple(x.shape[1:]) != (1, n, n)
            or not MIN_INPUT_SIZE <= n <= MAX_INPUT_SIZE
        ):
            raise ValueError(
                f"{self.name} expects [B, 1, N, N] images (28x28 digits; N from "
                f"{MIN_INPUT_SIZE} to {MAX_INPUT_SIZE}), got {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            hint = " (divide uint8 pixels by 255)" if x.dtype == torch.uint8 else ""
            raise ValueError(
                f"{self.name} expects floating-point pixels in [0, 1], got {x.dtype}{hint}"
            )
        if self._frozen:
            self._check_frozen()
        x = x.to(self.input_mean.dtype)  # float16/bfloat16/float64 -> the weights' float32
        return x if self._folding() else (x - self.input_mean) / self.input_std

    def _fits(self, layer: str, h: torch.Tensor, kernel: int, size: int) -> None:
        """:class:`MapTooSmallError` unless ``layer``'s ``kernel``×``kernel`` window fits
        the map ``h`` it gets (from an input ``size``×``size``)."""
        side = h.shape[-1]
        if side < kernel:
            window = "2×2 max-pool" if layer == "pool" else f"{kernel}×{kernel} kernel"
            raise MapTooSmallError(
                layer,
                f"{layer} cannot be computed at input {size}×{size}: its {window} is larger "
                f"than the {side}×{side} map it gets",
            )

    def _folding(self) -> bool:
        """Fold BN into the filters: in eval mode, unless a gradient to the weights is wanted."""
        if self.training or any(bn.training for bn in self.bns):  # BN recalibration: see training
            return False
        return not (torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()))

    def _conv_bn_relu(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Hidden layer i, ``relu(bn(conv(h)))``: one folded convolution when :meth:`_folding`."""
        conv, bn = self.convs[i], self.bns[i]
        if not self._folding():
            return F.relu(bn(conv(h)))
        tensors = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
        if i == 0:
            tensors += (self.input_mean, self.input_std)
        key = tensors_key(*tensors)
        # Several threads may run a frozen model at once: each reads the cache entry once
        # and publishes a new one by one assignment; a race builds the same filters twice.
        cached = self._folded.get(i)
        if cached is None or cached[0] != key:
            with torch.no_grad():
                if isinstance(conv, GroupConv):
                    bank, bias = conv.filter_bank()
                    repeats = conv.group.order
                else:
                    bank, bias, repeats = conv.weight, conv.bias, 1
                bank, bias = fold_batch_norm(bank, bias, bn, repeats)
                if i == 0:
                    bank, bias = fold_input_normalisation(
                        bank, bias, self.input_mean, self.input_std
                    )
            cached = (key, bank, bias)
            self._folded[i] = cached
        _, bank, bias = cached
        if isinstance(conv, GroupConv):
            return conv.apply_bank(h, bank, bias).relu_()
        return conv2d(h, bank, bias).relu_()


class Z2CNN(GCNNModel):
    """The plain CNN baseline: 7 conv layers of 20 channels, dropout 0.3 (21,750 parameters)."""

    name = "z2cnn"

    def __init__(self, channels: int = 20, dropout: float = 0.3) -> None:
        super().__init__()
        channels = check_int(channels, "channels", 1, MAX_CHANNELS)
        dropout = check_number(dropout, "dropout", 0.0, 1.0)
        self.channels, self.dropout = channels, dropout
        ins = (1,) + (channels,) * 5
        self.convs = nn.ModuleList(nn.Conv2d(c, channels, 3) for c in ins)
        self.bns = nn.ModuleList(nn.BatchNorm2d(channels) for _ in ins)
        self.top = nn.Conv2d(channels, 10, 4)
        self.drop = nn.Dropout(dropout)
        for conv in [*self.convs, self.top]:
            # the paper's code (chainer's Convolution2D default), and the rule the group
            # convolutions follow: weight ~ N(0, 1/fan_in), bias 0
            nn.init.normal_(conv.weight, 0.0, (1.0 / conv.weight[0].numel()) ** 0.5)
            nn.init.zeros_(conv.bias)

    @property
    def config(self) -> dict:
        return {"name": self.name, "channels": self.channels, "dropout": self.dropout}

    def stages(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        h, n = self._input(x), x.shape[-1]
        for i in range(len(self.convs)):
            self._fits(HIDDEN_LAYERS[i], h, self.convs[i].weight.shape[-1], n)
            h = self._conv_bn_relu(i, h)  # [B, 20, H, W]
            if i != 1:  # the original code has no dropout after l2
                h = self.drop(h)
            yield HIDDEN_LAYERS[i], h
            if i == 1:
                self._fits("pool", h, 2, n)
                h = F.max_pool2d(h, 2)
                yield "pool", h
        self._fits("top", h, self.top.weight.shape[-1], n)
        h = self.top(h)  # [B, 10, 1, 1] at 28×28
        yield "top", h
        yield "logits", h.amax(dim=(-2, -1))  # the maximum over positions (one at 28×28)


class _GroupCNN(GCNNModel):
    """P4CNN-style stack: group conv → group BN → ReLU, spatial pool after l2, max over
    orientations at the top."""

    conv_z2: type[nn.Module]
    conv_g: type[nn.Module]

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels = check_int(channels, "channels", 1, MAX_CHANNELS)
        self.convs = nn.ModuleList(
            [self.conv_z2(1, channels, 3)] + [self.conv_g(channels, channels, 3) for _ in range(5)]
        )
        self.bns = nn.ModuleList(GroupBatchNorm(channels) for _ in range(6))
        self.top = self.conv_g(channels, 10, 4)

    @property
    def config(self) -> dict:
        return {"name": self.name, "channels": self.channels}

    def stages(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        h, n = self._input(x), x.shape[-1]
        for i in range(len(self.convs)):
            self._fits(HIDDEN_LAYERS[i], h, self.convs[i].weight.shape[-1], n)
            h = self._conv_bn_relu(i, h)  # [B, C, G, H, W]
            yield HIDDEN_LAYERS[i], h
            if i == 1:
                self._fits("pool", h, 2, n)
                h = group_max_pool2d(h, 2)  # [B, C, G, 12, 12] at 28×28
                yield "pool", h
        self._fits("top", h, self.top.weight.shape[-1], n)
        h = self.top(h)  # [B, 10, G, 1, 1] at 28×28
        yield "top", h
        # [B, 10], invariant: the maximum over orientations, then over positions (one at 28×28)
        yield "logits", orientation_pool(h).amax(dim=(-2, -1))


class P4CNN(_GroupCNN):
    """All-p4 network, 10 channels × 4 orientations per layer (24,680 parameters)."""

    name, group = "p4cnn", P4
    conv_z2, conv_g = P4ConvZ2, P4ConvP4

    def __init__(self, channels: int = 10) -> None:
        super().__init__(channels)


class P4MCNN(_GroupCNN):
    """Beyond the paper: the P4CNN stack on p4m (rotations and mirrors), 7 channels × 8
    orientations per layer, to stay near 25k parameters (26,799)."""

    name, group = "p4mcnn", P4M
    conv_z2, conv_g = P4MConvZ2, P4MConvP4

    def __init__(self, channels: int = 7) -> None:
        super().__init__(channels)


class P4CNNRotationPooling(GCNNModel):
    """Every layer is P4ConvZ2 → group BN → ReLU, then a max over the 4 rotations (as the
    paper's code orders them), so each hidden layer is a rotation-*invariant* plane
    ``[B, 20, H, W]`` (21,750 parameters, as Z2CNN)."""

    name, group = "p4cnn_rotpool", P4

    def __init__(self, channels: int = 20) -> None:
        super().__init__()
        self.channels = channels = check_int(channels, "channels", 1, MAX_CHANNELS)
        ins = (1,) + (channels,) * 5
        self.convs = nn.ModuleList(P4ConvZ2(c, channels, 3) for c in ins)
        self.bns = nn.ModuleList(GroupBatchNorm(channels) for _ in ins)
        self.top = P4ConvZ2(channels, 10, 4)

    @property
    def config(self) -> dict:
        return {"name": self.name, "channels": self.channels}

    def stages(self, x: torch.Tensor) -> Iterator[tuple[str, torch.Tensor]]:
        h, n = self._input(x), x.shape[-1]
        for i in range(len(self.convs)):
            self._fits(HIDDEN_LAYERS[i], h, self.convs[i].weight.shape[-1], n)
            h = orientation_pool(self._conv_bn_relu(i, h))  # [B, 20, 4, H, W] -> [B, 20, H, W]
            yield HIDDEN_LAYERS[i], h
            if i == 1:
                self._fits("pool", h, 2, n)
                h = F.max_pool2d(h, 2)
                yield "pool", h
        self._fits("top", h, self.top.weight.shape[-1], n)
        h = orientation_pool(self.top(h))  # [B, 10, 1, 1] at 28×28
        yield "top", h
        yield "logits", h.amax(dim=(-2, -1))  # the maximum over positions (one at 28×28)


# The network class of each registered model (gcnn_viewer.models.registry holds everything
# else about it; a test checks that the two name the same models).
NETWORKS: dict[str, type[GCNNModel]] = {
    cls.name: cls for cls in (Z2CNN, P4CNN, P4CNNRotationPooling, P4MCNN)
}


def build_model(name: str, **kwargs: object) -> GCNNModel:
    """A freshly initialised model with the paper's architecture (docs/ARCHITECTURE.md).
    :class:`~gcnn_viewer.errors.ConfigError` (one line) for a name the registry does not hold
    (listing the valid names), an option the network does not take, or a bad value
    (``channels`` a whole number in 1..:data:`MAX_CHANNELS`, ``dropout`` in 0..1)."""
    if not isinstance(name, str):
        raise ConfigError(f"a model name must be text, not {type(name).__name__}")
    model_spec(name)  # a registered name, or the one-line error
    try:
        cls = NETWORKS[name]
    except KeyError:  # registered without a network: a programming error, not the user's
        raise LookupError(f"model {name!r} is registered but has no network class") from None
    import inspect

    takes = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(takes))
    if unknown:
        raise ConfigError(
            f"{name} takes no option {', '.join(unknown)}; its options are "
            f"{', '.join(takes) or 'none'}"
        )
    return cls(**kwargs)

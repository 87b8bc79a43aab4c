"""The shared filters (issue 12, "The shared filters"). Qt-free.

A group convolution stores one filter per (output channel, input channel, input orientation)
and applies a bank of turned and cycled copies of it, one per output orientation
(:meth:`gcnn_viewer.nn.GroupConv.filter_bank`): for p4, the copy for output orientation r is
``rot90(roll(w, r, orientation axis), r)``, so four orientation columns are one filter turned.
:func:`filter_bank` returns both for one output channel; :func:`parameter_counts` sets the
parameters a layer stores against a plain convolution that makes the same number of maps
from the same number of maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gcnn_viewer.analysis.accuracy import AnalysisError
from gcnn_viewer.errors import check_int
from gcnn_viewer.group import Group
from gcnn_viewer.models.networks import HIDDEN_LAYERS
from gcnn_viewer.nn import GroupConv


@dataclass(frozen=True, eq=False)
class FilterBank:
    """One output channel of one convolution layer.

    ``stored``: the learned weights ``[C_in, G_in, k, k]`` (G_in = 1 from planar maps).
    ``expanded``: what the layer applies, ``[G, C_in, G_in, k, k]``: one turned/cycled copy of
    ``stored`` per output orientation (G = 1 for a plain convolution: ``stored`` itself).
    """

    layer: str
    channel: int
    stored: np.ndarray
    expanded: np.ndarray
    group: Group | None  # the output orientations' group; None for a plain convolution
    input_group: Group | None  # the input maps' group; None for planar input
    bias: float

    @property
    def output_labels(self) -> list[str]:
        """Column titles: ``0°``, ``90°``, … (``m0°``… for p4m); ``""`` for a plain layer."""
        return [self.group.label(g) for g in self.group.elements] if self.group else [""]

    @property
    def input_labels(self) -> list[str]:
        if self.input_group is None:
            return [""]
        return [self.input_group.label(s) for s in self.input_group.elements]


@dataclass(frozen=True)
class LayerParameters:
    layer: str
    params: int  # weights + biases the layer stores
    plain_params: int  # a plain conv making the same number of maps from the same maps
    maps_in: int  # input maps (channels × orientations)
    maps_out: int  # output maps (channels × orientations)

    @property
    def ratio(self) -> float:
        return self.plain_params / self.params


def conv_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The model's convolutions by the name of the layer they make: l1 … l6, top."""
    if not isinstance(model, nn.Module):
        raise AnalysisError(f"model must be a gcnn-viewer model, not {type(model).__name__}")
    if callable(getattr(model, "skipped_lines", None)):  # a user's own model (UserModel)
        return _own_conv_layers(model)
    convs = getattr(model, "convs", None)
    top = getattr(model, "top", None)
    if convs is None or top is None:
        raise AnalysisError(f"{type(model).__name__} has no convolution layers to show")
    layers = {HIDDEN_LAYERS[i]: conv for i, conv in enumerate(convs)}
    layers["top"] = top
    return layers


def _own_conv_layers(model: nn.Module) -> dict[str, nn.Module]:
    """A user's model's layers that are, or hold exactly one, plain 2-D convolution or group
    convolution of ours; of any other layer the Filters view cannot show the filters."""
    named = dict(model.module.named_modules())
    layers = {}
    for record in model.layer_records():
        module = named.get(record.name.partition("#")[0])  # relu#2: the module relu
        convs = (nn.Conv2d, GroupConv)
        inside = [m for m in module.modules() if isinstance(m, convs)] if module is not None else []
        if len(inside) == 1:  # the layer is a convolution, or a block holding one (conv-BN-ReLU)
            layers[record.name] = inside[0]
    if not layers:
        raise AnalysisError(
            f"{model.name}: the Filters view cannot show its layers' filters (none of its "
            "layers is or holds one torch nn.Conv2d or gcnn-viewer group convolution)"
        )
    return layers


def _conv(model: nn.Module, layer: str) -> nn.Module:
    layers = conv_layers(model)
    if not isinstance(layer, str):
        raise AnalysisError(f"layer must be a layer's name (text), not {type(layer).__name__}")
    if layer not in layers:
        name = getattr(model, "name", type(model).__name__)
        own = dict(model.module.named_modules()) if hasattr(model, "skipped_lines") else {}
        if layer in own:  # a user's layer of a type whose filters we cannot show
            raise AnalysisError(
                f"{name}: the Filters view cannot show the filters of {layer} (a "
                f"{type(own[layer]).__name__}); its layers with filters are {' '.join(layers)}"
            )
        raise AnalysisError(
            f"{name} has no convolution layer {layer!r}; its layers with filters are "
            f"{' '.join(layers)}"
        )
    return layers[layer]


def filter_bank(model: nn.Module, layer: str, channel: int) -> FilterBank:
    """The stored filter of output ``channel`` of ``layer`` and the bank the layer applies."""
    conv = _conv(model, layer)
    channel = check_int(channel, "channel", error=AnalysisError)  # 1.5 is not channel 1
    if not 0 <= channel < conv.out_channels:
        raise AnalysisError(f"{layer} has channels 0..{conv.out_channels - 1}, not {channel}")
    with torch.no_grad():
        if isinstance(conv, GroupConv):
            g, c_in, g_in, k = (
                conv.group.order,
                conv.in_channels,
                conv.input_order,
                conv.kernel_size,
            )
            bank, _ = conv.filter_bank()  # [out·G, C_in·G_in, k, k], output channel-major
            expanded = bank.view(conv.out_channels, g, c_in, g_in, k, k)[channel]
            stored = conv.weight[channel]  # [C_in, G_in, k, k]
            group, input_group = conv.group, conv.input_group
        else:  # nn.Conv2d: weight [out, C_in, k, k]
            stored = conv.weight[channel][:, None]  # [C_in, 1, k, k]
            expanded = stored[None]  # [1, C_in, 1, k, k]
            group = input_group = None
        bias = float(conv.bias[channel]) if conv.bias is not None else 0.0
    return FilterBank(
        layer,
        channel,
        stored.detach().cpu().numpy().astype(np.float32),
        expanded.detach().cpu().numpy().astype(np.float32),
        group,
        input_group,
        bias,
    )


def layer_parameters(model: nn.Module, layer: str) -> LayerParameters:
    conv = _conv(model, layer)
    k = conv.kernel_size if isinstance(conv.kernel_size, int) else conv.kernel_size[0]
    if isinstance(conv, GroupConv):
        maps_in = conv.in_channels * conv.input_order
        maps_out = conv.out_channels * conv.group.order
    else:
        maps_in, maps_out = conv.in_channels, conv.out_channels
    params = sum(p.numel() for p in conv.parameters())
    has_bias = conv.bias is not None
    plain = maps_out * maps_in * k * k + (maps_out if has_bias else 0)
    return LayerParameters(layer, int(params), int(plain), int(maps_in), int(maps_out))


def parameter_counts(model: nn.Module) -> list[LayerParameters]:
    """Every convolution layer's stored parameters against a plain CNN with as many maps."""
    return [layer_parameters(model, name) for name in conv_layers(model)]

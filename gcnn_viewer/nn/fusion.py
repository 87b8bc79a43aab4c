"""Inference-time folding of batch-norm (and input normalisation) into a convolution's filters.

In eval mode ``relu(bn(conv(x)))`` equals ``relu(conv'(x))`` with rescaled filters and a
shifted bias; the models use this to halve single-image latency. Exact in real arithmetic,
equal to float rounding in practice (the tests compare both paths).
"""

from __future__ import annotations

import torch
from torch import nn


def tensors_key(*tensors: torch.Tensor | None) -> tuple:
    """Identity and in-place version of each tensor: changes whenever any of them is updated."""
    return tuple(
        None if t is None else (t.data_ptr(), t._version, t.device, t.dtype) for t in tensors
    )


def fold_batch_norm(
    bank: torch.Tensor, bias: torch.Tensor | None, bn: nn.modules.batchnorm._BatchNorm, repeats: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold eval-mode ``bn`` into ``bank`` ``[out·repeats, in, k, k]`` and ``bias``.

    ``repeats`` is the group order G when one BN channel covers G orientation channels.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # [out]
    shift = bn.bias - bn.running_mean * scale
    scale, shift = scale.repeat_interleave(repeats), shift.repeat_interleave(repeats)
    bias = shift if bias is None else bias * scale + shift
    return bank * scale.view(-1, 1, 1, 1), bias


def fold_input_normalisation(
    bank: torch.Tensor, bias: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``conv((x−mean)/std, W) + b == conv(x, W/std) + b − (mean/std)·ΣW`` (exact, no padding)."""
    return bank / std, bias - (mean / std) * bank.sum(dim=(1, 2, 3))

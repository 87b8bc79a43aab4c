"""A layout-aware ``conv2d`` for the expanded filter banks of the group convolutions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# PyTorch sends a single image at least this large (C·H·W) to oneDNN, which is ~1.5x faster
# with channels-last filters; smaller ones go to its direct convolution, fastest in NCHW.
# (Measured on the 2-core dev CPU; the whole-model effect is in benchmarks/bench_p4cnn.py.)
ONEDNN_MIN_ELEMENTS = 20480


def conv2d(
    x: torch.Tensor,
    bank: torch.Tensor,
    bias: torch.Tensor | None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    """``F.conv2d(x, bank, bias)`` for ``x`` ``[B, C, H, W]``, ``bank`` ``[O, C, k, k]``, faster on
    the shapes these networks have. Same values up to float rounding."""
    k = bank.shape[-1]
    if padding == 0 and x.shape[-2] == x.shape[-1] == k:
        # the kernel covers the whole input: one dot product per output, i.e. a matmul,
        # which skips the convolution set-up cost (the networks' top layer)
        # flatten(1), not reshape(B, -1): an empty batch (B = 0) has no -1 to infer
        out = F.linear(x.flatten(1), bank.flatten(1), bias)
        return out[..., None, None]  # [B, O, 1, 1]
    if not bank.requires_grad and x.shape[1:].numel() >= ONEDNN_MIN_ELEMENTS:  # (B may be 0)
        bank = bank.contiguous(memory_format=torch.channels_last)  # inference only: see above
    return F.conv2d(x, bank, bias, stride=stride, padding=padding)

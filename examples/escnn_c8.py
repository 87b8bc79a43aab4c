"""An escnn C8 regular network for 29×29 digits: the group is finer than quarter turns.

Needs escnn (``pip install 'gcnn-viewer[escnn]'``; on Linux a Fortran compiler such as Debian's
``gfortran`` first, and NumPy < 2, see the manual's "Your own model").

Every hidden layer is a stack of *regular* fields of C8, the rotations by multiples of 45°:
each channel has eight orientations, so gcnn-viewer shows it as ``[B, C, 8, H, W]`` maps with
columns 0°, 45°, …, 315°. Turning the digit by 45° turns every map by 45° and cycles the
orientation axis by one; at 90° the maps turn exactly (``rot90``) and the axis moves by two.
45° is not a symmetry of the pixel grid, so there the input is interpolated and the error is
small but not zero; at 90°, 180° and 270° it is float rounding.

Open it in the app::

    gcnn-viewer --model examples/escnn_c8.py:build

Train it::

    gcnn-viewer train --model examples/escnn_c8.py:build --epochs 10 --out runs/escnn_c8.pt

The model takes ``[B, 1, 29, 29]`` pixels in [0, 1] (white digit on black; ``input_size`` below
tells gcnn-viewer to draw the digit into a 29×29 field), normalises them itself and returns
``[B, 10]`` logits. Odd sizes all the way down keep quarter turns exact: 29 → 25 → 13 → 7 → 5
→ 1 (the layout of escnn's own MNIST tutorial, narrower).
"""

from __future__ import annotations

import torch
from escnn import gspaces
from escnn import nn as enn

MEAN, STD = 0.13, 0.30  # MNIST's pixel statistics (about); the model normalises its input


def block(
    in_type: enn.FieldType, out_type: enn.FieldType, k: int, pad: int
) -> enn.SequentialModule:
    """Steerable k×k convolution, batch-norm per field, ReLU."""
    return enn.SequentialModule(
        enn.R2Conv(in_type, out_type, kernel_size=k, padding=pad, bias=False),
        enn.InnerBatchNorm(out_type),
        enn.ReLU(out_type, inplace=True),
    )


class C8Net(torch.nn.Module):
    """mask → block1 (29→25) → block2 → pool1 (→13) → block3 → block4 → pool2 (→7) → block5
    (→5) → pool3 (→1) → gpool (max over the 8 orientations: invariant) → head (10 logits)."""

    input_size = 29  # the app draws the digit into a 29×29 field

    def __init__(self, width: int = 4, classes: int = 10, rotations: int = 8) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))
        r2 = gspaces.rot2dOnR2(N=rotations)
        self.input_type = enn.FieldType(r2, [r2.trivial_repr])

        def regular(n: int) -> enn.FieldType:
            return enn.FieldType(r2, n * [r2.regular_repr])

        t1, t2, t3 = regular(width), regular(2 * width), regular(4 * width)
        self.mask = enn.MaskModule(self.input_type, 29, margin=1)
        self.block1 = block(self.input_type, t1, 7, 1)  # 29 → 25
        self.block2 = block(t1, t2, 5, 2)
        self.pool1 = enn.PointwiseAvgPoolAntialiased(t2, sigma=0.66, stride=2)  # → 13
        self.block3 = block(t2, t2, 5, 2)
        self.block4 = block(t2, t3, 5, 2)
        self.pool2 = enn.PointwiseAvgPoolAntialiased(t3, sigma=0.66, stride=2)  # → 7
        self.block5 = block(t3, t3, 3, 0)  # → 5
        self.pool3 = enn.PointwiseAvgPool(t3, kernel_size=5)  # → 1
        self.gpool = enn.GroupPooling(t3)  # 4·width trivial fields: rotation invariant
        out_type = enn.FieldType(r2, classes * [r2.trivial_repr])
        self.head = enn.R2Conv(self.gpool.out_type, out_type, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = enn.GeometricTensor((x - self.mean) / self.std, self.input_type)
        x = self.mask(x)
        x = self.pool1(self.block2(self.block1(x)))
        x = self.pool2(self.block4(self.block3(x)))
        x = self.gpool(self.pool3(self.block5(x)))
        return self.head(x).tensor.flatten(1)


def build() -> C8Net:
    """The C8 network, 4 regular fields wide at first (32,346 trained parameters; the app
    counts 33,187 with escnn's fixed input mask), freshly initialised."""
    return C8Net()


def build_c4() -> C8Net:
    """The same network for C4 (p4: quarter turns only), to compare side by side:
    ``gcnn-viewer --model examples/escnn_c8.py:build examples/escnn_c8.py:build_c4``."""
    return C8Net(rotations=4)

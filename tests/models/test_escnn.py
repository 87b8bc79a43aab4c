"""escnn models in gcnn-viewer (issue 22 §2, §4): GeometricTensors converted to our layout
with a group whose action is escnn's own ``transform``, and the C8 example through
``gcnn-viewer analyse equivariance``.

These run where escnn is importable (``pip install 'gcnn-viewer[escnn]'``: a Fortran compiler
and NumPy < 2; docs/own-model.md) and skip with that reason elsewhere."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

pytest.importorskip(
    "escnn",
    reason="escnn is not installed: pip install 'gcnn-viewer[escnn]' (needs gfortran, numpy<2)",
)

from escnn import gspaces  # noqa: E402
from escnn import nn as enn  # noqa: E402

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE  # noqa: E402
from gcnn_viewer.group import P4, P4M, cyclic, dihedral  # noqa: E402
from gcnn_viewer.models.escnn_support import convert, match_group  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "escnn_c8.py"

SPACES = {
    "C4": lambda: gspaces.rot2dOnR2(4),
    "C8": lambda: gspaces.rot2dOnR2(8),
    "C16": lambda: gspaces.rot2dOnR2(16),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "D8": lambda: gspaces.flipRot2dOnR2(8),
    "D8-axis0": lambda: gspaces.flipRot2dOnR2(8, axis=0.0),
}


def smooth_fields(channels: int, size: int = 25) -> torch.Tensor:
    """``[1, channels, size, size]`` float64: three Gaussian bumps per channel, smooth enough
    that interpolating a turn costs little, so escnn's and our interpolation can be compared."""
    g = torch.Generator().manual_seed(1)
    c = (size - 1) / 2
    yy, xx = torch.meshgrid(
        torch.arange(size, dtype=torch.float64) - c,
        torch.arange(size, dtype=torch.float64) - c,
        indexing="ij",
    )
    params = torch.randn(channels, 3, 3, generator=g, dtype=torch.float64) * 4
    out = torch.zeros(channels, size, size, dtype=torch.float64)
    for i in range(3):
        cy, cx, a = (params[:, i, j, None, None] for j in range(3))
        out += a * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 3.0**2))
    return out[None]


def in_disc(t: torch.Tensor) -> torch.Tensor:
    size = t.shape[-1]
    c = (size - 1) / 2
    r = torch.arange(size, dtype=torch.float64) - c
    return t[..., (r[:, None] ** 2 + r[None, :] ** 2) <= (c - 1.5) ** 2]


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max()).item()


def test_groups_match_ours():
    assert match_group(SPACES["C4"]()).group is P4
    assert match_group(SPACES["D4"]()).group is P4M
    assert match_group(SPACES["C8"]()).group is cyclic(8)
    assert match_group(SPACES["D8-axis0"]()).group is dihedral(8)
    for space in (gspaces.rot2dOnR2(-1), gspaces.flipRot2dOnR2(4, axis=0.3)):
        reason = match_group(space)
        assert isinstance(reason, str) and "\n" not in reason
    assert convert(torch.zeros(1, 2, 3, 3)) is None  # not escnn's: not ours to judge


@pytest.mark.parametrize("key", list(SPACES))
def test_regular_fields_act_as_escnn_transform_for_every_element(key):
    space = SPACES[key]()
    match = match_group(space)
    group = match.group
    field_type = enn.FieldType(space, 3 * [space.regular_repr])
    x = enn.GeometricTensor(smooth_fields(field_type.size), field_type)
    maps, fields = convert(x)
    assert fields["kind"] == "group" and fields["group"] is group
    assert fields["interpolated"] == (key not in ("C4", "D4"))
    assert maps.shape == (1, 3, group.order, 25, 25)
    for g in group.elements:
        element = match.elements[g]
        # the orientation axis: escnn's fibre action, a permutation (escnn multiplies by its
        # matrix: float64 rounding)
        fibres, _ = convert(x.transform_fibers(element))
        assert relative(group.permute_orientations(g, maps), fibres) < 1e-12, group.label(g)
        theirs, _ = convert(x.transform(element))
        ours = group.act_on_group_map(g, maps)
        if group.is_quarter_turn(g):  # both exact: rot90 and a permutation
            assert relative(ours, theirs) < 1e-12, group.label(g)
        else:  # both interpolate the planes (ours bilinear, escnn a quadratic spline)
            assert relative(in_disc(ours), in_disc(theirs)) < 0.05, group.label(g)
    # and not by accident: 45° with the axis rolled the wrong way is far off
    if group.rotations == 8:
        wrong = group.act_on_group_map(group.inverse(1), maps)
        theirs, _ = convert(x.transform(match.elements[1]))
        assert relative(in_disc(wrong), in_disc(theirs)) > 0.3


def test_trivial_fields_are_planar_and_others_components_with_escnn_transform():
    space = gspaces.rot2dOnR2(8)
    trivial = enn.FieldType(space, 2 * [space.trivial_repr])
    maps, fields = convert(enn.GeometricTensor(torch.randn(1, 2, 5, 5), trivial))
    assert fields["kind"] == "planar" and fields["group"] is None and maps.shape == (1, 2, 5, 5)

    mixed = enn.FieldType(space, [space.regular_repr, space.trivial_repr, space.irrep(1)])
    x = enn.GeometricTensor(smooth_fields(mixed.size), mixed)
    maps, fields = convert(x)
    assert fields["kind"] == "components" and fields["group"] is cyclic(8)
    labels = fields["channel_labels"]
    assert labels[:3] == ("0:regular 0°", "0:regular 45°", "0:regular 90°")
    assert labels[8:] == ("1:trivial", "2:irrep_1[0]", "2:irrep_1[1]")
    assert maps.shape == (1, 11, 25, 25)
    transform = fields["transform"]
    match = match_group(space)
    for g in cyclic(8).elements:  # escnn's own transform, by our element
        assert torch.equal(transform(g, maps), x.transform(match.elements[g]).tensor)
        assert torch.equal(transform(g, maps[0]), x.transform(match.elements[g]).tensor[0])


def test_a_vector_field_layer_is_equivariant_under_its_escnn_transform():
    """A layer with irrep outputs: turning the input by a quarter turn transforms the output
    by ``transform`` (its components mix), not by turning the planes alone."""
    space = gspaces.rot2dOnR2(8)
    in_type = enn.FieldType(space, [space.trivial_repr])
    out_type = enn.FieldType(space, 3 * [space.irrep(1)])
    layer = enn.R2Conv(in_type, out_type, kernel_size=5).eval()
    x = torch.randn(1, 1, 15, 15)
    with torch.no_grad():
        y, fields = convert(layer(enn.GeometricTensor(x, in_type)))
        turned, _ = convert(layer(enn.GeometricTensor(torch.rot90(x, 1, (-2, -1)), in_type)))
    transform = fields["transform"]
    assert relative(turned, transform(2, y)) < 1e-5  # element 2 of C8: 90°
    assert relative(turned, torch.rot90(y, 1, (-2, -1))) > 0.1  # planes alone: wrong


def _example_weights(tmp_path: Path, factory: str) -> Path:
    """A seeded state_dict of the example's factory, so every run sees the same network."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("escnn_c8_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    path = tmp_path / f"{factory}.pt"
    torch.save(getattr(module, factory)().state_dict(), path)
    return path


def _analyse(factory: str, weights: Path, capsys) -> dict:
    from gcnn_viewer.cli import main

    argv = [
        "analyse", "equivariance", "--model", f"{EXAMPLE}:{factory}", "--weights", str(weights),
        "--input", "3", "--angles", "0", "90", "45", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


REGULAR = ["block1", "block2", "pool1", "block3", "block4", "pool2", "block5", "pool3"]
LAYERS = ["mask", *REGULAR, "gpool", "head", "logits"]


@pytest.mark.parametrize("factory", ["build", "build_c4"])
def test_example_through_analyse_equivariance(factory, tmp_path, capsys):
    """``gcnn-viewer analyse equivariance --model examples/escnn_c8.py:build``: one entry per
    discovered layer and logits; exact (float32 rounding) at 90° for C8 and C4 regular layers,
    and for C8 small at 45° (interpolation only), where C4 is clearly not equivariant."""
    result = _analyse(factory, _example_weights(tmp_path, factory), capsys)
    errors = result["error"]
    assert list(errors) == LAYERS
    assert result["angles"] == [0.0, 90.0, 45.0]
    for name in LAYERS:
        assert errors[name][0] == 0.0
        assert errors[name][1] <= EXACT_TOLERANCE, (name, errors[name])
    at_45 = [errors[name][2] for name in REGULAR]
    assert all(math.isfinite(e) for e in at_45)
    if factory == "build":
        assert max(at_45) < 0.3, at_45  # measured 0.08-0.21 (the digit's interpolation)
    else:
        assert max(at_45[:5]) > 0.35, at_45  # measured 0.45-0.66: 45° is no element of C4


def test_example_records_say_c8_and_interpolated():
    from gcnn_viewer.models.user import load_user_model

    model = load_user_model(f"{EXAMPLE}:build")
    records = {r.name: r for r in model.layer_records()}
    assert model.input_size == 29 and not model.skipped
    block = records["block1"]
    assert block.kind == "group" and block.group is cyclic(8) and block.interpolated
    assert block.shape == (4, 8, 25, 25)
    assert [block.group.label(g) for g in block.group.elements][:3] == ["0°", "45°", "90°"]
    assert records["gpool"].kind == "planar" and records["logits"].kind == "logits"


def test_the_stabilised_view_of_the_c8_example_stands_still_at_45_degrees(tmp_path):
    """The app's frame pipeline: with the stabilised view on, the C8 example's maps at 45°
    are its maps at 0° up to interpolation (turned back 45°, axis rolled back by one)."""
    import numpy as np

    from gcnn_viewer.group import cyclic
    from gcnn_viewer.viewer.inference import compute_frame
    from gcnn_viewer.viewer.models import ModelCatalog
    from gcnn_viewer.viewer.sources import resolve_input
    from gcnn_viewer.viewer.state import ViewerState

    catalog = ModelCatalog(tmp_path)
    weights = _example_weights(tmp_path, "build")
    entry = catalog.open_user_model(f"{EXAMPLE}:build", weights=weights)
    state = ViewerState(catalog)
    state.set_panel(1, entry.key)
    state.drawing.set_image(resolve_input("3").snapshot.digit.image, "test")

    def block1(angle: float, stabilised: bool) -> np.ndarray:
        state.angle, state.stabilised = angle, stabilised
        return compute_frame(state.frame_request()).panels[1].layers["block1"].data

    upright = torch.from_numpy(block1(0.0, False))  # [4, 8, 25, 25]
    still = torch.from_numpy(block1(45.0, True))
    raw = torch.from_numpy(block1(45.0, False))
    C8 = cyclic(8)
    assert relative(in_disc(still), in_disc(upright)) < 0.25
    # without the roll back by one (planes turned back only) it is far off
    unrolled = C8.act_on_image(7, raw)
    assert relative(in_disc(unrolled), in_disc(upright)) > 2 * relative(
        in_disc(still), in_disc(upright)
    )
    assert relative(torch.from_numpy(block1(90.0, True)), upright) < 1e-5  # exact: rot90, roll 2


class VectorNet(torch.nn.Module):
    """An escnn C8 net whose first layer mixes vector fields (irrep 1), a regular and a
    trivial field: shown as labelled components, turned by escnn's own transform."""

    input_size = 29

    def __init__(self) -> None:
        super().__init__()
        r2 = gspaces.rot2dOnR2(8)
        self.in_type = enn.FieldType(r2, [r2.trivial_repr])
        mixed = enn.FieldType(r2, 2 * [r2.irrep(1)] + [r2.regular_repr, r2.trivial_repr])
        self.conv = enn.R2Conv(self.in_type, mixed, kernel_size=7)  # 29 -> 23
        self.head = torch.nn.Linear(1, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(enn.GeometricTensor(x, self.in_type))
        return self.head(y.tensor.mean(dim=(1, 2, 3))[:, None])


def test_components_layers_are_measured_with_escnn_transform():
    """``gcnn_viewer.analysis.equivariance`` on a net with vector fields: exact at 90° (the
    components mix as escnn says), small at 45°; turning the planes alone would be far off."""
    from gcnn_viewer.analysis.equivariance import equivariance
    from gcnn_viewer.models.user import wrap_model
    from gcnn_viewer.viewer.sources import resolve_input

    model = wrap_model(VectorNet())
    record = {r.name: r for r in model.layer_records()}["conv"]
    assert record.kind == "components" and record.transform is not None
    assert record.channel_labels[:2] == ("0:irrep_1[0]", "0:irrep_1[1]")
    digit = resolve_input("3").snapshot.digit
    errors = equivariance(model, digit, [0, 90, 45])
    assert errors["conv"][0] == 0.0 and errors["conv"][1] < EXACT_TOLERANCE, errors["conv"]
    assert errors["conv"][2] < 0.3, errors["conv"]


def test_rotate_and_cycle_follows_a_c8_map_two_columns_per_quarter_turn(tmp_path):
    """The rotate-and-cycle figure's outline: at 90° a C8 map moves two orientation columns
    (45° each), not one as in p4."""
    from gcnn_viewer.export.common import ViewSpec
    from gcnn_viewer.export.figures import _outlined, _rotate_and_cycle
    from gcnn_viewer.export.render import figure_frames
    from gcnn_viewer.viewer.sources import OwnModelOptions, resolve_input, resolve_models

    weights = str(_example_weights(tmp_path, "build"))
    models = resolve_models([f"{EXAMPLE}:build"], own=OwnModelOptions(weights=(weights,)))
    spec = ViewSpec(models, resolve_input("3"), angles=[0.0, 90.0, 180.0], layers=["block1"])
    rc = _rotate_and_cycle(spec, figure_frames(spec, stabilised=False), "block1")
    block, channel, g = rc.follow
    strip = [channel]
    assert [_outlined(rc, block, strip, r) for r in range(3)] == [g, (g + 2) % 8, (g + 4) % 8]

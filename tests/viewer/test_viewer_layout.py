import numpy as np
import pytest
import torch

from gcnn_viewer.group import P4, P4M
from gcnn_viewer.viewer.layout import (
    GAP_INDEX,
    LayerScale,
    MapPixel,
    as_group_maps,
    best_columns,
    layer_layout,
    stabilise,
)


def test_group_layer_rows_are_channels_and_columns_orientations():
    layout = layer_layout("l1", (10, 4, 26, 26), P4)
    assert (layout.rows, layout.cols, layout.zoom) == (10, 4, 1)
    assert layout.column_labels == ("0°", "90°", "180°", "270°")
    assert layout.row_labels[:3] == ("0", "1", "2")
    p4m = layer_layout("l1", (7, 8, 26, 26), P4M)
    assert p4m.cols == 8 and p4m.column_labels[4:] == ("m0°", "m90°", "m180°", "m270°")
    with pytest.raises(ValueError):
        layer_layout("l1", (10, 4, 26, 26))  # a group layer needs its group


def test_planar_layer_is_a_channel_grid_in_reading_order():
    layout = layer_layout("l1", (20, 26, 26))
    assert (layout.rows, layout.cols) == (5, 4)
    assert layout.column_labels == ("+0", "+1", "+2", "+3")
    assert layout.row_labels == ("0", "4", "8", "12", "16")
    other = layer_layout("l7", (10, 1, 1))  # a planar grid leaves empty cells at the end
    assert (other.rows, other.cols) == (3, 4) and (other.cell_index == -1).sum() == 2


def test_planar_top_layer_is_one_cell_per_class_labelled_by_class():
    top = layer_layout("top", (10, 1, 1))
    assert (top.rows, top.cols) == (10, 1) and (top.cell_index >= 0).all()
    assert top.row_labels == tuple(str(c) for c in range(10))
    assert top.locate(*top.cell_origin(7)) == MapPixel(7, 0, 0, 0)


@pytest.mark.parametrize(
    "shape,group", [((10, 4, 24, 24), P4), ((20, 6, 6), None), ((10, 4, 1, 1), P4)]
)
def test_locate_finds_every_map_pixel(shape, group):
    layout = layer_layout("x", shape, group)
    orientations = shape[1] if group is not None else 1
    for c in range(shape[0]):
        for g in range(orientations):
            top, left = layout.cell_origin(c, g)
            size, z = layout.size, layout.zoom
            y, x = size - 1, size // 2
            hit = layout.locate(top + y * z + z - 1, left + x * z)
            assert hit == MapPixel(c, g, y, x)
    assert layout.locate(layout.cell, 0) is None  # a gap
    assert layout.locate(-1, 0) is None and layout.locate(1e6, 0) is None


def test_render_puts_each_map_in_its_cell_on_the_fixed_scale():
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 2, (10, 4, 6, 6)).astype(np.float32)
    layout = layer_layout("l5", data.shape, P4)
    scale = LayerScale(0.0, 1.0)
    mosaic = layout.render(data, scale)
    assert mosaic.shape == layout.shape and mosaic.dtype == np.uint8
    cell = layout.cell_of(mosaic, 3, 2)
    expected = scale.to_index(data[3, 2]).repeat(layout.zoom, 0).repeat(layout.zoom, 1)
    np.testing.assert_array_equal(cell, expected)
    assert (mosaic[layout.cell : layout.cell + layout.gap] == GAP_INDEX).all()
    assert mosaic[mosaic > 0].min() >= 1


def test_scale_maps_lo_and_hi_to_the_ends_and_clips():
    scale = LayerScale(0.0, 2.0)
    np.testing.assert_array_equal(
        scale.to_index(np.array([-1.0, 0.0, 1.0, 2.0, 5.0])), [1, 1, 128, 255, 255]
    )


def test_stabilise_undoes_the_group_action():
    f = torch.randn(5, 4, 7, 7)
    for r in range(4):
        moved = P4.act_on_group_map(r, f)  # what an equivariant layer gives for rot90(x, r)
        torch.testing.assert_close(stabilise(moved, P4, r), f)
    g = torch.randn(3, 8, 5, 5)
    for r in range(4):
        torch.testing.assert_close(stabilise(P4M.act_on_group_map(r, g), P4M, r), g)
    planar = torch.randn(6, 5, 5)
    torch.testing.assert_close(stabilise(torch.rot90(planar, 3, (-2, -1)), None, 3), planar)
    assert as_group_maps(planar).shape == (6, 1, 5, 5)


def test_best_columns_follows_the_area_shape():
    layer = (100.0, 250.0)  # tall mosaics
    assert best_columns(8, layer, (2000, 400)) == 8
    assert best_columns(8, layer, (400, 2000)) in (1, 2)
    assert best_columns(8, layer, (700, 700)) == 4


def test_stabilise_undoes_the_nearest_element_of_a_finer_group():
    """C8 (issue 22): at 45° the stabilised view turns the maps back 45° and rolls the axis
    back by one; at 90° it is exact; planar maps of a C8 model are turned back 45° too."""
    from gcnn_viewer.group import cyclic, rotate_planes

    C8 = cyclic(8)
    f = torch.randn(3, 8, 9, 9, dtype=torch.float64)
    moved = C8.act_on_group_map(1, f)  # what a C8 layer gives for the digit turned 45°
    back = stabilise(moved, C8, 0, angle=45.0, finest=C8)
    torch.testing.assert_close(back, C8.act_on_group_map(7, moved))  # 7 = 45°⁻¹, exactly
    assert torch.equal(back.argmax(-3), C8.act_on_group_map(7, moved).argmax(-3))
    turned = C8.act_on_group_map(2, f)
    assert torch.equal(stabilise(turned, C8, 1, angle=90.0, finest=C8), f)
    planar = torch.randn(4, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(
        stabilise(planar, None, 0, angle=50.0, finest=C8), rotate_planes(planar, -45.0)
    )
    assert stabilise(planar, None, 0, angle=10.0, finest=C8) is planar  # nearest is 0°
    # p4 keeps its quarter turns whatever the angle argument
    quarter = torch.rot90(planar, -1, dims=(-2, -1))
    assert torch.equal(stabilise(planar, None, 1, angle=45.0, finest=P4), quarter)

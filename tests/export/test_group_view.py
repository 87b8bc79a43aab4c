"""The group view export (kinds ``group-view`` and ``group-animation``), headless: through
``gcnn-viewer export`` and the library, with the provenance, the channel chosen, the planes
that roll between θ and θ + 90°, and one line for a layer with no group to show."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gcnn_viewer.cli import main
from gcnn_viewer.export import ExportError, ViewSpec, render
from gcnn_viewer.export.group_figure import GroupFigure, group_choice
from gcnn_viewer.group.groups import P4


def test_export_figure_group_view_writes_the_channel_asked_for(tmp_path, capsys):
    out = tmp_path / "g.png"
    argv = ["export", "figure", "--group-view", "--model", "z2cnn", "p4cnn"]
    argv += ["--layers", "l3", "--channels", "4", "--dpi", "40", "--out", str(out)]
    assert main(argv) == 0
    with Image.open(out) as im:
        record = json.loads(im.text["gcnn-viewer"])
    assert record["kind"] == "group view" and record["layer"] == "l3"
    assert record["channel"] == 4 and record["angles"] == [0.0, 90.0]  # θ and θ + 90°
    assert "wrote" in capsys.readouterr().out


def test_the_figure_draws_the_planes_rolled_one_step_at_90(models, digit):
    spec = ViewSpec(models, digit, angles=(0, 90), layers=("l2",), channels=(1,))
    frames = render.figure_frames(spec, stabilised=False)
    choice = group_choice(spec, frames[0])
    assert [m.name for m in choice.models] == [models[1].name]  # Z2CNN is planar: left out
    figure = GroupFigure(spec, choice, frames)
    [row] = figure.images
    upright, turned = row
    for g in P4.elements:  # the picture at r·g at 90° is the one at g at 0°, turned
        before = np.asarray(upright[g].get_array())
        after = np.asarray(turned[P4.compose(1, g)].get_array())
        assert np.mean(np.all(after == np.rot90(before), axis=-1)) > 0.99
    assert not np.array_equal(np.asarray(turned[0].get_array()), np.asarray(upright[0].get_array()))


def test_without_a_channel_the_strongest_is_shown(models, digit):
    spec = ViewSpec(models[1:], digit, angles=(0,), layers=("l1",))
    first = render.frame(spec, 0.0, stabilised=False)
    data = first.panel(models[1].name).layers["l1"].data
    norms = [np.linalg.norm(data[c]) for c in range(data.shape[0])]
    assert group_choice(spec, first).channel == int(np.argmax(norms))


def test_export_animation_group_animation_writes_its_frames(tmp_path):
    out = tmp_path / "g.gif"
    argv = ["export", "animation", "--group-animation", "--model", "p4cnn", "--layers", "l1"]
    argv += ["--channels", "0", "--frames", "4", "--dpi", "30", "--out", str(out)]
    assert main(argv) == 0
    with Image.open(out) as im:
        assert im.n_frames == 4
        record = json.loads(im.info["comment"].decode("ascii"))
    assert record["kind"] == "group view animation" and record["channel"] == 0
    assert record["animation_angles"] == [0.0, 90.0, 180.0, 270.0]


def test_a_planar_layer_is_one_line(tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["export", "figure", "--group-view", "--model", "z2cnn", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gcnn-viewer: error: the group view needs a p4 or p4m layer")
    assert "\n" not in err and not out.exists()


def test_a_channel_the_layer_lacks_is_one_line(models, digit, tmp_path):
    spec = ViewSpec(models[1:], digit, layers=("l1",), channels=(10,))
    with pytest.raises(ExportError, match="channels 0..9, not 10"):
        render.export("group-view", spec, tmp_path / "g.svg")

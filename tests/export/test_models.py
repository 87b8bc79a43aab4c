"""The models of an export: two with one name get different data names (never one set of
keys overwriting the other), and an export draws the weights it was made with even when the
app's training run gives the catalog entry new weights meanwhile."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from gcnn_viewer.export import ExportError, ExportModel, ViewSpec, export_data, resolve_models
from gcnn_viewer.export.common import unique_names
from gcnn_viewer.export.render import export_animation, export_sweep
from gcnn_viewer.models.networks import build_model
from gcnn_viewer.viewer.models import ModelCatalog


@pytest.fixture
def p4(models) -> ExportModel:
    return next(m for m in models if m.arch == "p4cnn")


def test_unique_names_gives_a_taken_name_a_suffix(p4):
    twin = ExportModel.from_entry(p4.entry)  # e.g. a P4CNN trained in the app: also "p4cnn"
    assert twin.name == p4.name == "p4cnn"
    left, right = unique_names([p4, twin])
    assert (left.name, right.name) == ("p4cnn", "p4cnn-2")
    assert left is p4 and twin.name == "p4cnn"  # a renamed model is a copy
    assert right.model is twin.model and right.sha256 == twin.sha256
    names = [m.name for m in unique_names([p4, p4, right])]  # "p4cnn-2" is taken too
    assert len(set(names)) == 3 and names[:2] == ["p4cnn", "p4cnn-2"]
    assert [m.name for m in resolve_models(["p4cnn", "p4cnn"])] == ["p4cnn", "p4cnn-2"]


def test_a_view_of_two_models_with_one_name_is_refused_in_one_line(p4, digit):
    with pytest.raises(ExportError) as info:
        ViewSpec([p4, ExportModel.from_entry(p4.entry)], digit)
    assert "p4cnn" in str(info.value) and "\n" not in str(info.value)


def test_two_models_with_one_name_keep_their_own_data(p4, digit, tmp_path):
    twin = ExportModel.from_entry(p4.entry)
    spec = ViewSpec(unique_names([p4, twin]), digit, angles=(0,), layers=("l1",))
    export_data(spec, tmp_path / "maps.npz")
    with np.load(tmp_path / "maps.npz") as data:
        assert {"p4cnn/l1@0", "p4cnn-2/l1@0", "p4cnn/probs@0", "p4cnn-2/probs@0"} <= set(data)
        meta = json.loads(str(data["meta"]))
    assert [m["name"] for m in meta["models"]] == ["p4cnn", "p4cnn-2"]
    export_sweep(spec, tmp_path / "p.csv", step=90)
    with open(tmp_path / "p.csv", newline="") as f:
        header = next(csv.reader(f))
    assert len(header) == len(set(header)) == 1 + 2 * 11


def _seeded(arch: str, seed: int):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(arch).eval()


def test_an_export_keeps_the_weights_it_was_made_with(digit, tmp_path):
    """The app's training run replaces the entry's model at every snapshot (and its colour
    scales at the end): an ExportModel made before draws and records the weights it took."""
    catalog = ModelCatalog(tmp_path / "no-weights")
    entry = catalog.add_model(_seeded("z2cnn", 1), "in training (run)")
    original, scales = entry.model, entry.probe()  # measured, as for the screen
    m = ExportModel.from_entry(entry)
    spec = ViewSpec([m], digit, angles=(0, 37.5), layers=("l1", "top"))
    export_data(spec, tmp_path / "before.npz")
    catalog.update_model(entry.key, _seeded("z2cnn", 2), rescale=True)  # a new snapshot
    assert entry.model is not original and entry.probe() is not scales
    export_data(spec, tmp_path / "after.npz")
    with np.load(tmp_path / "before.npz") as before, np.load(tmp_path / "after.npz") as after:
        assert set(before) == set(after)
        for k in before:
            np.testing.assert_array_equal(after[k], before[k], err_msg=k)
    # the new weights do differ: an export made now shows them
    now = ViewSpec([ExportModel.from_entry(entry)], digit, angles=(0,), layers=("l1",))
    export_data(now, tmp_path / "now.npz")
    with np.load(tmp_path / "now.npz") as new, np.load(tmp_path / "before.npz") as old:
        assert not np.array_equal(new["z2cnn/l1@0"], old["z2cnn/l1@0"])
    assert m.model is original and m.probe is scales


def test_an_animation_does_not_mix_weights_when_the_entry_changes_mid_export(digit, tmp_path):
    catalog = ModelCatalog(tmp_path / "no-weights")
    entry = catalog.add_model(_seeded("z2cnn", 1), "in training (run)")
    entry.probe()
    spec = ViewSpec([ExportModel.from_entry(entry)], digit, layers=("l1",))
    frames = 14  # two forward passes (12 frames each): the second after the snapshots
    export_animation(spec, tmp_path / "steady.gif", frames=frames, dpi=30)

    def snapshot(done: int, total: int) -> None:  # training goes on while the GIF is made
        catalog.update_model(entry.key, _seeded("z2cnn", 10 + done), rescale=True)

    export_animation(spec, tmp_path / "busy.gif", frames=frames, dpi=30, progress=snapshot)
    with Image.open(tmp_path / "steady.gif") as a, Image.open(tmp_path / "busy.gif") as b:
        assert a.n_frames == b.n_frames == frames
        assert a.info["comment"] == b.info["comment"]  # the same sha256 recorded
        for i in range(frames):
            a.seek(i)
            b.seek(i)
            assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))), i

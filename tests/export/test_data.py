"""NPZ data: exactly the keys the contract names, and the maps obey the group's law exactly:
at 90° a P4CNN group map is its 0° map turned 90° and cycled one orientation; stabilised, it
stands still."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gcnn_viewer.data.digits import Digit, rotate_input
from gcnn_viewer.export import ViewSpec, export_data

ATOL = 1e-4  # float32 convolutions of a rotated input: equal up to rounding


def load(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_keys_shapes_and_meta(models, digit, tmp_path):
    out = tmp_path / "maps.npz"
    export_data(ViewSpec(models, digit, angles=(0, 90, 37.5)), out)
    data = load(out)
    x = torch.from_numpy(data["input@0"])[None, None]
    expected = {"meta"}
    for m in models:
        with torch.inference_mode():
            maps = m.entry.model.feature_maps(x)
        for angle in ("0", "90", "37.5"):
            expected.add(f"input@{angle}")
            expected.add(f"{m.name}/probs@{angle}")
            for name, t in maps.items():
                key = f"{m.name}/{name}@{angle}"
                expected.add(key)
                assert data[key].dtype == np.float32
                assert data[key].shape == tuple(t.shape[1:])  # batch axis removed
        assert data[f"{m.name}/l1@0"].ndim == (4 if m.entry.arch == "p4cnn" else 3)
        np.testing.assert_allclose(data[f"{m.name}/probs@90"].sum(), 1.0, atol=1e-5)
    assert set(data) == expected
    assert data["input@0"].shape == (28, 28)
    meta = json.loads(str(data["meta"]))
    assert meta["angles"] == [0.0, 90.0, 37.5] and meta["stabilised"] is False
    assert [m["sha256"] for m in meta["models"]] == [m.sha256 for m in models]
    assert meta["input"] == "synthetic 7" and meta["software"].startswith("gcnn-viewer ")


def test_maps_are_the_models_own(models, digit, tmp_path):
    """The maps written are the model's feature maps of the written input, unaltered."""
    out = tmp_path / "m.npz"
    export_data(ViewSpec(models, digit, angles=(37.5,)), out)
    data = load(out)
    x = torch.from_numpy(data["input@37.5"])[None, None]
    for m in models:
        with torch.inference_mode():
            maps = m.entry.model.feature_maps(x)
        for name, t in maps.items():
            np.testing.assert_allclose(data[f"{m.name}/{name}@37.5"], t[0].numpy(), atol=1e-5)


def test_quarter_turns_are_exactly_rot90(models, digit, tmp_path):
    """θ counter-clockwise; at multiples of 90° exactly torch.rot90 of the 0° input."""
    out = tmp_path / "r.npz"
    export_data(ViewSpec(models[:1], digit, angles=(0, 90, 180, 270)), out)
    data = load(out)
    x0 = torch.from_numpy(data["input@0"])
    for k in (1, 2, 3):
        turned = torch.rot90(x0, k, dims=(-2, -1)).numpy()
        assert np.array_equal(data[f"input@{90 * k}"], turned)
    # the project's rotate function, on which the exporter relies, does this for any digit
    pixels = np.random.default_rng(0).random((112, 112), dtype=np.float32)
    d = Digit(pixels, 4)
    assert np.array_equal(rotate_input(d, 90), np.rot90(d.image, 1))
    assert rotate_input(d, 90)[0, -1] == d.image[-1, -1]  # counter-clockwise: right -> top


def test_p4cnn_rotates_and_cycles_exactly(models, digit, tmp_path):
    """f(rot90 x) == roll(rot90(f(x)), 1, dim=orientation) for every P4CNN group layer."""
    out = tmp_path / "p4.npz"
    p4 = next(m for m in models if m.entry.arch == "p4cnn")
    export_data(ViewSpec([p4], digit, angles=(0, 90)), out)
    data = load(out)
    group_layers = [k for k in data if k.startswith(f"{p4.name}/") and k.endswith("@0")]
    group_layers = [k for k in group_layers if data[k].ndim == 4]
    assert len(group_layers) == 8  # l1..l6, pool, top
    for key in group_layers:
        f0 = torch.from_numpy(data[key])  # [C, 4, H, W]
        f90 = torch.from_numpy(data[key.replace("@0", "@90")])
        expected = torch.roll(torch.rot90(f0, 1, dims=(-2, -1)), 1, dims=1)
        scale = max(1.0, float(f0.abs().max()))
        torch.testing.assert_close(f90, expected, atol=ATOL * scale, rtol=0)
    # the prediction is invariant
    np.testing.assert_allclose(data[f"{p4.name}/probs@0"], data[f"{p4.name}/probs@90"], atol=1e-5)


def test_z2cnn_does_not_cycle(models, digit, tmp_path):
    """The plain CNN is the control: its maps at 90° are not its 0° maps turned."""
    out = tmp_path / "z2.npz"
    z2 = next(m for m in models if m.entry.arch == "z2cnn")
    export_data(ViewSpec([z2], digit, angles=(0, 90)), out)
    data = load(out)
    f0, f90 = data[f"{z2.name}/l2@0"], data[f"{z2.name}/l2@90"]
    assert np.abs(f90 - np.rot90(f0, 1, axes=(-2, -1))).max() > 0.1


@pytest.mark.parametrize("arch", ["p4cnn", "p4mcnn"])
def test_stabilised_maps_stand_still(digit, tmp_path, arch):
    """Stabilised: a group model's maps at 90°, 180°, 270° equal its maps at 0°."""
    from gcnn_viewer.export import resolve_models

    (model,) = resolve_models([arch])
    out = tmp_path / "s.npz"
    export_data(ViewSpec([model], digit, angles=(0, 90, 180, 270), stabilised=True), out)
    data = load(out)
    assert json.loads(str(data["meta"]))["stabilised"] is True
    keys = [k for k in data if k.startswith(f"{model.name}/") and k.endswith("@0")]
    assert len(keys) == 10  # 8 layers, logits, probs
    for key in keys:
        ref = data[key]
        scale = max(1.0, float(np.abs(ref).max()))
        for angle in ("90", "180", "270"):
            np.testing.assert_allclose(
                data[key.replace("@0", f"@{angle}")], ref, atol=ATOL * scale, rtol=0
            )


def test_same_model_twice_gets_two_names(digit, tmp_path):
    from gcnn_viewer.export import resolve_models

    a, b = resolve_models(["p4cnn", "p4cnn"])
    assert a.name != b.name
    out = tmp_path / "twice.npz"
    export_data(ViewSpec([a, b], digit, angles=(0,)), out)
    data = load(out)
    np.testing.assert_array_equal(data[f"{a.name}/l1@0"], data[f"{b.name}/l1@0"])


def test_checkpoint_is_named_by_its_file(digit, tmp_path):
    """``M`` may be a checkpoint path; its data keys use the file's stem."""
    from gcnn_viewer.export import resolve_models
    from gcnn_viewer.models import build_model
    from gcnn_viewer.training.checkpoint import save_checkpoint

    torch.manual_seed(3)
    model = build_model("p4cnn")
    path = save_checkpoint(
        tmp_path / "my-run.pt", {"model_config": model.config, "state_dict": model.state_dict()}
    )
    (m,) = resolve_models([str(path)])
    assert m.name == "my-run" and m.entry.arch == "p4cnn"
    out = tmp_path / "ck.npz"
    export_data(ViewSpec([m], digit, angles=(0,)), out)
    data = load(out)
    assert "my-run/l1@0" in data
    meta = json.loads(str(data["meta"]))
    import hashlib

    assert meta["models"][0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_batched_frames_match_the_apps_frames(models, digit):
    """Animations compute many angles per forward pass; the maps equal the app's frames."""
    from gcnn_viewer.export.common import frame, frame_stream

    spec = ViewSpec(models, digit, angles=(0,), stabilised=True)
    angles = [0.0, 37.5, 90.0, 200.0]
    for batched, angle in zip(frame_stream(spec, angles, chunk=3), angles, strict=True):
        single = frame(spec, angle)
        assert batched.turns == single.turns and batched.angle == angle
        np.testing.assert_array_equal(batched.input, single.input)
        for m in models:
            a, b = batched.panel(m.name), single.panel(m.name)
            np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)
            for name, layer in a.layers.items():
                np.testing.assert_allclose(layer.data, b.layers[name].data, atol=1e-4)

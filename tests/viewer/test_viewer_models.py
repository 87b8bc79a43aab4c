import numpy as np
import pytest
import torch

from gcnn_viewer.models import build_model
from gcnn_viewer.models.record import CheckpointRecord
from gcnn_viewer.models.registry import model_names
from gcnn_viewer.models.train_config import TrainConfig
from gcnn_viewer.training.checkpoint import CheckpointError
from gcnn_viewer.viewer.models import (
    ModelCatalog,
    describe_checkpoint,
    level_inputs,
    sample_digits,
    sample_title,
)

from .conftest import save_model


def test_missing_weights_give_clearly_labelled_untrained_models(tmp_path):
    catalog = ModelCatalog(tmp_path)
    assert [e.arch for e in catalog] == list(model_names())
    assert all(e.source == "untrained" and not e.trained for e in catalog)
    assert all("UNTRAINED" in e.label for e in catalog)
    assert catalog.defaults() == ("untrained:z2cnn", "untrained:p4cnn")
    entry = catalog.load("untrained:p4cnn")
    assert "untrained" in entry.detail and "random weights" in entry.detail


def test_find_names_the_models_for_an_unknown_one(tmp_path):
    catalog = ModelCatalog(tmp_path)
    assert catalog.find("p4cnn").key == "untrained:p4cnn"
    with pytest.raises(KeyError, match="'vgg' is not a model; models: z2cnn"):
        catalog.find("vgg")


def test_defaults_prefer_z2cnn_vs_p4cnn(tmp_path, weights_dir):
    assert ModelCatalog(weights_dir).defaults() == ("untrained:z2cnn", "shipped:p4cnn")
    save_model(weights_dir / "z2cnn.pt", "z2cnn")
    assert ModelCatalog(weights_dir).defaults() == ("shipped:z2cnn", "shipped:p4cnn")


def test_defaults_take_another_trained_model_when_z2cnn_has_none(weights_dir):
    save_model(weights_dir / "p4cnn_rotpool.pt", "p4cnn_rotpool")
    assert ModelCatalog(weights_dir).defaults() == ("shipped:p4cnn_rotpool", "shipped:p4cnn")


def test_untrained_models_are_seeded_and_leave_the_global_rng_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = ModelCatalog(tmp_path).load("untrained:z2cnn").model
    b = ModelCatalog(tmp_path).load("untrained:z2cnn").model
    torch.testing.assert_close(torch.rand(3), expected)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb)


def test_corrupt_shipped_weights_fall_back_to_untrained(weights_dir):
    (weights_dir / "z2cnn.pt").write_bytes(b"garbage")
    catalog = ModelCatalog(weights_dir)
    entry = catalog.load("shipped:z2cnn")
    assert not entry.trained and entry.source == "untrained"
    assert "not a readable checkpoint" in entry.error


def test_shipped_weights_describe_their_test_error(catalog):
    entry = catalog.load("shipped:p4cnn")
    assert entry.trained and "test error" in entry.detail and entry.parameters == 24_680


def test_open_checkpoint_adds_or_reloads(tmp_path, weights_dir):
    catalog = ModelCatalog(weights_dir)
    added = []
    catalog.added.connect(added.append)
    path = save_model(tmp_path / "run.pt", "p4cnn_rotpool")
    entry = catalog.open_checkpoint(path)
    assert entry.key == f"file:{path.resolve()}" and entry.arch == "p4cnn_rotpool"
    assert entry.trained and entry.label == "P4CNN-RotationPooling — run.pt" and added == [entry]
    assert catalog.get(entry.key) is entry
    changed = []
    catalog.changed.connect(changed.append)
    save_model(path, "p4cnn_rotpool", seed=1)  # retrained meanwhile
    again = catalog.open_checkpoint(path)
    assert again is entry and len(catalog) == len(model_names()) + 1 and changed == [entry]


def test_update_model_swaps_weights_and_keeps_scales_when_asked(tmp_path):
    """The seam for following a model while it trains: new weights, same colour scales."""
    catalog = ModelCatalog(tmp_path)
    entry = catalog.load("untrained:p4cnn")
    probe = entry.probe()
    changed = []
    catalog.changed.connect(changed.append)
    torch.manual_seed(3)
    snapshot = build_model("p4cnn")
    catalog.update_model(entry.key, snapshot, "epoch 1", rescale=False)
    assert entry.model is snapshot and entry.probe() is probe and entry.detail == "epoch 1"
    catalog.update_model(entry.key, build_model("p4cnn"))
    assert entry.probe() is not probe and changed == [entry, entry]
    with pytest.raises(ValueError, match="not a z2cnn"):
        catalog.update_model(entry.key, build_model("z2cnn"))
    added = catalog.add_model(build_model("z2cnn"), "trained in the app", "3 epochs")
    assert added.trained and catalog.get(added.key) is added and "trained in the app" in added.label


@pytest.mark.parametrize(
    "content,message",
    [
        (b"garbage", "not a readable checkpoint"),
        ({"weights": 1}, "foreign file"),
    ],
)
def test_bad_checkpoints_raise_one_line_and_change_nothing(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    catalog = ModelCatalog(tmp_path)
    with pytest.raises(CheckpointError, match=message) as info:
        catalog.open_checkpoint(path)
    assert "\n" not in str(info.value) and len(catalog) == len(model_names())


def test_mismatched_checkpoint_is_refused(tmp_path):
    model_path = save_model(tmp_path / "z.pt", "z2cnn")
    record = torch.load(model_path, weights_only=True)
    record["model_config"] = {"name": "p4cnn", "channels": 10}  # weights of another model
    torch.save(record, model_path)
    with pytest.raises(CheckpointError, match="do not match"):
        ModelCatalog(tmp_path).open_checkpoint(model_path)


def test_probe_gives_a_layout_and_fixed_scale_per_layer(catalog):
    probe = catalog.load("shipped:p4cnn").probe()
    assert probe.layers == ("l1", "l2", "pool", "l3", "l4", "l5", "l6", "top")
    for name in probe.layers:
        scale = probe.scales[name]
        assert scale.lo < scale.hi and np.isfinite([scale.lo, scale.hi]).all()
    assert probe.scales["l1"].lo == 0.0 and not probe.scales["l1"].diverging
    assert probe.scales["top"].diverging and probe.scales["top"].lo == -probe.scales["top"].hi
    assert probe.layouts["l1"].cols == 4


def test_samples_are_shipped_mnist_test_digits():
    samples = dict(sample_digits())
    assert "7-mnist-test-00000" in samples and len(samples) >= 5
    for pixels in samples.values():
        assert pixels.shape == (28, 28) and pixels.max() == pytest.approx(1.0)
    assert sample_title("7-mnist-test-00000") == "7 (MNIST test #0)"
    assert level_inputs().shape == (8 * len(samples), 28, 28)
    assert level_inputs([]).shape == (8, 28, 28)  # no samples: a ring


def test_describe_checkpoint():
    weights = {"name": "p4cnn"}
    done = CheckpointRecord(weights, {}, metrics={"final": {"test_error": 0.0228, "n_test": 50000}})
    assert describe_checkpoint(done, "shipped") == (
        "shipped · test error 2.28% (50,000 regenerated MNIST-rot test digits)"
    )
    partial = CheckpointRecord(
        weights,
        {},
        complete=False,
        train_config=TrainConfig(model="p4cnn", epochs=100),
        metrics={"history": [{"epoch": 12}]},
    )
    assert describe_checkpoint(partial, "x") == "x · partly trained (epoch 12/100)"

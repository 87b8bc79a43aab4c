from dataclasses import replace

from gcnn_viewer.training import TrainConfig, Trainer
from gcnn_viewer.training.reproduce import data_label, markdown_table, summarise
from tests.training.conftest import tiny_datasets


def test_runs_on_another_mnist_rot_variant_get_their_own_row(tmp_path):
    standard = tiny_datasets()
    standard.description["spec"] = {"supersample": 1, "interpolation": "bicubic"}
    variant = replace(
        tiny_datasets(seed=1),
        description={
            "content_hash": "tiny-1",
            "spec": {"supersample": 4, "interpolation": "bicubic"},
        },
    )
    for seed, data in enumerate((standard, standard, variant)):
        config = TrainConfig(model="p4cnn", epochs=1, seed=seed, device="cpu")
        list(Trainer(config, data, checkpoint_path=tmp_path / f"p4cnn-seed{seed}.pt").run())
    rows = summarise(tmp_path)["rows"]
    assert [(r["data"], r["seeds"]) for r in rows] == [
        ("", [0, 1]),
        ("MNIST-rot, bicubic rotation at 4× resolution", [2]),
    ]
    table = markdown_table({"rows": rows})
    assert "| P4CNN | custom | 1 | 2 |" in table
    assert "| P4CNN | custom, MNIST-rot, bicubic rotation at 4× resolution | 1 | 1 |" in table


def test_data_label_names_only_variants():
    assert (
        data_label(None) == "" and data_label({"supersample": 1, "interpolation": "bicubic"}) == ""
    )
    assert data_label({"supersample": 1, "interpolation": "bilinear"}) == (
        "MNIST-rot, bilinear rotation"
    )

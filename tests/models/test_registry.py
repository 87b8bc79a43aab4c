"""The model registry (gcnn_viewer.models.registry) is the one list: every consumer — the
networks, the command line, the reproduction table, the viewer's catalog, the checkpoint
reader, the shipped weights — covers every registered model, and a model registered later
(a fifth one) is either covered or refused in one line, never half-working."""

import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

import gcnn_viewer
from gcnn_viewer.cli import build_parser, main
from gcnn_viewer.errors import ConfigError
from gcnn_viewer.group import P4, P4M
from gcnn_viewer.models.networks import NETWORKS, P4CNN, build_model
from gcnn_viewer.models.pretrained import load_pretrained, pretrained_path
from gcnn_viewer.models.record import CheckpointRecord, read_record
from gcnn_viewer.models.registry import (
    ModelSpec,
    is_model,
    model_names,
    model_spec,
    model_specs,
    register,
    table_models,
    unregister,
)
from gcnn_viewer.models.train_config import TrainConfig, train_option
from gcnn_viewer.training import reproduce
from gcnn_viewer.training.checkpoint import save_checkpoint
from gcnn_viewer.viewer.models import ModelCatalog

GROUPS = {"planar": None, "p4": P4, "p4m": P4M}
PACKAGE = Path(gcnn_viewer.__file__).parent


def one_line(text: str) -> bool:
    return "\n" not in text.strip()


# -- every consumer covers every model ---------------------------------------------------------
def test_the_networks_and_the_registry_name_the_same_models():
    assert set(NETWORKS) == set(model_names())
    assert len(model_names()) == len(set(model_names())) == len(model_specs())


@pytest.mark.parametrize("name", model_names())
def test_build_model_builds_each_model_of_its_kind(name):
    spec = model_spec(name)
    model = build_model(name)
    assert model.name == name and type(model) is NETWORKS[name]
    assert model.group is GROUPS[spec.kind]
    # what a checkpoint records is exactly what the registry lets the reader accept
    config = dict(model.config)
    assert config.pop("name") == name
    assert set(config) == set(spec.arguments)
    assert all(isinstance(value, spec.arguments[key]) for key, value in config.items())


def test_the_command_line_offers_every_model(capsys):
    parser = build_parser()
    for name in model_names():
        assert parser.parse_args(["train", "--model", name]).model == name
        assert parser.parse_args(["evaluate", name]).target == name
    args = parser.parse_args(["reproduce", "--models", *model_names()])
    assert args.models == list(model_names())
    assert parser.parse_args(["reproduce"]).models == list(table_models())
    # export and analyse name them in their help
    for command in (["export", "figure"], ["analyse", "equivariance"], ["analyse", "filters"]):
        assert main([*command, "--help"]) == 0
        shown = capsys.readouterr().out
        assert all(name in shown for name in model_names()), command


def test_the_command_line_refuses_an_unknown_model_in_one_line(capsys):
    parser = build_parser()
    for argv in (["train", "--model", "vgg"], ["reproduce", "--models", "vgg"]):
        with pytest.raises(SystemExit) as excinfo:
            parser.parse_args(argv)
        err = capsys.readouterr().err
        assert excinfo.value.code == 2 and one_line(err) and "'vgg'" in err
        assert all(name in err for name in model_names())


def test_table_1_models_in_the_paper_order_with_its_numbers():
    assert table_models() == ("z2cnn", "p4cnn_rotpool", "p4cnn")  # Table 1's rows
    for name in table_models():
        spec = model_spec(name)
        assert spec.paper_error is not None and spec.poster_error is not None, name


def _write_finished_run(path: Path, name: str, seed: int, error: float) -> None:
    """A real checkpoint file of a finished faithful run (untrained weights: summarise reads
    only the record), written by the package's own writer and read back by read_run."""
    record = CheckpointRecord.from_model(
        build_model(name),
        train_config=TrainConfig(model=name, seed=seed),
        protocol="faithful",
        data={"name": "MNIST-rot", "content_hash": "h"},
        metrics={
            "history": [{"epoch": 1, "loss": 1.0, "error": 0.5}],
            "final": {
                "test_error": error,
                "n_test": 50_000,
                "elapsed": 60.0,
                "bn_recalibration": "paper",
            },
        },
        complete=True,
        versions={"gcnn_viewer": "x"},
    )
    save_checkpoint(path, record)


def summary_of(names, tmp_path):
    """reproduce.summarise and markdown_table over two finished seeds of each model, read
    from real checkpoint files in ``tmp_path``."""
    tmp_path.mkdir(exist_ok=True)
    for name in names:
        for seed, error in ((0, 0.02), (1, 0.04)):
            _write_finished_run(reproduce.run_path(tmp_path, name, seed), name, seed, error)
    summary = reproduce.summarise(tmp_path, list(names))
    return summary, reproduce.markdown_table(summary)


def test_the_reproduce_table_knows_every_table_model(tmp_path, monkeypatch):
    summary, table = summary_of(table_models(), tmp_path)
    assert [row["model"] for row in summary["rows"]] == list(table_models())
    for row in summary["rows"]:
        spec = model_spec(row["model"])
        assert (row["paper"], row["poster"]) == (spec.paper_error, spec.poster_error)
        assert row["mean"] == pytest.approx(3.0)
        line = f"| {spec.title} | faithful | {spec.paper_epochs} | 2 | 3.00 ± 1.41 | 2.00, 4.00 |"
        assert f"{line} {spec.paper_error:.2f} | {spec.poster_error:.2f} |" in table


def test_the_catalog_lists_every_model_with_the_registry_title(tmp_path):
    shipped = ModelCatalog()  # the installed weights: every model ships trained
    assert [e.arch for e in shipped] == list(model_names())
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / model_spec("p4cnn").weights_file).write_bytes(pretrained_path("p4cnn").read_bytes())
    partial = ModelCatalog(folder)  # only P4CNN's weights: the rest are untrained stand-ins
    for name in model_names():
        spec = model_spec(name)
        entry = shipped.find(name)
        assert entry.source == "shipped" and entry.trained and entry.key == f"shipped:{name}"
        assert entry.title == spec.title and entry.kind == spec.description
        assert entry.label.startswith(f"{spec.title} — trained")
        stand_in = partial.find(name)
        expected = "shipped" if name == "p4cnn" else "untrained"
        assert stand_in.source == expected and stand_in.title == spec.title
    untrained = partial.load("untrained:z2cnn")
    assert untrained.model.name == "z2cnn" and "UNTRAINED" in untrained.label


@pytest.mark.parametrize("name", model_names())
def test_each_model_ships_its_weights_file(name):
    path = pretrained_path(name)
    assert path.name == model_spec(name).weights_file == f"{name}.pt"
    assert path.is_file(), f"{path} is not shipped"
    assert read_record(path).name == name  # the file holds that model, validated


def test_unknown_names_are_one_line_errors_everywhere():
    assert not is_model("vgg") and not is_model(None) and not is_model(["p4cnn"])
    for call in (
        lambda: model_spec("vgg"),
        lambda: build_model("vgg"),
        lambda: TrainConfig(model="vgg"),
        lambda: pretrained_path("vgg"),
    ):
        with pytest.raises(ConfigError) as excinfo:
            call()
        message = str(excinfo.value)
        assert one_line(message) and "'vgg'" in message and "p4cnn_rotpool" in message


def test_one_name_per_model_no_p4cnn_rp_in_the_package():
    found = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "P4CNN-RP" in path.read_text(encoding="utf-8")
    ]
    assert found == []


# -- a fifth model -----------------------------------------------------------------------------
FIFTH = ModelSpec(
    name="p4cnn_wide",
    title="P4CNN-Wide",
    kind="p4",
    description="p4, wider",
    paper_epochs=7,
    paper_error=None,
    poster_error=None,
    table_row=None,
    arguments={"channels": int},
)


class P4CNNWide(P4CNN):
    name = "p4cnn_wide"

    def __init__(self, channels: int = 6) -> None:
        super().__init__(channels)


@pytest.fixture
def fifth_spec():
    """FIFTH in the registry for one test (its network is up to the test)."""
    register(FIFTH)
    try:
        yield FIFTH
    finally:
        unregister(FIFTH.name)
    assert not is_model(FIFTH.name)


@pytest.fixture
def fifth(fifth_spec, monkeypatch):
    """A fifth model added the documented way: a ModelSpec and its network class."""
    monkeypatch.setitem(NETWORKS, FIFTH.name, P4CNNWide)
    return fifth_spec


def test_a_fifth_model_is_offered_by_every_consumer(fifth, tmp_path, monkeypatch, capsys):
    name = fifth.name
    assert model_names()[-1] == name and name not in table_models()
    # training: its own paper epochs (no fallback to another model's), in the options
    assert TrainConfig(model=name).epochs == 7 and TrainConfig(model=name).protocol == "faithful"
    assert name in train_option("model").choices and "7 p4cnn_wide" in train_option("epochs").help
    # the command line, built now, offers it
    parser = build_parser()
    assert parser.parse_args(["train", "--model", name]).model == name
    assert parser.parse_args(["reproduce", "--models", name]).models == [name]
    assert parser.parse_args(["reproduce"]).models == list(table_models())
    for command in (["export", "figure"], ["analyse", "accuracy"]):
        main([*command, "--help"])
        assert name in capsys.readouterr().out
    # the network, and the checkpoint round trip (its arguments come from the spec)
    model = build_model(name)
    assert model.group is P4 and model.config == {"name": name, "channels": 6}
    record = CheckpointRecord.from_dict(CheckpointRecord.from_model(model).to_dict())
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert_close(record.build_model()(x), model.eval()(x), rtol=0, atol=0)
    # the viewer: an untrained stand-in with the registry's title (no weights ship for it)
    entry = ModelCatalog(tmp_path).find(name)
    assert entry.source == "untrained" and entry.title == "P4CNN-Wide"
    assert entry.label == "P4CNN-Wide — UNTRAINED, random weights (p4, wider)"
    assert entry.model.name == name and fifth.weights_file in entry.detail
    # the reproduce table: its title, and "–" where the paper has no number
    summary, table = summary_of([name], tmp_path / "runs")
    assert summary["rows"][0]["paper"] is None
    assert "| P4CNN-Wide | faithful | 7 | 2 | 3.00 ± 1.41 | 2.00, 4.00 | – | – |" in table


def test_a_fifth_model_without_shipped_weights_is_refused_in_one_line(fifth, capsys):
    with pytest.raises(FileNotFoundError) as excinfo:
        load_pretrained(fifth.name)
    assert excinfo.value.filename == str(pretrained_path(fifth.name))
    assert main(["evaluate", fifth.name, "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and err.startswith("gcnn-viewer: error: ") and "p4cnn_wide.pt" in err


def test_a_fifth_model_without_a_network_is_refused_in_one_line(fifth_spec):
    assert set(NETWORKS) != set(model_names())  # what the agreement test above catches
    with pytest.raises(LookupError) as excinfo:
        build_model(fifth_spec.name)
    assert one_line(str(excinfo.value)) and "no network class" in str(excinfo.value)
    with pytest.raises(LookupError):  # the catalog's stand-in cannot be built either
        ModelCatalog().find(fifth_spec.name).model  # noqa: B018


def test_registering_a_name_twice_is_refused(fifth):
    with pytest.raises(ValueError, match="registered already"):
        register(FIFTH)


# -- import-light ------------------------------------------------------------------------------
def test_the_registry_and_the_command_line_parser_import_without_torch():
    """registry.py (and train_config.py and the parser built from them) load with torch
    blocked: ``gcnn-viewer --help`` and the --model choices never wait for torch."""
    code = textwrap.dedent(
        """
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from gcnn_viewer.models.registry import model_names, model_spec
        from gcnn_viewer.models.train_config import TrainConfig, train_options
        assert TrainConfig(model="z2cnn").epochs == model_spec("z2cnn").paper_epochs
        from gcnn_viewer.cli import build_parser
        args = build_parser().parse_args(["train", "--model", model_names()[-1]])
        assert "torch" not in sys.modules
        try:
            import torch
        except ImportError:
            print("blocked", args.model, len(train_options()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["blocked", model_names()[-1], str(len(fields(TrainConfig)))]

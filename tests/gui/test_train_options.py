"""The Train panel's fields take their defaults, ranges and choices from TrainConfig's option
metadata, as the command line does (tests/models/test_train_config.py): a default or a choice
changed in TrainConfig reaches a fresh panel and the CLI alike."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from gcnn_viewer import cli  # noqa: E402
from gcnn_viewer.gui import train_panel  # noqa: E402
from gcnn_viewer.gui.train_panel import SPIN_MAX, TrainPanel  # noqa: E402
from gcnn_viewer.models import train_config  # noqa: E402
from gcnn_viewer.models.registry import model_names, model_spec  # noqa: E402
from gcnn_viewer.models.train_config import MAX_SEED, TrainConfig, train_option  # noqa: E402
from tests.models.test_train_config import changed_config  # noqa: E402


def make_panel(qtbot, catalog) -> TrainPanel:
    panel = TrainPanel(catalog)
    qtbot.addWidget(panel)
    return panel


def items(combo) -> list[tuple[object, str]]:
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


def test_the_panels_fields_are_trainconfigs_options(qtbot, shared_catalog):
    panel = make_panel(qtbot, shared_catalog)
    defaults = TrainConfig()
    assert items(panel.model_box) == [(n, model_spec(n).title) for n in model_names()]
    assert panel.model_box.currentData() == defaults.model
    epochs = train_option("epochs")  # the app starts with a short run, not the paper's
    assert panel.epochs.value() == epochs.app_default != defaults.epochs
    assert (panel.epochs.minimum(), panel.epochs.maximum()) == (epochs.low, epochs.form_high)
    batch = train_option("batch_size")
    assert panel.batch.value() == defaults.batch_size
    assert (panel.batch.minimum(), panel.batch.maximum()) == (batch.low, batch.form_high)
    assert panel.seed.value() == defaults.seed
    assert (panel.seed.minimum(), panel.seed.maximum()) == (0, min(MAX_SEED, SPIN_MAX))
    augment = train_option("augment")
    assert items(panel.augment) == list(zip(augment.choices, augment.choice_labels, strict=True))
    assert panel.augment.currentData() == defaults.augment
    # what Start would run: TrainConfig's defaults but for the app's epochs and the device
    config = panel.config()
    assert config == TrainConfig(
        model=defaults.model, epochs=epochs.app_default, device=panel.device.currentData()
    )


def test_a_changed_trainconfig_changes_a_fresh_panel_and_the_cli(
    qtbot, shared_catalog, monkeypatch
):
    augment = train_option("augment")
    changed = changed_config(
        model=("z2cnn", {}),
        epochs=(None, {"app_default": 9, "form_high": 50}),
        batch_size=(64, {"form_high": 256}),
        seed=(7, {"high": 99}),
        augment=(
            "none",
            {
                "choices": (*augment.choices, "flip"),
                "choice_labels": (*augment.choice_labels, "mirror images"),
            },
        ),
    )
    before = make_panel(qtbot, shared_catalog)
    assert (before.batch.value(), before.seed.value(), before.epochs.value()) == (128, 0, 5)
    for module in (train_config, train_panel, cli):
        monkeypatch.setattr(module, "TrainConfig", changed)

    panel = make_panel(qtbot, shared_catalog)
    assert panel.model_box.currentData() == "z2cnn"
    assert (panel.epochs.value(), panel.epochs.maximum()) == (9, 50)
    assert (panel.batch.value(), panel.batch.maximum()) == (64, 256)
    assert (panel.seed.value(), panel.seed.maximum()) == (7, 99)
    assert items(panel.augment)[-1] == ("flip", "mirror images")
    assert panel.augment.currentData() == "none"
    assert panel.config() == changed(model="z2cnn", epochs=9, device=panel.device.currentData())
    # the command line follows the same edit
    args = cli.build_parser().parse_args(["train"])
    assert (args.batch_size, args.seed, args.augment) == (64, 7, "none")
    assert cli.build_parser().parse_args(["train", "--augment", "flip"]).augment == "flip"

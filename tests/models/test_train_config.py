"""Training options are defined once, in TrainConfig's field metadata: the command line's
``train`` arguments are derived from it (defaults, choices, ranges), so a default changed in
TrainConfig cannot make CLI runs silently "custom". (The Train panel's side:
tests/gui/test_train_options.py.)"""

import argparse
from dataclasses import dataclass, field, fields
from typing import Literal, get_args, get_origin, get_type_hints

import pytest

from gcnn_viewer import cli
from gcnn_viewer.models import train_config
from gcnn_viewer.models.registry import DEFAULT_TRAIN_MODEL, model_names, model_spec
from gcnn_viewer.models.train_config import MAX_SEED, TrainConfig, train_option, train_options


def train_parser() -> argparse.ArgumentParser:
    """The real ``gcnn-viewer train`` sub-parser, built now."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["train"]


def option_action(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    return next(a for a in parser._actions if flag in a.option_strings)


def parse_train(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["train", *argv])


def changed_config(**changes) -> type:
    """TrainConfig with some fields' defaults (and option metadata) changed, as an edit of
    train_config.py would change them: ``name=(default, {metadata updates})``."""
    originals = {f.name: f for f in fields(TrainConfig)}
    namespace = {"__annotations__": {}}
    for name, (default, meta) in changes.items():
        original = originals[name]
        namespace["__annotations__"][name] = original.type
        namespace[name] = field(default=default, metadata={**original.metadata, **meta})
    return dataclass(type("ChangedConfig", (TrainConfig,), namespace))


# -- with TrainConfig as it is -----------------------------------------------------------------
def test_every_trainconfig_field_is_a_train_option_in_field_order():
    assert [o.name for o in train_options()] == [f.name for f in fields(TrainConfig)]
    parser = train_parser()
    for option in train_options():
        action = option_action(parser, option.flag)
        assert action.dest == option.name and action.help == option.help


def test_train_with_no_options_parses_to_trainconfigs_defaults():
    args = parse_train()
    for option, f in zip(train_options(), fields(TrainConfig), strict=True):
        expected = None if option.name == "model" else f.default  # --model: see cmd_train
        assert getattr(args, option.name) == expected, option.name
    # so a plain `gcnn-viewer train --model M` is the paper's protocol, as TrainConfig's is
    for name in model_names():
        args = parse_train("--model", name)
        config = TrainConfig(**{o.name: getattr(args, o.name) for o in train_options()})
        assert config == TrainConfig(model=name) and config.protocol == "faithful"
        assert config.epochs == model_spec(name).paper_epochs


def test_the_choices_are_trainconfigs_types_and_the_registry():
    hints = get_type_hints(TrainConfig)
    parser = train_parser()
    with_choices = [o for o in train_options() if o.choices]
    assert {o.name for o in with_choices} == {
        "model",
        "lr_schedule",
        "augment",
        "train_split",
        "bn_recalibration",
    }
    for option in with_choices:
        expected = model_names() if option.name == "model" else get_args(hints[option.name])
        if option.name != "model":
            assert get_origin(hints[option.name]) is Literal
        assert tuple(option_action(parser, option.flag).choices) == tuple(expected)
        assert len(option.choice_labels) == len(option.choices)
    assert train_option("model").default == DEFAULT_TRAIN_MODEL


@pytest.mark.parametrize(
    "flag,bad,good",
    [
        ("--epochs", "0", "1"),
        ("--batch-size", "0", "1"),
        ("--seed", "-1", "0"),
        ("--seed", str(MAX_SEED + 1), str(MAX_SEED)),
        ("--eval-every", "-1", "0"),
        ("--lr", "0", "1e-9"),
        ("--lr", "nan", "0.5"),
        ("--weight-decay", "-0.1", "0"),
        ("--weight-decay", "inf", "0.1"),
        ("--augment", "flip", "rotation"),
        ("--recalibrate", "always", "eval"),
        ("--model", "vgg", "p4mcnn"),
    ],
)
def test_the_cli_refuses_what_trainconfig_refuses(flag, bad, good, capsys):
    with pytest.raises(SystemExit) as excinfo:
        parse_train(f"{flag}={bad}")
    err = capsys.readouterr().err
    assert excinfo.value.code == 2 and "\n" not in err.strip() and flag in err
    args = parse_train(f"{flag}={good}", "--model", "p4cnn" if flag != "--model" else good)
    TrainConfig(**{o.name: getattr(args, o.name) for o in train_options()})  # accepted


def test_range_metadata_matches_trainconfigs_own_checks():
    """What the metadata says is allowed, TrainConfig allows, and one step beyond it not."""
    for option in train_options():
        if option.kind not in (int, float) or option.low is None:
            continue
        low = option.low
        if not option.low_exclusive:
            TrainConfig(**{option.name: option.kind(low)})
        with pytest.raises(ValueError, match=option.name):
            TrainConfig(**{option.name: option.kind(low) - (0 if option.low_exclusive else 1)})
        if option.high is not None:
            TrainConfig(**{option.name: option.kind(option.high)})
            with pytest.raises(ValueError, match=option.name):
                TrainConfig(**{option.name: option.kind(option.high) + 1})


# -- a changed TrainConfig changes the command line --------------------------------------------
def test_a_changed_default_or_choice_in_trainconfig_changes_the_cli(monkeypatch):
    augment = train_option("augment")
    changed = changed_config(
        batch_size=(64, {}),
        seed=(7, {}),
        lr_schedule=("cosine", {}),
        augment=(
            "none",
            {
                "choices": (*augment.choices, "flip"),
                "choice_labels": (*augment.choice_labels, "mirror images"),
            },
        ),
    )
    before = parse_train()
    assert (before.batch_size, before.seed, before.augment) == (128, 0, "paper")
    monkeypatch.setattr(train_config, "TrainConfig", changed)
    monkeypatch.setattr(cli, "TrainConfig", changed)
    args = parse_train("--model", "p4cnn")
    defaults = changed(model="p4cnn")
    assert (args.batch_size, args.seed, args.lr_schedule, args.augment) == (
        64,
        7,
        "cosine",
        "none",
    )
    config = changed(**{o.name: getattr(args, o.name) for o in train_options()})
    assert config == defaults  # not "custom" by accident of the command line
    assert parse_train("--augment", "flip").augment == "flip"
    assert option_action(train_parser(), "--augment").choices == (*augment.choices, "flip")


def test_changed_config_really_changes_trainconfigs_defaults():
    """(The helper above is what it claims: defaults move, the rest stays.)"""
    changed = changed_config(batch_size=(64, {}))
    assert changed(model="p4cnn").batch_size == 64 and TrainConfig().batch_size == 128
    assert [f.name for f in fields(changed)] == [f.name for f in fields(TrainConfig)]
    assert changed(model="p4cnn").protocol == "custom"  # 64 is not the paper's batch

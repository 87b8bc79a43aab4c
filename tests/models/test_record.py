"""The checkpoint as a typed record (gcnn_viewer.models.record): a model survives the round trip
model → record → dict (→ file) → record → model bit for bit, and every malformed field of the
untrusted dict is one CheckpointError line naming it."""

import copy
import math

import pytest
import torch
from torch.testing import assert_close

from gcnn_viewer.errors import CheckpointError
from gcnn_viewer.models import build_model
from gcnn_viewer.models.record import CheckpointRecord, load_model, read_record
from gcnn_viewer.models.train_config import TrainConfig
from gcnn_viewer.training import Trainer
from tests.training.conftest import tiny_datasets

NAN, INF = float("nan"), float("inf")


def trained_like(name: str) -> torch.nn.Module:
    """A model unlike a fresh one: moved weights, BN statistics and input normalisation."""
    model = build_model(name)
    model.set_normalisation(0.13, 0.31)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        model.train()
        model(torch.rand(8, 1, 28, 28))
    return model.eval()


def outputs(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(x)


# -- round trip --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["z2cnn", "p4cnn"])
def test_model_record_dict_record_model_is_exact(name):
    model = trained_like(name)
    x = torch.rand(4, 1, 28, 28)
    expected = outputs(model, x)
    record = CheckpointRecord.from_model(model, protocol="custom", command="gcnn-viewer train")
    with torch.no_grad():  # the record holds a copy: later changes to the model stay out
        next(model.parameters()).add_(1.0)
    data = record.to_dict()
    back = CheckpointRecord.from_dict(data)
    assert back.model_config == model.config and back.name == name
    assert back.normalisation == pytest.approx({"mean": 0.13, "std": 0.31})
    assert back.protocol == "custom" and back.command == "gcnn-viewer train"
    assert back.to_dict().keys() == data.keys()
    rebuilt = back.build_model()
    assert rebuilt is not model and not rebuilt.training
    assert_close(outputs(rebuilt, x), expected, rtol=0, atol=0)
    assert not torch.equal(outputs(model, x), expected)  # (the edit above did change it)


@pytest.mark.parametrize("name", ["z2cnn", "p4cnn"])
def test_round_trip_through_a_file(name, tmp_path):
    model = trained_like(name)
    x = torch.rand(4, 1, 28, 28)
    path = tmp_path / f"{name}.pt"
    data = CheckpointRecord.from_model(model, extra={"written_by": "a newer version"}).to_dict()
    torch.save(data, path)
    record = read_record(path)
    assert record.name == name and record.extra == {"written_by": "a newer version"}
    assert record.to_dict().keys() == data.keys()  # unknown keys are kept, none added
    loaded, loaded_record = load_model(path)
    assert loaded_record.model_config == model.config
    assert_close(outputs(loaded, x), outputs(model, x), rtol=0, atol=0)
    assert_close(outputs(record.build_model(path), x), outputs(model, x), rtol=0, atol=0)


# -- what a real run writes --------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dicts():
    """The dicts a real 2-epoch run writes: after its first epoch (resumable) and at its end."""
    torch.manual_seed(0)
    config = TrainConfig(model="z2cnn", epochs=2, batch_size=16, device="cpu")
    trainer = Trainer(config, tiny_datasets(), command=["gcnn-viewer", "train"])
    mid = None
    for progress in trainer.run():
        if progress.kind == "epoch" and mid is None:
            mid = trainer.payload()
    return mid, trainer.payload()


def test_a_real_run_passes_validation_and_round_trips(run_dicts):
    mid, done = run_dicts
    record = CheckpointRecord.from_dict(mid)
    assert record.resumable and len(record.history) == 1 and record.train_config.epochs == 2
    finished = CheckpointRecord.from_dict(done)
    assert finished.complete and not finished.resumable and len(finished.history) == 2
    assert 0.0 <= finished.final["test_error"] <= 1.0 and finished.final["n_test"] == 16
    again = CheckpointRecord.from_dict(finished.to_dict())
    assert again.train_config == finished.train_config and again.final == finished.final


# -- rejection of malformed fields -------------------------------------------------------------
def _set(*path, value):
    """A mutation: set the value at ``path`` (keys and list indices) in the dict."""

    def apply(d):
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return apply


def _drop(*path):
    def apply(d):
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]

    return apply


def _complete(final):
    """Turn the run into a finished one whose final evaluation is ``final``."""

    def apply(d):
        d["complete"] = True
        d["metrics"]["final"] = final

    return apply


# (id, which dict: "mid" or "done", mutation, the field the one-line message must name)
MALFORMED = [
    # missing keys
    ("no model_config", "mid", _drop("model_config"), "model_config"),
    ("no state_dict", "mid", _drop("state_dict"), "state_dict"),
    ("no model name", "mid", _drop("model_config", "name"), "model_config.name"),
    ("no format", "mid", _drop("format"), "not a gcnn-viewer checkpoint"),
    ("history entry without loss", "mid", _drop("metrics", "history", 0, "loss"), "loss"),
    ("history entry empty", "mid", _set("metrics", "history", 0, value={}), "epoch"),
    ("resume without epoch", "mid", _drop("resume", "epoch"), "resume.epoch"),
    ("resume without optimizer", "mid", _drop("resume", "optimizer"), "resume.optimizer"),
    ("complete without final", "done", _set("metrics", "final", value=None), "metrics.final"),
    ("complete without metrics", "done", _drop("metrics"), "metrics"),
    # not a dict, wrong types
    ("a list, not a dict", "mid", lambda d: [d], "not a gcnn-viewer checkpoint"),
    ("None, not a dict", "mid", lambda d: None, "not a gcnn-viewer checkpoint"),
    ("model_config a string", "mid", _set("model_config", value="z2cnn"), "model_config"),
    ("state_dict of lists", "mid", _set("state_dict", "convs.0.weight", value=[1.0]), "state_dict"),
    ("state_dict a list", "mid", _set("state_dict", value=[]), "state_dict"),
    ("format_version a string", "mid", _set("format_version", value="1"), "format_version"),
    ("normalisation a string", "mid", _set("normalisation", value="0.1,0.3"), "normalisation"),
    ("command a list", "mid", _set("command", value=["gcnn-viewer"]), "command"),
    ("protocol unknown", "mid", _set("protocol", value="best"), "protocol"),
    ("resumed_with a string", "mid", _set("resumed_with", value="x"), "resumed_with"),
    ("complete a string", "mid", _set("complete", value="yes"), "complete"),
    ("data a list", "mid", _set("data", value=["tiny"]), "data"),
    ("data.name a list", "mid", _set("data", "name", value=[1]), "data.name"),
    ("data.content_hash a number", "mid", _set("data", "content_hash", value=5), "content_hash"),
    ("data.spec a list", "mid", _set("data", "spec", value=[1]), "data.spec"),
    ("versions of tensors", "mid", _set("versions", value={"torch": torch.zeros(1)}), "versions"),
    ("train_config a list", "mid", _set("train_config", value=[]), "train_config"),
    ("train_config.lr a string", "mid", _set("train_config", "lr", value="fast"), "train_config"),
    ("metrics a list", "mid", _set("metrics", value=[]), "metrics"),
    ("history a dict", "mid", _set("metrics", "history", value={}), "metrics.history"),
    ("history value a string", "mid", _set("metrics", "history", 0, "loss", value="1"), "loss"),
    ("final a list", "done", _set("metrics", "final", value=[0.1]), "metrics.final"),
    ("final bn_recalibration a list", "done", _complete({"bn_recalibration": [1]}), "bn_recal"),
    ("final.previous a dict", "done", _set("metrics", "final", "previous", value={}), "previous"),
    ("epoch_sums wrong shape", "mid", _set("resume", "epoch_sums", value=torch.zeros(4)), "sums"),
    ("rng state of floats", "mid", _set("resume", "torch_rng_state", value=torch.zeros(3)), "rng"),
    ("optimizer a list", "mid", _set("resume", "optimizer", value=[]), "resume.optimizer"),
    # a bool where an int is expected
    ("channels True", "mid", _set("model_config", "channels", value=True), "model_config.channels"),
    ("format_version True", "mid", _set("format_version", value=True), "format_version"),
    ("epochs True", "mid", _set("train_config", "epochs", value=True), "train_config"),
    ("resume.epoch True", "mid", _set("resume", "epoch", value=True), "resume.epoch"),
    ("history epoch True", "mid", _set("metrics", "history", 0, "epoch", value=True), "epoch"),
    ("n_test True", "done", _set("metrics", "final", "n_test", value=True), "n_test"),
    # NaN and inf
    ("normalisation mean NaN", "mid", _set("normalisation", "mean", value=NAN), "normalisation"),
    ("normalisation std inf", "mid", _set("normalisation", "std", value=INF), "normalisation"),
    ("dropout NaN", "mid", _set("model_config", "dropout", value=NAN), "model_config.dropout"),
    ("lr NaN", "mid", _set("train_config", "lr", value=NAN), "train_config"),
    ("history loss NaN", "mid", _set("metrics", "history", 0, "loss", value=NAN), "loss"),
    ("history error inf", "mid", _set("metrics", "history", 0, "error", value=INF), "error"),
    ("history extra inf", "mid", _set("metrics", "history", 0, "x", value=-INF), "history[0].x"),
    ("test_error NaN", "done", _set("metrics", "final", "test_error", value=NAN), "test_error"),
    ("final elapsed inf", "done", _set("metrics", "final", "elapsed", value=INF), "elapsed"),
    ("finish_seconds NaN", "done", _complete({"finish_seconds": NAN}), "finish_seconds"),
    ("previous NaN", "done", _complete({"previous": [{"test_error": NAN}]}), "previous[0]"),
    ("resume.elapsed inf", "mid", _set("resume", "elapsed", value=INF), "resume.elapsed"),
    # negative values
    ("channels negative", "mid", _set("model_config", "channels", value=-4), "channels"),
    ("format_version 0", "mid", _set("format_version", value=0), "format_version"),
    ("normalisation std < 0", "mid", _set("normalisation", "std", value=-1.0), "std"),
    ("batch_size negative", "mid", _set("train_config", "batch_size", value=-1), "train_config"),
    ("seed negative", "mid", _set("train_config", "seed", value=-1), "train_config"),
    ("resume.epoch negative", "mid", _set("resume", "epoch", value=-1), "resume.epoch"),
    ("resume.step negative", "mid", _set("resume", "step_in_epoch", value=-1), "step_in_epoch"),
    ("history loss negative", "mid", _set("metrics", "history", 0, "loss", value=-1.0), "loss"),
    ("history epoch 0", "mid", _set("metrics", "history", 0, "epoch", value=0), "epoch"),
    ("test_error negative", "done", _set("metrics", "final", "test_error", value=-0.1), "test"),
    ("n_test negative", "done", _set("metrics", "final", "n_test", value=-3), "n_test"),
    ("final elapsed negative", "done", _set("metrics", "final", "elapsed", value=-5.0), "elapsed"),
    # huge values
    ("channels huge", "mid", _set("model_config", "channels", value=10**9), "channels"),
    ("dropout 1", "mid", _set("model_config", "dropout", value=1.0), "dropout"),
    ("format_version huge", "mid", _set("format_version", value=10**9), "format_version"),
    ("format_version 5000 digits", "mid", _set("format_version", value=10**5000), "format_version"),
    (
        "format_version -5000 digits",
        "mid",
        _set("format_version", value=-(10**5000)),
        "format_vers",
    ),
    ("seed huge", "mid", _set("train_config", "seed", value=2**64), "train_config"),
    ("test_error 500%", "done", _set("metrics", "final", "test_error", value=5.0), "test_error"),
    ("history error 2", "mid", _set("metrics", "history", 0, "error", value=2.0), "error"),
    # unknown model names and arguments
    ("unknown model", "mid", _set("model_config", "name", value="vgg"), "model_config.name"),
    ("model name a number", "mid", _set("model_config", "name", value=5), "model_config.name"),
    ("unknown argument", "mid", _set("model_config", "depth", value=3), "model_config.depth"),
    ("train_config unknown model", "mid", _set("train_config", "model", value="vgg"), "train"),
    (
        "train_config other model",
        "mid",
        _set("train_config", "model", value="p4cnn"),
        "train_config.model",
    ),
    # keys that would break the line
    ("argument named with a newline", "mid", _set("model_config", "a\nb", value=1), "a\\nb"),
    (
        "history key with a newline",
        "mid",
        _set("metrics", "history", 0, "a\nb", value="x"),
        "a\\nb",
    ),
    ("final key not a string", "done", _set("metrics", "final", 7, value=1), "metrics.final.7"),
]


@pytest.mark.parametrize(
    "which,mutate,field", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_fields_are_one_line_naming_them(run_dicts, which, mutate, field):
    record = copy.deepcopy(run_dicts[0] if which == "mid" else run_dicts[1])
    if mutate.__name__ == "<lambda>":  # the record replaced by something else
        record = mutate(record)
    else:
        mutate(record)
    with pytest.raises(CheckpointError) as excinfo:
        CheckpointRecord.from_dict(record, "run.pt")
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith("run.pt: ")
    assert field in message, message


def test_the_same_dicts_unchanged_are_accepted(run_dicts):
    """The rejections above come from the mutations, not from the dicts they start from."""
    for record in run_dicts:
        CheckpointRecord.from_dict(copy.deepcopy(record), "run.pt")


# -- weights that do not fit the architecture --------------------------------------------------
def _weights(**change):
    state = {k: v.clone() for k, v in build_model("z2cnn").state_dict().items()}
    for key, value in change.items():
        state[key.replace("__", ".")] = value
    return state


def _without(key):
    state = _weights()
    del state[key]
    return state


BAD_WEIGHTS = [
    ("wrong shape", _weights(convs__0__weight=torch.zeros(20, 1, 5, 5)), "convs.0.weight"),
    ("missing tensor", _without("convs.1.bias"), "convs.1.bias"),
    ("unexpected tensor", {**_weights(), "extra.weight": torch.zeros(1)}, "extra.weight"),
    ("NaN weights", _weights(convs__0__bias=torch.full((20,), NAN)), "convs.0.bias"),
    ("integer weights", _weights(convs__0__bias=torch.zeros(20, dtype=torch.int64)), "dtype"),
    ("negative variance", _weights(bns__0__running_var=-torch.ones(20)), "running_var"),
    ("zero input scale", _weights(input_std=torch.zeros(())), "input_std"),
]


@pytest.mark.parametrize(
    "state,field", [b[1:] for b in BAD_WEIGHTS], ids=[b[0] for b in BAD_WEIGHTS]
)
def test_weights_that_do_not_fit_are_one_line_naming_the_tensor(state, field, tmp_path):
    data = {"format": "gcnn-viewer-checkpoint", "format_version": 1}
    data |= {"model_config": {"name": "z2cnn"}, "state_dict": state}
    record = CheckpointRecord.from_dict(data)  # names and tensors: the dict itself is fine
    with pytest.raises(CheckpointError) as excinfo:
        record.build_model("run.pt")
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith("run.pt: ") and field in message, message
    path = tmp_path / "bad.pt"
    torch.save(data, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_model(path)
    assert "\n" not in str(excinfo.value) and field in str(excinfo.value)


def test_the_unchanged_weights_load():
    data = {"format": "gcnn-viewer-checkpoint", "format_version": 1}
    data |= {"model_config": {"name": "z2cnn"}, "state_dict": _weights()}
    model = CheckpointRecord.from_dict(data).build_model()
    assert math.isfinite(float(outputs(model, torch.rand(1, 1, 28, 28)).sum()))

"""Training a model of your own (issue 22): the loop runs any nn.Module that returns logits
[B, 10]; its checkpoint names the spec (file as given, its sha256, factory, name, input size)
so that it resumes exactly and opens again as weights; errors are one line."""

import textwrap
from pathlib import Path

import pytest
import torch

from gcnn_viewer.errors import CheckpointError, ConfigError, UserModelError
from gcnn_viewer.models.train_config import MAX_INPUT_SIZE, MIN_INPUT_SIZE
from gcnn_viewer.models.user import load_user_model
from gcnn_viewer.training import Trainer, load_checkpoint, read_checkpoint
from gcnn_viewer.training.user_models import file_sha256
from tests.training.conftest import cfg, tiny_datasets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# A plain CNN written here (B, 1, N, N) -> (B, 10), and the models that fail in one way each.
MODELS = """
import torch
from torch import nn

SEEN = []  # the input shapes and the first batch the model was given


class Small(nn.Module):
    def __init__(self, bn=True):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.norm = nn.BatchNorm2d(4) if bn else nn.Identity()
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(4, 10)

    def forward(self, x):
        SEEN.append(x.detach().clone())
        h = torch.relu(self.norm(self.conv(x - 0.13)))
        return self.head(self.drop(h.mean(dim=(-2, -1))))


def small():
    return Small()


def no_bn():
    return Small(bn=False)


class Seven(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(28 * 28, 7)

    def forward(self, x):
        return self.head(x.flatten(1))


def seven():
    return Seven()


def broken():
    raise RuntimeError("no weights for you")


def big():  # says it takes 96×96 digits
    model = Small()
    model.input_size = 96
    return model


def fixed():  # takes 28×28 digits only
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
"""


@pytest.fixture
def nets(tmp_path):
    """A fresh copy of MODELS as a file (each test its own module: SEEN starts empty)."""
    path = tmp_path / "nets.py"
    path.write_text(textwrap.dedent(MODELS))
    return path


def small_run(spec, **kw):
    return cfg(model=str(spec), **kw)


def states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    return all(torch.equal(sa[k], sb[k]) for k in sa)


# -- training and its checkpoint ---------------------------------------------------------------
@pytest.mark.parametrize(
    "spec,size",
    [("{nets}:small", 28), (f"{EXAMPLES}/p4_plain_torch.py:build", 28)],
    ids=["plain", "p4-5d"],
)
def test_a_user_model_trains_and_its_checkpoint_opens_again(tiny, tmp_path, nets, spec, size):
    spec = spec.format(nets=nets)
    out = tmp_path / "run.pt"
    trainer = Trainer(small_run(spec, name="mine"), tiny, checkpoint_path=out)
    records = list(trainer.run())
    assert records[-1].kind == "done" and 0 <= records[-1].test_error <= 1
    record = read_checkpoint(out)
    file = Path(spec.rpartition(":")[0])
    assert record["model_config"] == {
        "name": "mine",
        "spec": spec,
        "factory": spec.rpartition(":")[2],
        "sha256": file_sha256(file),
        "input_size": size,
    }
    assert record["complete"] and record["protocol"] == "custom"
    assert "normalisation" not in record  # the model normalises itself
    # the module's own state_dict: it loads into the user's class as it is
    module = trainer.model
    assert list(record["state_dict"]) == list(module.state_dict())
    # ... and as --weights, and as a checkpoint, into a UserModel with the same logits
    x = torch.rand(3, 1, size, size)
    module.eval()
    with torch.no_grad():
        expected = module(x)
        as_weights = load_user_model(spec, weights=out).eval()
        as_checkpoint = load_checkpoint(out).model
        assert as_checkpoint.name == "mine" and not as_checkpoint.training
        for model in (as_weights, as_checkpoint):
            assert torch.equal(model(x), expected)


def test_resume_mid_epoch_equals_an_uninterrupted_run(tiny, tmp_path, nets):
    """Dropout, shuffling, rotation angles and the padded 30×30 field all continue exactly."""
    config = dict(epochs=3, augment="rotation", lr_schedule="cosine", input_size=30)
    spec = f"{nets}:small"
    full = Trainer(small_run(spec, **config), tiny, checkpoint_path=tmp_path / "full.pt")
    list(full.run())
    part = Trainer(
        small_run(spec, **config), tiny, checkpoint_path=tmp_path / "part.pt", report_every=1
    )
    for record in part.run():
        if record.step == 5:  # mid-epoch 2 (3 steps per epoch)
            part.save()
            break
    resumed = Trainer.resume(tmp_path / "part.pt", tiny, report_every=1)
    assert resumed.global_step == 5 and resumed.input_size == 30
    list(resumed.run())
    assert states_equal(full.model, resumed.model)
    assert resumed.final["test_error"] == full.final["test_error"]
    assert read_checkpoint(tmp_path / "part.pt")["model_config"]["input_size"] == 30


def test_resume_refuses_a_changed_model_file(tiny, tmp_path, nets):
    spec = f"{nets}:small"
    trainer = Trainer(small_run(spec, epochs=2), tiny, checkpoint_path=tmp_path / "part.pt")
    next(r for r in trainer.run() if r.kind == "epoch")
    nets.write_text(nets.read_text() + "\n# edited\n")
    with pytest.raises(CheckpointError, match="has changed since this run was saved"):
        Trainer.resume(tmp_path / "part.pt", tiny)


def test_the_digits_are_padded_centrally_to_the_models_input_size(tmp_path, nets):
    import sys

    data = tiny_datasets(n_train=16, n_valid=0, n_test=0)
    data.valid = data.test = None
    config = small_run(f"{nets}:small", input_size=31, augment="none", batch_size=16)
    trainer = Trainer(config, data)
    seen = sys.modules[type(trainer.model).__module__].SEEN  # what the model was given
    seen.clear()
    list(trainer.run())
    batch = seen[0]  # the one training batch: 16 digits, shuffled
    assert batch.shape == (16, 1, 31, 31)
    # 31 - 28 = 3: one row and column of zeros above and left, two below and right
    inner = batch[:, 0, 1:29, 1:29]
    border = batch.clone()
    border[:, 0, 1:29, 1:29] = 0
    assert not border.any()
    digits = torch.from_numpy(data.train[0]).float() / 255  # the same 16, in another order
    by_ink = lambda t: t[t.flatten(1).sum(1).argsort()]  # noqa: E731
    assert torch.equal(by_ink(inner), by_ink(digits))


def test_a_model_without_batch_norm_skips_the_recalibration_and_says_so(tiny, nets):
    trainer = Trainer(small_run(f"{nets}:no_bn"), tiny)
    phases = {r.phase for r in trainer.run() if r.kind == "finishing"}
    assert "BN statistics" not in phases and "test error" in phases
    assert trainer.final["bn_note"].startswith("the model has no batch-norm layers")
    with_bn = Trainer(small_run(f"{nets}:small"), tiny)
    assert "BN statistics" in {r.phase for r in with_bn.run() if r.kind == "finishing"}
    assert "bn_note" not in with_bn.final


def test_weights_to_start_from(tiny, tmp_path, nets):
    spec = f"{nets}:small"
    first = Trainer(small_run(spec), tiny, checkpoint_path=tmp_path / "a.pt")
    list(first.run())
    torch.save(first.model.state_dict(), tmp_path / "plain.pt")  # a user's own state_dict
    for weights in (tmp_path / "a.pt", tmp_path / "plain.pt"):
        started = Trainer(small_run(spec, weights=str(weights), seed=5), tiny)
        assert states_equal(started.model, first.model)


# -- one-line errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "factory,size,message",
    [
        ("seven", 28, r"returns \[2, 7\] float32 for \[2, 1, 28, 28\] digits; training needs"),
        ("broken", 28, r"broken\(\) raised RuntimeError: no weights for you"),
        ("fixed", 29, r"\[2, 1, 29, 29\] input raised RuntimeError"),
        ("big", None, r"input size 96: training draws the digits into 20\.\.64 pixels square"),
    ],
)
def test_errors_are_one_line(tiny, nets, factory, size, message):
    with pytest.raises(UserModelError, match=message) as info:
        Trainer(small_run(f"{nets}:{factory}", input_size=size), tiny)
    assert "\n" not in str(info.value) and str(nets) in str(info.value)


def test_wrong_weights_are_one_line(tiny, tmp_path, nets):
    other = tmp_path / "other.pt"
    torch.save({"conv.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(UserModelError, match="do not match the model") as info:
        Trainer(small_run(f"{nets}:small", weights=str(other)), tiny)
    assert "\n" not in str(info.value)


def test_user_model_options_go_with_a_user_model_only():
    for extra in ({"name": "x"}, {"input_size": 29}, {"weights": "w.pt"}):
        with pytest.raises(ConfigError, match="with a model of your own") as info:
            cfg(**extra).check_model_options()
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="--weights, not --init-from"):
        cfg(model="net.py:build", init_from="run.pt").check_model_options()
    assert cfg(model="net.py:build").epochs == 1 and cfg(model="pkg.mod:f").is_user_model


def test_the_input_size_range_is_the_digit_pipelines():
    from gcnn_viewer.data import digits

    assert (MIN_INPUT_SIZE, MAX_INPUT_SIZE) == (digits.MIN_INPUT_SIZE, digits.MAX_INPUT_SIZE)


@pytest.mark.parametrize("finished", [True, False], ids=["finished", "unfinished"])
def test_the_apps_train_panel_sends_a_user_models_run_to_the_command_line(
    tiny, tmp_path, nets, finished
):
    """The Train panel trains the shipped architectures; a user model's run it is given to
    continue or fine-tune is one line saying how to do that on the command line."""
    from gcnn_viewer.viewer.training import plan_run

    run = tmp_path / "run.pt"
    trainer = Trainer(small_run(f"{nets}:small", epochs=2), tiny, checkpoint_path=run)
    records = trainer.run() if finished else [next(r for r in trainer.run() if r.kind == "epoch")]
    list(records)
    with pytest.raises(ConfigError, match="gcnn-viewer train --resume") as info:
        plan_run(cfg(), tmp_path / "runs", resume_from=run)
    assert "\n" not in str(info.value) and f"{nets}:small" in str(info.value)


def test_the_escnn_c8_example_trains_and_reopens(tiny, tmp_path):
    """escnn (an optional extra): the C8 example's GeometricTensor layers, its
    InnerBatchNorm (an nn.BatchNorm3d inside) recalibrated, its 29×29 input."""
    pytest.importorskip("escnn", reason="escnn is not installed (pip install gcnn-viewer[escnn])")
    out = tmp_path / "c8.pt"
    trainer = Trainer(small_run(f"{EXAMPLES}/escnn_c8.py:build"), tiny, checkpoint_path=out)
    phases = {r.phase for r in trainer.run() if r.kind == "finishing"}
    assert "BN statistics" in phases and trainer.input_size == 29
    x = torch.rand(2, 1, 29, 29)
    trainer.model.eval()
    with torch.no_grad():
        assert torch.allclose(load_checkpoint(out).model(x), trainer.model(x), atol=1e-6)


def test_a_package_module_spec_records_its_modules_file(tiny, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)  # package.module imports from the current folder
    trainer = Trainer(small_run("examples.plain_cnn:build"), tiny)
    assert trainer.model_config == {
        "name": "build",
        "spec": "examples.plain_cnn:build",
        "factory": "build",
        "sha256": file_sha256(EXAMPLES / "plain_cnn.py"),
        "input_size": 28,
    }

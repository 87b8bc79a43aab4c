import pytest
import torch

from gcnn_viewer.models import build_model
from gcnn_viewer.training import CheckpointError, load_checkpoint, save_checkpoint


def write_valid(path, name="p4cnn"):
    model = build_model(name)
    return save_checkpoint(path, {"model_config": model.config, "state_dict": model.state_dict()})


def one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_valid_checkpoint_loads(tmp_path):
    checkpoint = load_checkpoint(write_valid(tmp_path / "ok.pt"))
    assert checkpoint.name == "p4cnn" and checkpoint.meta["format_version"] == 1


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(tmp_path / "nope.pt")
    assert "no such checkpoint" in one_line(excinfo)


def test_truncated_file(tmp_path):
    path = write_valid(tmp_path / "ok.pt")
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(cut)
    assert "truncated or corrupt" in one_line(excinfo)


def test_garbage_file(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"\x80\x04this is not a checkpoint" * 10)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path)
    assert "not a readable checkpoint" in one_line(excinfo)


def test_foreign_torch_file(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"model": torch.nn.Linear(2, 2).state_dict()}, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path)
    assert "foreign" in one_line(excinfo)


def test_mismatched_weights(tmp_path):
    model = build_model("z2cnn")
    path = save_checkpoint(
        tmp_path / "mismatch.pt",
        {"model_config": {"name": "p4cnn"}, "state_dict": model.state_dict()},
    )
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path)
    assert "do not match the p4cnn architecture" in one_line(excinfo)


def test_unknown_model_name(tmp_path):
    path = save_checkpoint(tmp_path / "x.pt", {"model_config": {"name": "vgg"}, "state_dict": {}})
    with pytest.raises(CheckpointError, match="names no known model"):
        load_checkpoint(path)


class Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_malicious_pickle_is_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "gcnn-viewer-checkpoint", "payload": Payload()}, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path)
    assert "pickled code" in one_line(excinfo)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_writes_are_atomic(tmp_path, monkeypatch):
    path = write_valid(tmp_path / "run.pt")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(CheckpointError, match="cannot write checkpoint .*run.pt: disk full"):
        write_valid(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]

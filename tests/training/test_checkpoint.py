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


def test_fsync_comes_before_the_rename(tmp_path, monkeypatch):
    import os

    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1]
    )
    write_valid(tmp_path / "run.pt")
    assert calls[:2] == ["fsync", "replace"]


def test_stale_temp_files_are_removed_and_live_ones_kept(tmp_path):
    """SIGKILL mid-write leaves .NAME.PID.tmp behind; the next save removes it once stale (its
    writer is gone, or it is over an hour old), never a live writer's file."""
    import os
    import time

    from gcnn_viewer.data.files import QUIET_S, STALE_AFTER_S

    old = time.time() - QUIET_S - 5
    dead = tmp_path / ".run.pt.999999999.tmp"  # beyond any pid_max
    ancient = tmp_path / f".run.pt.{os.getpid()}.abc.tmp"
    fresh_dead = tmp_path / ".run.pt.999999998.tmp"  # just written: maybe another host's
    live = tmp_path / f".run.pt.{os.getppid()}.tmp"
    other = tmp_path / ".other.pt.999999999.tmp"  # another checkpoint's: not ours to judge
    for path in (dead, ancient, fresh_dead, live, other):
        path.write_bytes(b"partial")
    os.utime(dead, (old, old))
    os.utime(live, (old, old))
    os.utime(other, (old, old))
    very_old = time.time() - STALE_AFTER_S - 5
    os.utime(ancient, (very_old, very_old))
    write_valid(tmp_path / "run.pt")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["run.pt", fresh_dead.name, live.name, other.name])


def test_an_unwritable_destination_is_one_line_naming_it(tmp_path, monkeypatch):
    """A read-only folder or mount: the message is the write's, even though removing the temp
    file fails too (on a read-only mount unlink raises as well and used to hide the cause)."""
    import errno
    from pathlib import Path

    from gcnn_viewer.training import checkpoint

    path = write_valid(tmp_path / "run.pt")
    before = path.read_bytes()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(args[0]))

    from gcnn_viewer.data import files

    monkeypatch.setattr(checkpoint, "open", read_only, raising=False)
    monkeypatch.setattr(files, "open", read_only, raising=False)  # the one atomic writer's
    monkeypatch.setattr(Path, "unlink", read_only)
    for attempt in (write_valid, checkpoint.check_writable):
        with pytest.raises(CheckpointError) as info:
            attempt(path)
        assert one_line(info) == f"cannot write checkpoint {path}: read-only file system"
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_a_full_disk_is_found_before_training_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    from gcnn_viewer.training import check_writable

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    target = tmp_path / "new" / "deeper" / "run.pt"
    with pytest.raises(CheckpointError) as info:
        check_writable(target)
    assert one_line(info) == f"cannot write checkpoint {target}: no space left on the disk"
    assert list(tmp_path.iterdir()) == []  # not even the folders it tried
    with pytest.raises(CheckpointError, match="is a directory"):
        check_writable(tmp_path)

"""``gcnn-viewer data fetch|info`` on the tiny synthetic MNIST (no network)."""

import json
import shutil

from gcnn_viewer import cli


def test_data_fetch_from_a_directory_then_info(fake_mnist, cache, capsys):
    assert cli.main(["data", "fetch", "--from", str(fake_mnist["dir"]), "--no-generate"]) == 0
    assert "MNIST verified" in capsys.readouterr().out
    assert cli.main(["data", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["mnist"]["complete"] and info["mnist_rot"] == []
    assert all(entry["verified"] for entry in info["mnist"]["files"].values())
    assert cli.main(["data", "info"]) == 0
    assert "complete, verified" in capsys.readouterr().out


def test_data_fetch_failure_is_one_line(fake_mnist, cache, capsys, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(fake_mnist["dir"], broken)
    (broken / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01bad")
    assert cli.main(["data", "fetch", "--from", str(broken)]) == 2
    err = capsys.readouterr().err  # progress lines, then one error line
    assert err.splitlines()[-1].startswith("gcnn-viewer: error: ") and "Traceback" not in err
    assert "sha256" in err.splitlines()[-1]
    assert not (cache / "mnist" / "train-labels-idx1-ubyte").exists()

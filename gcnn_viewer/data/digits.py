"""Digit images for the models: MNIST-style preprocessing, rotation, image files. Qt-free.

MNIST's own recipe (LeCun et al.): fit the ink's bounding box into 20×20 keeping the aspect
ratio (anti-aliased), then translate so that the centre of mass sits at the centre of the
28×28 field. Here the fitted digit is built at ``SUPERSAMPLE`` times the resolution
(112×112) and box-averaged down to 28×28, so the centring is exact to a quarter pixel without
a blurring sub-pixel shift, and rotations between multiples of 90° can be done on the sharp
high-resolution digit and averaged down (as a camera's pixels would) instead of interpolating
the 28×28 grid.

Images are float32 in [0, 1] with MNIST's polarity: white (1) ink on black (0). A positive
angle turns the digit counter-clockwise as displayed (row 0 at the top), so 90° is exactly
``np.rot90(image, 1)`` = ``torch.rot90(x, 1, dims=(-2, -1))``, the p4 generator
(docs/ARCHITECTURE.md, “Tensor and group conventions”).
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gcnn_viewer.errors import (
    ConfigError,
    GcnnViewerError,
    check_int,
    check_number,
    describe_os_error,
    first_line,
)

MNIST_SIZE = 28  # the shipped models' input is [1, 28, 28]
MIN_INPUT_SIZE = 20  # an N×N model input, N in MIN..MAX: the 20×20 box still fits
MAX_INPUT_SIZE = 64
# How an input is turned by an angle that is not a quarter turn (quarter turns are always
# exact rot90). "native" is what the app does: bicubic on the digit's own pixels, then
# averaged down (a drawn or file digit's 4× pixels: the same as "supersample:4"; an MNIST
# digit's 28×28: the same as "bicubic").
ROTATION_METHODS = ("native", "nearest", "bilinear", "bicubic", "supersample:K")
DEFAULT_ROTATION = "native"
_PIL_FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
FIT_SIZE = 20  # the ink's bounding box is scaled to fit FIT_SIZE × FIT_SIZE
SUPERSAMPLE = 4  # preprocessed digits keep a (28·4)² version for sharp rotations
MAX_FACTOR = 16  # a preprocessed digit is at most (28·16)² px
INK_THRESHOLD = 0.1  # fraction of the brightest pixel that counts as ink for the bounding box
MAX_IMAGE_SIDE = 4096  # px; checked from the header before decoding (a digit never needs more)
# The only image formats ever decoded, named as the user knows them and as Pillow does. The
# format is decided by the file's first bytes, never its name, and Pillow is told to try only
# that one plugin: EPS/PostScript (which Pillow renders by running Ghostscript), PDF, SVG and
# every other format Pillow could identify are refused before any decoder runs.
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WebP", "PNM")
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (  # (bytes, offset, Pillow's format)
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"BM", 0, "BMP"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"II+\x00", 0, "TIFF"),  # BigTIFF
    (b"MM\x00+", 0, "TIFF"),
    (b"WEBP", 8, "WEBP"),  # after b"RIFF" and a length
    *((b"P" + d, 0, "PPM") for d in (b"1", b"2", b"3", b"4", b"5", b"6")),  # PBM, PGM, PPM
)
_REFUSED = (  # formats worth naming when refused
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"<?xml", "XML/SVG"),
    (b"<svg", "SVG"),
)

__all__ = [
    "DEFAULT_ROTATION",
    "FIT_SIZE",
    "IMAGE_FORMATS",
    "MAX_IMAGE_SIDE",
    "MAX_INPUT_SIZE",
    "MIN_INPUT_SIZE",
    "MNIST_SIZE",
    "ROTATION_METHODS",
    "SUPERSAMPLE",
    "Digit",
    "DigitImageError",
    "box_downsample",
    "image_format",
    "load_image_file",
    "mnist_preprocess",
    "open_image",
    "parse_rotation",
    "quarter_turns",
    "rotate_input",
    "to_mnist_digit",
]


class DigitImageError(GcnnViewerError, ValueError):
    """An image file that cannot become a digit; the message is one line for the user."""


@dataclass(frozen=True, eq=False)
class Digit:
    """A model-ready digit: ``pixels`` float32 ``[28·factor, 28·factor]`` in [0, 1].

    ``factor`` 1: a 28×28 MNIST-format image used as is (a dataset digit, a 28×28 file).
    ``factor`` > 1: a preprocessed digit at high resolution; :attr:`image` is its box average.
    """

    pixels: np.ndarray
    factor: int = 1

    def __post_init__(self) -> None:
        size = MNIST_SIZE * self.factor
        if self.pixels.shape != (size, size):
            raise ValueError(f"Digit pixels must be {size}×{size}, got {self.pixels.shape}")

    @property
    def image(self) -> np.ndarray:
        """The 28×28 model input at 0°, float32 in [0, 1]."""
        return box_downsample(self.pixels, self.factor)

    @classmethod
    def blank(cls) -> Digit:
        return cls(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), 1)

    def field(self, size: int = MNIST_SIZE) -> np.ndarray:
        """:attr:`pixels` placed in a ``size × size`` field, at this digit's resolution:
        float32 ``[size·factor, size·factor]``; ``size`` 28 returns :attr:`pixels` as they are.

        The digit stays as MNIST drew it (ink fitted into 20×20); the field grows or shrinks
        around it equally on every side, so its centre of mass stays at the field's centre.
        Where that would need half a pixel (a 28×28 digit in an odd field), the digit goes
        the half pixel that brings its centre of mass nearer the centre (up/left on a tie)."""
        size = check_int(size, "input size", MIN_INPUT_SIZE, MAX_INPUT_SIZE)
        f = self.factor
        if size == MNIST_SIZE:
            return self.pixels
        extra = (size - MNIST_SIZE) * f  # pixels added (removed) across the field
        top = left = extra // 2
        mass = float(self.pixels.sum())
        if extra % 2 and mass > 0:  # per axis, the offset that centres the mass best
            ys = np.arange(self.pixels.shape[0], dtype=np.float64)
            centre = (size * f - 1) / 2.0

            def best(profile: np.ndarray) -> int:
                com = float(profile @ ys) / mass
                return min((abs(com + o - centre), o) for o in (extra // 2, extra // 2 + 1))[1]

            top, left = best(self.pixels.sum(axis=1)), best(self.pixels.sum(axis=0))
        return _paste(self.pixels, size * f, top, left)

    def model_input(self, size: int = MNIST_SIZE) -> np.ndarray:
        """The ``size × size`` model input at 0°, float32 in [0, 1]: :meth:`field` averaged
        down to one value per pixel. ``size`` 28 is :attr:`image`, bit for bit."""
        return box_downsample(self.field(size), self.factor)


def _paste(image: np.ndarray, side: int, top: int, left: int) -> np.ndarray:
    """``image`` placed with its corner at (top, left) of a black ``side × side`` field
    (negative offsets and overhangs are cut off)."""
    out = np.zeros((side, side), np.float32)
    h, w = image.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, side), min(left + w, side)
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = image[y0 - top : y1 - top, x0 - left : x1 - left]
    return out


def box_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor × factor`` blocks: ``[H, W] -> [H/factor, W/factor]`` float32."""
    factor = check_int(factor, "factor", 1, MAX_FACTOR)
    image = np.asarray(image, dtype=np.float32)
    if factor == 1:
        return np.ascontiguousarray(image)
    h, w = image.shape
    if h % factor or w % factor:
        raise ValueError(f"{h}×{w} is not divisible by {factor}")
    return image.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased resize of a float image: area average down, bicubic up."""
    h, w = image.shape
    shrinking = width <= w and height <= h
    filt = Image.BOX if shrinking else Image.BICUBIC
    out = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(
        (width, height), filt
    )
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def to_mnist_digit(image: np.ndarray, *, factor: int = SUPERSAMPLE) -> Digit:
    """MNIST-style preprocessing of a white-on-black float image of any size.

    The ink's bounding box (pixels above ``INK_THRESHOLD`` × the maximum) is scaled, keeping
    its aspect ratio, so its longer side is 20 px, then placed so its centre of mass is at the
    centre of the 28×28 field (to 1/``factor`` px). A blank image gives a blank digit.
    """
    factor = check_int(factor, "factor", 1, MAX_FACTOR)
    try:
        image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    except (TypeError, ValueError):
        raise ConfigError(
            f"image must be an array of grey values, not {type(image).__name__}"
        ) from None
    if image.ndim != 2:
        raise ConfigError(f"expected a 2-D grey image, got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ConfigError("the image holds non-finite values (NaN)")
    size = MNIST_SIZE * factor
    out = np.zeros((size, size), np.float32)
    peak = float(image.max()) if image.size else 0.0
    if peak <= 0.0:
        return Digit(out, factor)
    rows = np.flatnonzero((image > INK_THRESHOLD * peak).any(axis=1))
    cols = np.flatnonzero((image > INK_THRESHOLD * peak).any(axis=0))
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = FIT_SIZE * factor / max(h, w)
    new_h = max(1, min(FIT_SIZE * factor, round(h * scale)))
    new_w = max(1, min(FIT_SIZE * factor, round(w * scale)))
    fitted = _resize(crop, new_w, new_h)  # [new_h, new_w]
    mass = float(fitted.sum())
    if mass <= 0.0:
        return Digit(out, factor)
    ys, xs = np.arange(new_h, dtype=np.float64), np.arange(new_w, dtype=np.float64)
    com_y = float(fitted.sum(axis=1) @ ys) / mass
    com_x = float(fitted.sum(axis=0) @ xs) / mass
    centre = (size - 1) / 2.0  # pixel-index centre, the fixed point of rot90
    top, left = round(centre - com_y), round(centre - com_x)
    # paste with clipping: an off-centre centre of mass may push a stroke over the edge
    return Digit(_paste(fitted, size, top, left), factor)


def mnist_preprocess(image: np.ndarray) -> np.ndarray:
    """MNIST-style preprocessing (see :func:`to_mnist_digit`): float32 ``[28, 28]``."""
    return to_mnist_digit(image).image


def quarter_turns(angle: float) -> int | None:
    """``k`` in 0..3 when ``angle`` (degrees) is a multiple of 90° (k quarter turns), else None.
    :class:`ConfigError` for an angle that is not a finite number."""
    turns = check_number(angle, "angle") / 90.0
    nearest = round(turns)
    if math.isclose(turns, nearest, rel_tol=0.0, abs_tol=1e-9):
        return nearest % 4
    return None


def parse_rotation(method: str) -> tuple[str, int]:
    """``(kind, K)`` for a rotation method (:data:`ROTATION_METHODS`): ``"native"``,
    ``"nearest"``, ``"bilinear"``, ``"bicubic"`` (K 1) or ``"supersample:K"`` (K in 1..16).
    :class:`ConfigError` (one line, listing the methods) for anything else."""
    text = method.strip().lower() if isinstance(method, str) else None
    if text in ("native", *_PIL_FILTERS):
        return text, 1
    if text is not None and text.startswith("supersample:"):
        k = text.partition(":")[2]
        if k.isdigit() and 1 <= int(k) <= MAX_FACTOR:
            return "supersample", int(k)
    raise ConfigError(
        f"rotation method must be one of native, nearest, bilinear, bicubic or "
        f"supersample:K with K in 1..{MAX_FACTOR}, not {method!r}"
    )


def rotate_input(
    digit: Digit, angle: float, size: int = MNIST_SIZE, method: str = DEFAULT_ROTATION
) -> np.ndarray:
    """The ``size × size`` model input for ``digit`` turned ``angle`` degrees
    counter-clockwise (the digit drawn into that field: :meth:`Digit.model_input`).

    Multiples of 90° are exact (``np.rot90``, no interpolation) whatever the ``method``: the
    only rotations that are symmetries of the pixel grid. Other angles (:func:`parse_rotation`):

    - ``native`` (the app's, the default): bicubic on the digit's own pixels, then averaged
      down. A high-resolution digit (drawn, or an image file) keeps its strokes sharp; a
      28×28 digit is rotated with the bicubic filter MNIST-rot itself was generated with
      (:mod:`gcnn_viewer.data.mnist_rot`), so rotated inputs look like the training data.
    - ``nearest`` / ``bilinear`` / ``bicubic``: that filter on the ``size × size`` input.
    - ``supersample:K``: bicubic at K× resolution (the digit's own pixels averaged down to
      K×, or its pixels repeated as K×K blocks), then K×K blocks averaged down.

    Returns float32 ``[size, size]`` in [0, 1].
    """
    if not isinstance(digit, Digit):
        raise ConfigError(f"digit must be a Digit, not {type(digit).__name__}")
    angle = check_number(angle, "angle")
    kind, k_factor = parse_rotation(method)
    k = quarter_turns(angle)
    if k is not None:
        return np.ascontiguousarray(np.rot90(digit.model_input(size), k))
    if kind in _PIL_FILTERS:
        return _pil_rotate(digit.model_input(size), angle, _PIL_FILTERS[kind])
    field, factor = digit.field(size), digit.factor
    if kind == "supersample" and k_factor != factor:
        if factor % k_factor == 0:
            field = box_downsample(field, factor // k_factor)
        else:
            base = field if k_factor % factor == 0 else box_downsample(field, factor)
            repeat = k_factor // (factor if k_factor % factor == 0 else 1)
            field = np.kron(base, np.ones((repeat, repeat), np.float32))
        factor = k_factor
    rotated = np.asarray(
        Image.fromarray(np.ascontiguousarray(field, dtype=np.float32)).rotate(
            float(angle), resample=Image.BICUBIC
        ),
        dtype=np.float32,
    )
    return np.clip(box_downsample(rotated, factor), 0.0, 1.0)


def _pil_rotate(image: np.ndarray, angle: float, resample: int) -> np.ndarray:
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32))
    rotated = np.asarray(img.rotate(float(angle), resample=resample), dtype=np.float32)
    return np.clip(rotated, 0.0, 1.0)


def image_format(head: bytes) -> str | None:
    """Pillow's name for the allowed format (:data:`IMAGE_FORMATS`) whose signature ``head``
    (a file's first 16 bytes or more) starts with; None for anything else."""
    for signature, offset, fmt in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if fmt == "WEBP" and head[:4] != b"RIFF":
                continue
            return fmt
    return None


def _refused_format(head: bytes) -> str:
    """`` (it looks like PDF)``: a few words on a refused file, when it is recognisable."""
    for signature, what in _REFUSED:
        if head.lstrip()[: len(signature)].lower() == signature.lower():
            return f"; it looks like {what}, which is never opened"
    return ""


@contextlib.contextmanager
def open_image(path: Path | str) -> Iterator[Image.Image]:
    """The one way gcnn-viewer opens an image file (a digit from the command line, the Python
    API, the app's File ▸ Open, drag and drop, the shipped samples).

    Yields the Pillow image with only its header read. Only a regular file whose first bytes
    are one of :data:`IMAGE_FORMATS` is handed to Pillow, and Pillow may try only that format's
    plugin, so no other decoder (EPS through Ghostscript, above all) ever runs. The size is
    checked from the header before any pixel is decoded. A FIFO or device is never opened for
    reading (it could block). Raises :class:`DigitImageError` with one line; errors the body
    raises while decoding become one too.
    """
    path = Path(path)
    name = path.name or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DigitImageError(f"{name}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise DigitImageError(f"{name}: is a directory, not an image file") from None
        raise DigitImageError(f"{name}: cannot read it ({describe_os_error(exc)})") from None
    except ValueError:  # a NUL in the name
        raise DigitImageError(f"{name!r}: not a valid file name") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise DigitImageError(f"{name}: is a directory, not an image file")
        raise DigitImageError(
            f"{name}: is not a regular file (a FIFO, device or socket), not an image file"
        )
    with os.fdopen(fd, "rb") as file:
        try:
            head = file.read(32)
            file.seek(0)
        except OSError as exc:
            raise DigitImageError(f"{name}: cannot read it ({describe_os_error(exc)})") from None
        fmt = image_format(head)
        if fmt is None:
            raise DigitImageError(
                f"{name}: not an image in a supported format ({', '.join(IMAGE_FORMATS)})"
                f"{_refused_format(head)}"
            )
        previous = Image.MAX_IMAGE_PIXELS
        # Pillow's own bomb check would refuse at open without naming the size; the check
        # below reads the size from the header and refuses, before decoding, anything it would
        Image.MAX_IMAGE_PIXELS = None
        try:
            with _no_bomb_warning(), Image.open(file, formats=[fmt]) as img:  # header only
                width, height = img.size
                if max(width, height) > MAX_IMAGE_SIDE:
                    raise DigitImageError(
                        f"{name}: the image is {width}×{height} px; at most "
                        f"{MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} px is accepted for a digit "
                        "(scale it down)"
                    )
                yield img
        except DigitImageError:
            raise
        except UnidentifiedImageError:
            raise DigitImageError(
                f"{name}: the image is corrupt or truncated (not a readable {fmt} file)"
            ) from None
        except Image.DecompressionBombError:  # (a format that decodes at open, if any)
            raise DigitImageError(
                f"{name}: the image is too large; at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} px "
                "is accepted for a digit (scale it down)"
            ) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise DigitImageError(
                f"{name}: the image is corrupt or truncated ({first_line(exc, 120)})"
            ) from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def load_image_file(path: Path | str) -> np.ndarray:
    """Read an image file as a float32 white-on-black grey image in [0, 1] (any size).

    Only PNG, JPEG, BMP, GIF, TIFF, WebP and PNM files are read, recognised by their content
    (:func:`open_image`). Colour is converted to grey; 16-bit and float images are scaled by
    their real range (not as if they were 8-bit). Transparent areas count as paper of the
    colour that contrasts with the ink (so dark ink and white ink on a transparent background
    both work). Dark ink on light paper (the usual scan or drawing) is inverted to MNIST's
    polarity, judged by the image border. Raises :class:`DigitImageError` with one line for a
    missing, unreadable, refused, blank, non-finite or oversized file; the size is checked
    from the header, before any pixel is decoded, so a huge file neither blocks nor fills the
    memory.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DigitImageError(f"an image path must be a str or a path, not {type(path).__name__}")
    path = Path(path)
    name = path.name or str(path)
    with open_image(path) as img:
        img.load()
        grey = _grey(img)
    if not np.isfinite(grey).all():
        raise DigitImageError(f"{name}: the image holds non-finite pixel values (NaN or infinity)")
    grey = np.clip(grey, 0.0, 1.0)
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise DigitImageError(f"{name}: the image is too small to hold a digit")
    if float(np.median(_border(grey))) > 0.5:  # light paper: make the ink white
        grey = 1.0 - grey
    grey = np.clip(grey - float(np.median(_border(grey))), 0.0, 1.0)  # grey paper -> black
    peak = float(grey.max())
    if peak < 0.05:
        raise DigitImageError(f"{name}: the image is blank (no ink found)")
    return (grey / peak).astype(np.float32)


@contextlib.contextmanager
def _no_bomb_warning() -> Iterator[None]:
    """Pillow warns about large images at open; they are refused with one line instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _grey(img: Image.Image) -> np.ndarray:
    """The decoded image as float32 grey ``[H, W]`` in [0, 1] (NaN kept, for the caller to
    refuse). Alpha is composited over paper that contrasts with the opaque pixels."""
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0  # [H, W, 4]
        alpha = rgba[..., 3]
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as "L"
        weight = float(alpha.sum())
        # the ink is what is opaque: light ink (white on transparent) goes on black paper
        ink_is_light = weight > 0 and float((lum * alpha).sum()) / weight > 0.5
        paper = 0.0 if ink_is_light else 1.0
        return (lum * alpha + paper * (1.0 - alpha)).astype(np.float32)
    if img.mode.startswith("I;16"):
        return np.asarray(img.convert("F"), dtype=np.float32) / 65535.0  # 16-bit range
    if img.mode in ("I", "F"):  # 32-bit int or float: the range the values really have
        values = np.asarray(img.convert("F"), dtype=np.float32)
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 0.0
        if lo >= 0.0 and hi <= 1.0:
            return values
        if lo >= 0.0 and hi <= 255.0:
            return values / 255.0
        if lo >= 0.0 and hi <= 65535.0:
            return values / 65535.0
        return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return np.asarray(img.convert("F"), dtype=np.float32) / 255.0


def _border(image: np.ndarray) -> np.ndarray:
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])

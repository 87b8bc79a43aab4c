"""MNIST-style preprocessing, rotation without needless blur, and reading image files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFile

from gcnn_viewer.data.digits import (
    FIT_SIZE,
    SUPERSAMPLE,
    Digit,
    DigitImageError,
    box_downsample,
    load_image_file,
    mnist_preprocess,
    parse_rotation,
    quarter_turns,
    rotate_input,
    to_mnist_digit,
)
from gcnn_viewer.errors import ConfigError


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    mass = image.sum()
    return float((ys * image).sum() / mass), float((xs * image).sum() / mass)


def ink_box(image: np.ndarray, threshold: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def seven(size: int = 300) -> np.ndarray:
    """A thick "7", off-centre in a large image."""
    img = np.zeros((size, size), np.float32)
    s = size / 300
    img[int(40 * s) : int(60 * s), int(30 * s) : int(150 * s)] = 1.0  # top bar
    for t in np.linspace(0, 1, 400):  # the diagonal
        y, x = int((60 + 160 * t) * s), int((140 - 70 * t) * s)
        img[y - int(9 * s) : y + int(9 * s), x - int(9 * s) : x + int(9 * s)] = 1.0
    return img


def test_preprocess_fits_the_ink_into_20x20_and_centres_its_mass():
    x = mnist_preprocess(seven())
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    h, w = ink_box(x)
    assert max(h, w) in (FIT_SIZE, FIT_SIZE + 1)  # + 1: anti-aliased edge pixels
    assert w < h  # the aspect ratio is kept, not stretched to a square
    cy, cx = centre_of_mass(x)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    # anti-aliased: edges have intermediate grey levels
    assert ((x > 0.05) & (x < 0.95)).sum() > 10


def test_preprocess_is_independent_of_position_and_scale():
    big = mnist_preprocess(seven(300))
    small = mnist_preprocess(seven(150))
    shifted = mnist_preprocess(np.roll(seven(300), (30, 60), axis=(0, 1)))
    np.testing.assert_allclose(big, shifted, atol=1e-6)
    assert np.abs(big - small).mean() < 0.05


def test_blank_image_gives_a_blank_digit():
    digit = to_mnist_digit(np.zeros((50, 40)))
    assert digit.factor == SUPERSAMPLE and not digit.image.any()


def test_digit_keeps_a_sharp_high_resolution_version():
    digit = to_mnist_digit(seven())
    assert digit.pixels.shape == (28 * SUPERSAMPLE, 28 * SUPERSAMPLE)
    np.testing.assert_allclose(digit.image, box_downsample(digit.pixels, SUPERSAMPLE))
    with pytest.raises(ValueError):
        Digit(np.zeros((28, 28), np.float32), 4)


def test_quarter_turns():
    assert [quarter_turns(a) for a in (0, 90, 180, 270, 360, -90, 450)] == [0, 1, 2, 3, 0, 3, 1]
    assert quarter_turns(45) is None and quarter_turns(89.9) is None


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
def test_multiples_of_90_are_exact_rot90(factor):
    digit = to_mnist_digit(seven()) if factor > 1 else Digit(mnist_preprocess(seven()), 1)
    base = digit.image
    for k, angle in enumerate((0, 90, 180, 270)):
        np.testing.assert_array_equal(rotate_input(digit, angle), np.rot90(base, k))
    np.testing.assert_array_equal(rotate_input(digit, 360), base)
    np.testing.assert_array_equal(rotate_input(digit, -90), np.rot90(base, -1))


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
def test_other_angles_rotate_counter_clockwise_and_continuously(factor):
    digit = to_mnist_digit(seven()) if factor > 1 else Digit(mnist_preprocess(seven()), 1)
    base = digit.image
    near = rotate_input(digit, 89.5)
    assert np.abs(near - np.rot90(base, 1)).mean() < 0.02  # close to the exact 90°
    assert np.abs(rotate_input(digit, 0.5) - base).mean() < 0.02
    tilted = rotate_input(digit, 45)
    assert tilted.dtype == np.float32 and tilted.min() >= 0 and tilted.max() <= 1
    assert abs(tilted.sum() - base.sum()) < 0.1 * base.sum()  # ink is neither lost nor made


def test_supersampled_rotation_stays_sharp():
    """Rotating the 4× digit and averaging down keeps the strokes' solid cores: about as
    many near-white pixels as the upright digit has."""
    digit = to_mnist_digit(seven())
    solid = (digit.image > 0.9).sum()
    for angle in (15, 30, 45, 60):
        tilted = rotate_input(digit, angle)
        assert tilted.max() >= 0.99
        assert (tilted > 0.9).sum() >= 0.85 * solid, angle


def _save(tmp_path, name, array, mode="L"):
    path = tmp_path / name
    Image.fromarray(array, mode).save(path)
    return path


def test_load_image_inverts_dark_ink_on_light_paper(tmp_path):
    paper = np.full((60, 80), 230, np.uint8)  # grey paper
    paper[20:40, 30:50] = 20  # dark ink
    img = load_image_file(_save(tmp_path, "scan.png", paper))
    assert img.shape == (60, 80) and img.dtype == np.float32
    assert img[30, 40] == pytest.approx(1.0) and img[5, 5] == pytest.approx(0.0)


def test_load_image_with_transparency_and_colour(tmp_path):
    rgba = np.zeros((50, 50, 4), np.uint8)  # transparent background
    rgba[10:40, 20:25] = (200, 20, 20, 255)  # opaque red stroke
    img = load_image_file(_save(tmp_path, "pen.png", rgba, "RGBA"))
    assert img[25, 22] > 0.9 and img[2, 2] == 0.0


def test_load_16_bit_greyscale_by_its_real_range(tmp_path):
    """Ink 20000 on white 65535 used to be divided by 255 and clipped: "blank"."""
    a = np.full((40, 40), 65535, np.uint16)
    a[10:30, 18:22] = 20000
    path = tmp_path / "scan16.png"
    Image.fromarray(a).save(path)
    assert Image.open(path).mode.startswith("I;16")
    img = load_image_file(path)
    assert img[20, 20] == pytest.approx(1.0) and img[2, 2] == 0.0


def test_load_white_ink_on_a_transparent_background(tmp_path):
    for background in ((0, 0, 0, 0), (255, 255, 255, 0)):  # transparent black or white
        rgba = np.zeros((50, 50, 4), np.uint8)
        rgba[...] = background
        rgba[10:40, 20:25] = (255, 255, 255, 255)  # opaque white stroke
        img = load_image_file(_save(tmp_path, "white-pen.png", rgba, "RGBA"))
        assert img[25, 22] == pytest.approx(1.0) and img[2, 2] == 0.0


def test_load_image_refuses_non_finite_pixels(tmp_path):
    values = np.zeros((30, 30), np.float32)
    values[10:20, 14] = 1.0
    for bad in (np.nan, np.inf):
        values[5, 5] = bad
        path = tmp_path / "float.tif"
        Image.fromarray(values, "F").save(path)
        with pytest.raises(DigitImageError, match="non-finite") as info:
            load_image_file(path)
        assert "\n" not in str(info.value)


def test_load_image_refuses_a_huge_image_before_decoding_it(tmp_path, monkeypatch):
    """An 8900x8900 PNG used to take seconds and 1.3 GB: the header alone is enough to refuse."""
    path = tmp_path / "huge.png"
    Image.new("L", (8900, 40), 255).save(path)  # small file, a wide header
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(1))
    with pytest.raises(DigitImageError, match="8900×40 px; at most 4096×4096 px") as info:
        load_image_file(path)
    assert not decoded and "\n" not in str(info.value)


def test_load_mnist_format_image_round_trips(tmp_path):
    digit = (mnist_preprocess(seven()) * 255).round().astype(np.uint8)
    img = load_image_file(_save(tmp_path, "d.png", digit))
    np.testing.assert_allclose(img, digit / digit.max(), atol=1e-6)


@pytest.mark.parametrize(
    "content,message",
    [(b"not an image at all", "not an image"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image")],
)
def test_load_image_refuses_bad_files_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(DigitImageError, match=message) as info:
        load_image_file(path)
    assert "\n" not in str(info.value) and str(info.value).startswith("bad.png: ")


def test_load_image_refuses_missing_and_blank_files(tmp_path):
    with pytest.raises(DigitImageError, match="no such file"):
        load_image_file(tmp_path / "nothing.png")
    with pytest.raises(DigitImageError, match="blank"):
        load_image_file(_save(tmp_path, "white.png", np.full((30, 30), 255, np.uint8)))


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
def test_a_quarter_turn_more_is_rot90_at_every_angle(factor):
    """The resampling grid is symmetric under quarter turns, so a network that is exactly
    equivariant to rot90 stays so between the quarter turns: its curve repeats every 90°."""
    digit = to_mnist_digit(seven()) if factor > 1 else Digit(mnist_preprocess(seven()), 1)
    for angle in (13, 37, 61):
        np.testing.assert_allclose(
            rotate_input(digit, angle + 90), np.rot90(rotate_input(digit, angle)), atol=1e-5
        )


# -- other input sizes and rotation methods (issue 23) -----------------------------------------
METHODS = (
    "native",
    "nearest",
    "bilinear",
    "bicubic",
    "supersample:1",
    "supersample:3",
    "supersample:4",
    "supersample:8",
)


def _digit(factor: int) -> Digit:
    return to_mnist_digit(seven()) if factor > 1 else Digit(mnist_preprocess(seven()), 1)


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
def test_model_input_at_28_is_today_s_image_bit_for_bit(factor):
    digit = _digit(factor)
    assert digit.model_input(28).tobytes() == digit.image.tobytes()
    assert digit.model_input().tobytes() == digit.image.tobytes()
    for method in METHODS:
        assert rotate_input(digit, 90, 28, method).tobytes() == np.rot90(digit.image).tobytes()
    # the default rotation is the app's: the same bytes as before the size and method existed
    np.testing.assert_array_equal(rotate_input(digit, 45), rotate_input(digit, 45, 28, "native"))


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
@pytest.mark.parametrize("size", [20, 27, 29, 30, 33, 64])
def test_model_input_draws_the_digit_into_an_n_field_the_mnist_way(factor, size):
    """Same 20×20 ink, centre of mass at the field's centre: to a quarter pixel for a 4×
    digit; to half a pixel for a 28×28 one in an odd field (it cannot move by half a pixel)."""
    digit = _digit(factor)
    x = digit.model_input(size)
    assert x.shape == (size, size) and x.dtype == np.float32
    np.testing.assert_array_equal(x, box_downsample(digit.field(size), factor))
    if size < 28:  # a smaller field cuts only the margin
        assert float(x.sum()) > (0.97 if size == 27 else 0.85) * float(digit.image.sum())
        return
    assert abs(float(x.sum()) - float(digit.image.sum())) < 1e-3  # nothing cut off
    assert np.abs(np.subtract(ink_box(x), ink_box(digit.image))).max() <= 1  # ± a block
    # at the digit's own resolution the centre of mass moves with the field's centre, exactly
    # where the field grows by whole pixels of that resolution, else by the nearer half pixel
    cy, cx = centre_of_mass(digit.field(size))
    ry, rx = centre_of_mass(digit.pixels)
    moved = (size - 28) * factor / 2
    slack = 0.5 + 1e-6 if (size - 28) * factor % 2 else 1e-4
    assert abs(cy - (ry + moved)) <= slack and abs(cx - (rx + moved)) <= slack
    centre = (size * factor - 1) / 2
    assert abs(cy - centre) <= abs(ry - (28 * factor - 1) / 2) + slack


@pytest.mark.parametrize("factor", [1, SUPERSAMPLE])
@pytest.mark.parametrize("size", [27, 29, 30])
@pytest.mark.parametrize("method", METHODS)
def test_quarter_turns_stay_exact_rot90_whatever_the_method(factor, size, method):
    digit = _digit(factor)
    upright = digit.model_input(size)
    for k, angle in enumerate((0, 90, 180, 270)):
        turned = rotate_input(digit, angle, size=size, method=method)
        assert turned.tobytes() == np.ascontiguousarray(np.rot90(upright, k)).tobytes()
    tilted = rotate_input(digit, 45, size=size, method=method)
    assert tilted.shape == (size, size) and tilted.min() >= 0 and tilted.max() <= 1
    assert abs(tilted.sum() - upright.sum()) < 0.1 * upright.sum()


def test_rotation_methods_differ_between_quarter_turns_and_name_what_they_are():
    digit = _digit(SUPERSAMPLE)
    tilted = {m: rotate_input(digit, 45, 29, m) for m in METHODS}
    # supersample:1 is bicubic; native is supersample:4 (below); the rest all differ
    assert len({t.tobytes() for t in tilted.values()}) == len(METHODS) - 2
    # the app's rotation of a 4× digit is supersample:4; of a 28×28 digit, plain bicubic
    assert tilted["native"].tobytes() == tilted["supersample:4"].tobytes()
    small = _digit(1)
    assert (
        rotate_input(small, 45, 29, "native").tobytes()
        == rotate_input(small, 45, 29, "bicubic").tobytes()
    )
    # nearest copies pixel values; bilinear never overshoots
    assert set(np.unique(tilted["nearest"])) <= set(np.unique(digit.model_input(29)))
    assert parse_rotation(" Supersample:8 ") == ("supersample", 8)


@pytest.mark.parametrize(
    "method", ["lanczos", "supersample", "supersample:0", "supersample:17", "supersample:x", 3]
)
def test_bad_rotation_methods_and_sizes_are_one_line_errors(method):
    digit = _digit(1)
    with pytest.raises(ConfigError, match="rotation method must be one of native") as err:
        rotate_input(digit, 45, 28, method)
    assert "\n" not in str(err.value)
    for size in (19, 65, 28.5):
        with pytest.raises(ConfigError, match="input size"):
            digit.model_input(size)

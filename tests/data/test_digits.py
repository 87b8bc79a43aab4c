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
    quarter_turns,
    rotate_input,
    to_mnist_digit,
)


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

import numpy as np
import pytest

from gcnn_viewer.data.mnist_rot import MnistRot, MnistRotSpec, _write, content_hash
from gcnn_viewer.viewer.browser import DigitBrowser, cached_mnist_rot
from gcnn_viewer.viewer.state import ViewerState


@pytest.mark.parametrize(
    "start,direction,end",
    [
        (0, 1, 90),
        (37, 1, 90),
        (90, 1, 180),
        (270, 1, 0),
        (350, 1, 0),
        (37, -1, 0),
        (0, -1, 270),
        (90, -1, 0),
        (180.5, -1, 180),
    ],
)
def test_quarter_steps_land_on_multiples_of_90(catalog, start, direction, end):
    state = ViewerState(catalog)
    state.angle = start
    state.rotate_quarter(direction)
    assert state.angle == end


def test_angle_is_normalised_and_announced_once(catalog):
    state = ViewerState(catalog)
    seen = []
    state.angle_changed.connect(seen.append)
    state.angle = 370
    state.angle = 10
    state.angle = -90
    assert seen == [10.0, 270.0]


def test_display_options_and_panels(catalog):
    state = ViewerState(catalog)
    panels = []
    state.panel_changed.connect(panels.append)
    with pytest.raises(ValueError):
        state.tracked_class = 10
    state.set_panel(0, "untrained:p4mcnn")
    assert panels == [0] and state.panel_entry(0).arch == "p4mcnn"
    with pytest.raises(KeyError):
        state.set_panel(1, "nope")
    state.brush = 5
    assert state.brush == 0.2


def test_each_field_announces_its_own_changes_once(catalog):
    """One event per field, with the new value: a view showing one field hears only it."""
    state = ViewerState(catalog)
    heard = []
    for name in ("angle", "stabilised", "tracked_class", "brush", "panel"):
        getattr(state, f"{name}_changed").connect(lambda v, n=name: heard.append((n, v)))
    state.stabilised = True
    state.stabilised = True
    state.tracked_class = 7
    state.tracked_class = 7
    state.tracked_class = None
    state.brush = 0.1
    state.brush = 0.1
    state.brush = 5
    state.angle = 30
    assert heard == [
        ("stabilised", True),
        ("tracked_class", 7),
        ("tracked_class", None),
        ("brush", 0.1),
        ("brush", 0.2),
        ("angle", 30.0),
    ]


def fake_mnist_rot(n_test=5) -> MnistRot:
    spec = MnistRotSpec(n_train=2, n_valid=1, n_test=n_test)
    n = spec.n_total
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = 255
    labels = np.arange(n, dtype=np.int64) % 10
    return MnistRot(
        images,
        labels,
        np.linspace(0, 300, n).astype(np.float32),
        np.arange(n),
        spec,
        content_hash(images, labels),
    )


def test_browser_reads_the_cached_test_split(tmp_path):
    assert cached_mnist_rot(tmp_path) is None
    data = fake_mnist_rot()
    _write(data, tmp_path / data.spec.cache_name)
    assert cached_mnist_rot(tmp_path) == tmp_path / data.spec.cache_name
    browser = DigitBrowser.from_cache(tmp_path)
    assert len(browser) == 5 and browser.label() == int(data.labels[3])
    assert browser.image().max() == 1.0 and browser.image().dtype == np.float32
    assert browser.angle() == pytest.approx(float(data.angles[3]))
    moves = []
    browser.changed.connect(moves.append)
    browser.step(-1)
    assert browser.index == 4 and moves == [4]  # wraps around
    assert "label" in browser.describe() and "rotated" in browser.describe()

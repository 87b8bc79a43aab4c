"""The Export dialog's decisions without Qt: channel and angle texts, formats per kind, file
names, and choices turned into the export they describe (one-line errors before any work)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gcnn_viewer.export import ExportError, ViewSpec
from gcnn_viewer.export import choices as ch


@pytest.fixture
def base(models, digit) -> ViewSpec:
    """What the app's window hands the dialog: both panels' models at the current angle."""
    return ViewSpec(models, digit, angles=(37.5,), stabilised=False, extra={"tracked_class": None})


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("", None),
        ("  all ", None),
        ("3", (3,)),
        ("0-4,7", (0, 1, 2, 3, 4, 7)),
        ("7, 0-2 2", (7, 0, 1, 2)),
        ("1–3", (1, 2, 3)),  # an en dash, as some keyboards type it
    ],
)
def test_parse_channels(text, channels):
    assert ch.parse_channels(text) == channels


@pytest.mark.parametrize("text", ["x", "1-", "-3", "4-2", "1.5"])
def test_parse_channels_says_what_is_wrong_in_one_line(text):
    with pytest.raises(ExportError) as info:
        ch.parse_channels(text)
    assert "channels" in str(info.value) and "\n" not in str(info.value)


def test_parse_angles():
    assert ch.parse_angles("0 37.5, 90°") == (0.0, 37.5, 90.0)
    for bad in ("", "ninety", "nan"):
        with pytest.raises(ExportError):
            ch.parse_angles(bad)


def test_quarter_turns_and_default_angles():
    assert ch.with_quarter_turns([30]) == (30.0, 120.0, 210.0, 300.0)
    assert ch.with_quarter_turns([0, 90]) == (0.0, 90.0, 180.0, 270.0)  # each once
    assert ch.default_angles("figure", 37.5) == (37.5,)
    assert ch.default_angles("rotate-and-cycle", 300) == (300.0, 30.0)


def test_formats_per_kind():
    assert ch.formats("figure") == ("png", "svg", "pdf")
    assert ch.formats("sweep") == ("png", "svg", "pdf", "csv")
    assert ch.formats("data") == ("npz",)
    assert ch.formats("animation", mp4=False) == ("gif", "webp", "png")
    assert ch.formats("animation", mp4=True)[-1] == "mp4"
    with pytest.raises(ExportError):
        ch.formats("hologram")


def test_default_dpi():
    assert ch.default_dpi("figure") == 200 and ch.default_dpi("animation") == 100


def test_file_names_say_what_is_inside():
    assert ch.default_filename("figure", ["z2cnn", "p4cnn"], "png", None, 90) == (
        "z2cnn-p4cnn-90deg.png"
    )
    assert ch.default_filename("figure", ["p4cnn"], "svg", ("l3",), -90) == "p4cnn-l3-270deg.svg"
    assert ch.default_filename("rotate-and-cycle", ["z2cnn", "p4cnn"], "pdf", None, 0) == (
        "z2cnn-p4cnn-l1-rotate-and-cycle.pdf"
    )
    assert ch.default_filename("animation", ["p4cnn"], "gif", ("l1",), 0) == "p4cnn-l1-turning.gif"
    assert ch.default_filename("sweep", ["a b"], "csv", None, 0) == "a-b-probability-vs-angle.csv"
    assert ch.with_suffix("/x/maps.png", "svg") == "/x/maps.svg"
    assert ch.with_suffix("/x/maps.v2", "pdf") == "/x/maps.v2.pdf"
    assert ch.with_suffix("", "pdf") == ""


def test_plan_from_the_view(base, tmp_path):
    choices = ch.ExportChoices(
        kind="figure",
        models="right",
        layers=("l1",),
        channels="0-2",
        quarter_turns=True,
        stabilised=True,
        fmt="svg",
        dpi=80,
        path=str(tmp_path / "maps.svg"),
    )
    job = ch.plan(choices, base)
    assert [m.name for m in job.spec.models] == [base.models[1].name]
    assert job.spec.angles == (37.5, 127.5, 217.5, 307.5)  # the current angle, turned
    assert job.spec.layers == ("l1",) and job.spec.channels == (0, 1, 2)
    assert job.spec.stabilised and job.spec.input is base.input
    assert job.options == {"dpi": 80} and job.path == tmp_path / "maps.svg"
    assert job.spec.extra["exported_from"] == "gcnn-viewer app"
    rc = ch.plan(choices.replace(kind="rotate-and-cycle", quarter_turns=False), base)
    assert rc.spec.angles == (37.5, 127.5)  # θ and θ + 90°
    typed = ch.plan(choices.replace(angles="0 90", quarter_turns=False), base)
    assert typed.spec.angles == (0.0, 90.0)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"channels": "99"}, "not 99"),
        ({"channels": "0-x"}, "channels"),
        ({"layers": ("l9",)}, "no layer l9"),
        ({"layers": ()}, "at least one layer"),
        ({"angles": "east"}, "angles"),
        ({"fmt": "gif"}, "not GIF"),
        ({"dpi": 5}, "dpi"),
        ({"kind": "animation", "fmt": "gif", "frames": 1}, "frames"),
        ({"path": ""}, "choose where"),
        ({"path": "/no/such/folder/x.png"}, "no such directory"),
        ({"path": "maps.svg"}, "the format is PNG"),
        ({"models": "middle"}, "middle"),
    ],
)
def test_bad_choices_are_one_line_before_any_work(base, tmp_path, changes, says):
    choices = ch.ExportChoices(path=str(tmp_path / "maps.png")).replace(**changes)
    if changes.get("path") == "maps.svg":
        choices.path = str(tmp_path / "maps.svg")
    with pytest.raises(ExportError) as info:
        ch.plan(choices, base)
    assert says in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_preview_needs_no_path(base):
    job = ch.plan(ch.ExportChoices(kind="data", fmt="npz", layers=("top",)), base, check_path=False)
    assert job.path is None
    image = job.preview(dpi=20)  # data previews as the figure of the same maps
    assert image.dtype == np.uint8 and image.ndim == 3
    with pytest.raises(ExportError, match="choose where"):
        job.run()


def test_sweep_ignores_layers_and_channels(base, tmp_path):
    out = tmp_path / "p.csv"
    job = ch.plan(ch.ExportChoices(kind="sweep", fmt="csv", channels="99", path=str(out)), base)
    assert job.run() == out
    assert out.read_text().splitlines()[0].startswith("angle,")


def test_jobs_run_the_renderers(base, tmp_path):
    seen = []
    out = tmp_path / "turn.gif"
    choices = ch.ExportChoices(
        kind="animation", models="left", layers=("l1",), fmt="gif", frames=3, dpi=30, path=str(out)
    )
    job = ch.plan(choices, base)
    assert job.long and job.options == {"frames": 3, "fps": 12.0, "dpi": 30}
    job.run(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)
    with Image.open(out) as im:
        assert im.n_frames == 3
    fig = tmp_path / "fig.png"
    ch.plan(ch.ExportChoices(layers=("l1",), dpi=30, path=str(fig)), base).run()
    with Image.open(fig) as im:
        assert im.format == "PNG"


@pytest.mark.parametrize(("kind", "fmt"), [("animation", "gif"), ("sweep", "csv")])
def test_greyed_out_angles_are_not_read(base, kind, fmt):
    """The dialog disables Angles and + quarter turns for an animation and a sweep: what
    they hold neither refuses the export nor changes it."""
    choices = ch.ExportChoices(kind=kind, fmt=fmt, angles="x", quarter_turns=True)
    job = ch.plan(choices, base, check_path=False)
    assert job.spec.angles == (37.5,)  # the current angle, recorded as the view's


def test_a_sweep_reads_no_layers_channels_or_stabilised(base):
    choices = ch.ExportChoices(
        kind="sweep", fmt="png", layers=("l9",), channels="99", stabilised=True
    )
    job = ch.plan(choices, base, check_path=False)
    assert job.spec.layers is None and job.spec.channels is None and not job.spec.stabilised
    image = job.preview(dpi=20)  # the preview checks no layers or channels either
    assert image.dtype == np.uint8 and image.std() > 0
    bad = ViewSpec(base.models, base.input, layers=("l9",), channels=(99,))
    assert ch.render.preview(bad, "sweep", dpi=20).ndim == 3


@pytest.mark.parametrize("kind", ["figure", "rotate-and-cycle", "data"])
def test_kinds_with_angles_still_read_them(base, kind):
    fmt = ch.formats(kind)[0]
    with pytest.raises(ExportError, match="angles"):
        ch.plan(ch.ExportChoices(kind=kind, fmt=fmt, angles="x"), base, check_path=False)


def test_an_animation_still_reads_channels_and_layers(base):
    choices = ch.ExportChoices(kind="animation", fmt="gif", channels="99", angles="x")
    with pytest.raises(ExportError, match="not 99"):
        ch.plan(choices, base, check_path=False)
    job = ch.plan(choices.replace(channels="0-1", layers=("l1",)), base, check_path=False)
    assert job.spec.channels == (0, 1) and job.spec.layers == ("l1",)

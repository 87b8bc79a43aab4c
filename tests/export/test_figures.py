"""Figures (view, rotate-and-cycle) and sweeps in every format: they open, keep text as text,
embed maps as unsmoothed rasters, use the app's colours and record their provenance."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from gcnn_viewer import __version__
from gcnn_viewer.export import ViewSpec, export_figure, export_sweep
from gcnn_viewer.export.colours import lookup_table
from gcnn_viewer.viewer.layout import LayerScale
from tests.export.helpers import pdf_info_json, pdf_pages, pdf_text, read_json

SVG = "{http://www.w3.org/2000/svg}"


def check_provenance(record: dict, spec: ViewSpec) -> None:
    assert record["software"] == f"gcnn-viewer {__version__}"
    assert [m["name"] for m in record["models"]] == [m.name for m in spec.models]
    for entry, model in zip(record["models"], spec.models, strict=True):
        assert entry["sha256"] == model.sha256 and len(entry["sha256"]) == 64
    assert record["input"] == spec.input.source
    assert record["stabilised"] is spec.stabilised
    assert "angles" in record


def svg_root(path):
    return ET.parse(path).getroot()


def svg_texts(root) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("kind", ["view", "rotate-and-cycle"])
def test_figure_opens_with_text_and_provenance(spec, tmp_path, fmt, kind):
    out = tmp_path / f"maps.{fmt}"
    export_figure(spec, out, dpi=40, rotate_and_cycle=kind == "rotate-and-cycle")
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp file left
    if fmt == "png":
        with Image.open(out) as im:
            im.load()
            assert im.format == "PNG" and im.width > 100
            record = json.loads(im.text["gcnn-viewer"])
    elif fmt == "svg":
        root = svg_root(out)
        text = svg_texts(root)
        assert "P4CNN" in text and "Z2CNN" in text and "90°" in text  # text kept as text
        images = list(root.iter(f"{SVG}image"))
        assert images, "maps are embedded rasters"
        # nearest neighbour, no smoothing, in every viewer
        assert all("pixelated" in (im.get("style") or "") for im in images)
        described = [e.text for e in root.iter("{http://purl.org/dc/elements/1.1/}description")]
        record = json.loads(described[0])
    else:
        data = out.read_bytes()
        assert data.startswith(b"%PDF") and pdf_pages(data) == 1
        assert b"/FontFile2" in data  # TrueType embedded: text, not outlines
        text = pdf_text(data)
        assert "P4CNN" in text and "Z2CNN" in text
        record = pdf_info_json(data)
    check_provenance(record, spec)
    assert record["kind"] == ("figure" if kind == "view" else "rotate-and-cycle figure")


def test_view_figure_labels_every_layer_orientation_and_prediction(spec, tmp_path):
    out = tmp_path / "view.svg"
    export_figure(spec, out)
    text = svg_texts(svg_root(out))
    for label in ("l1", "top", "0°", "90°", "180°", "270°", "input at 0°", "input at 90°", "→"):
        assert label in text
    assert "synthetic 7" in text  # the input's source in the title


def test_default_figure_has_all_layers(models, digit, tmp_path):
    out = tmp_path / "all.svg"
    export_figure(ViewSpec(models, digit, angles=(0,)), out)
    text = svg_texts(svg_root(out))
    for layer in models[1].entry.probe().layers:
        assert f" {layer} " in f" {text} "


def test_channels_choose_rows(models, digit, tmp_path):
    out = tmp_path / "ch.svg"
    spec = ViewSpec(models[1:], digit, angles=(0,), layers=("l2",), channels=(3, 7))
    export_figure(spec, out)
    labels = [t.text for t in svg_root(out).iter(f"{SVG}text")]
    assert "3" in labels and "7" in labels and "5" not in labels


def test_rotate_and_cycle_says_which_rows_match(models, digit, tmp_path):
    raw, stab = tmp_path / "raw.svg", tmp_path / "stab.svg"
    export_figure(ViewSpec(models, digit, angles=(0, 90, 180, 270)), raw, rotate_and_cycle=True)
    text = svg_texts(svg_root(raw))
    assert "cycled by 1" in text and "cycled by 3" in text  # P4CNN: turned and cycled
    assert text.count("= first row turned") == 3  # P4CNN's three rows match
    assert text.count("≠ first row turned") == 3  # Z2CNN's do not
    spec = ViewSpec(models, digit, angles=(0, 90), stabilised=True)
    export_figure(spec, stab, rotate_and_cycle=True)
    text = svg_texts(svg_root(stab))
    assert "= first row" in text and "≠ first row" in text
    assert "stabilised" in text


def test_figure_colours_are_the_apps():
    """The colour tables match the app's pyqtgraph tables (within rounding)."""
    pytest.importorskip("PySide6")
    style = pytest.importorskip("gcnn_viewer.gui.style")
    for scale in (LayerScale(0.0, 1.0), LayerScale(-1.0, 1.0, diverging=True)):
        ours, app = lookup_table(scale).astype(int), style.lookup_table(scale).astype(int)
        assert ours.shape == app.shape
        assert np.abs(ours - app).max() <= 2


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "csv"])
def test_sweep(spec, tmp_path, fmt):
    out = tmp_path / f"sweep.{fmt}"
    export_sweep(spec, out, step=45, dpi=40)
    if fmt == "csv":
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        assert header[0] == "angle" and len(header) == 1 + 11 * len(spec.models)
        assert [float(r[0]) for r in body] == [0, 45, 90, 135, 180, 225, 270, 315]
        values = np.array([[float(v) for v in r[1:]] for r in body])  # [8, 22]
        for k in range(len(spec.models)):
            top, probs = values[:, 11 * k], values[:, 11 * k + 1 : 11 * k + 11]
            np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
            np.testing.assert_allclose(top, probs.max(1), atol=1e-6)
        record = read_json(out.with_name(out.name + ".json"))
    elif fmt == "png":
        with Image.open(out) as im:
            record = json.loads(im.text["gcnn-viewer"])
    elif fmt == "svg":
        root = svg_root(out)
        assert "probability" in svg_texts(root)
        record = json.loads(next(root.iter("{http://purl.org/dc/elements/1.1/}description")).text)
    else:
        data = out.read_bytes()
        assert pdf_pages(data) == 1 and "probability" in pdf_text(data)
        record = pdf_info_json(data)
    check_provenance(record, spec)
    assert record["kind"] == "sweep" and record["angles"][:2] == [0.0, 45.0]


def test_default_sweep_is_every_5_degrees(models, digit, tmp_path):
    out = tmp_path / "s.csv"
    export_sweep(ViewSpec(models[1:], digit), out)
    rows = out.read_text().splitlines()
    assert len(rows) == 1 + 72 and rows[1].startswith("0,") and rows[-1].startswith("355,")

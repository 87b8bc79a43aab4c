"""Issue 18 §3, Export, headless: each model in its panel's colour (named once), file names
that list the angles, and figures shaped for a slide or a page (a PDF split into pages)."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import numpy as np
from PIL import Image

import gcnn_viewer
from gcnn_viewer.cli import main
from gcnn_viewer.export import ViewSpec, render
from gcnn_viewer.export import choices as ch
from gcnn_viewer.viewer.palette import PANEL_COLOURS

PACKAGE = Path(gcnn_viewer.__file__).parent


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def pixels_near(image: np.ndarray, hex_colour: str, tolerance: int = 12) -> int:
    return int(
        (np.abs(image[..., :3].astype(int) - rgb(hex_colour)).max(axis=-1) <= tolerance).sum()
    )


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """Each page's width and height in inches, from the page dictionaries (uncompressed)."""
    data = path.read_bytes()
    boxes = re.findall(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert len(boxes) == len(re.findall(rb"/Type /Page\b", data))
    return [(float(w) / 72, float(h) / 72) for w, h in boxes]


def test_the_panel_colours_are_named_once():
    """PANEL_COLOURS is assigned in one module; its hex values appear nowhere else."""
    where = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", None) == "PANEL_COLOURS" for t in targets):
                    where.append(path.relative_to(PACKAGE).as_posix())
        text = path.read_text(encoding="utf-8").lower()
        if path.name != "palette.py":
            for colour in PANEL_COLOURS:  # the colours, not a copy under another name
                assert colour not in text or path.name == "train_panel.py", (path, colour)
    assert where == ["viewer/palette.py"]


def test_a_right_panel_model_is_blue_in_the_exported_sweep(models, digit, tmp_path):
    left, right = PANEL_COLOURS
    p4cnn = dataclasses.replace(models[1], panel=1)  # shown in the right panel
    out = tmp_path / "sweep.png"
    render.export_sweep(ViewSpec([p4cnn], digit), out, step=30.0, dpi=150)
    image = np.asarray(Image.open(out).convert("RGB"))
    assert pixels_near(image, right) > 100 and pixels_near(image, left) == 0
    # both panels: each its own colour, whichever order the spec lists them
    z2cnn = dataclasses.replace(models[0], panel=0)
    render.export_sweep(ViewSpec([p4cnn, z2cnn], digit), out, step=30.0, dpi=150)
    image = np.asarray(Image.open(out).convert("RGB"))
    assert pixels_near(image, right) > 100 and pixels_near(image, left) > 100


def test_file_names_list_the_angles_shown():
    quarter = ch.with_quarter_turns([0.0])
    assert ch.default_filename("figure", ["p4cnn"], "png", ("l1",), quarter) == (
        "p4cnn-l1-0-90-180-270deg.png"
    )
    assert ch.default_filename("data", ["p4cnn"], "npz", None, [30.0]) == "p4cnn-30deg.npz"
    eight = ch.with_quarter_turns([0.0, 45.0])
    assert ch.default_filename("figure", ["a"], "pdf", None, eight) == "a-8-angles.pdf"


def test_one_layer_at_four_angles_is_landscape_not_a_strip(tmp_path):
    out = tmp_path / "l1.png"
    argv = ["export", "figure", "--model", "p4cnn", "--layers", "l1"]
    assert main([*argv, "--angles", "0", "90", "180", "270", "--dpi", "40", "--out", str(out)]) == 0
    w, h = Image.open(out).size
    assert 1.3 <= w / h <= 2.4, (w, h)  # landscape, for a slide or a page (was 1192×5758)


def test_all_layers_with_quarter_turns_fit_a_slide_and_a_pdf_is_paper_pages(tmp_path):
    png = tmp_path / "all.png"
    argv = ["export", "figure", "--model", "z2cnn", "p4cnn", "--angles", "0", "90", "180", "270"]
    assert main([*argv, "--dpi", "20", "--out", str(png)]) == 0
    w, h = Image.open(png).size
    assert 1.3 <= w / h <= 2.0, (w, h)  # landscape: a slide or a page (was 14×31 in)
    pdf = tmp_path / "all.pdf"
    assert main([*argv, "--out", str(pdf)]) == 0
    pages = pdf_pages(pdf)
    assert len(pages) == 4  # one model a page, two angles each
    for width, height in pages:
        assert width <= render.PDF_PAGE_MAX[0] and height <= render.PDF_PAGE_MAX[1]
        assert 1.2 <= width / height <= 1.9  # A4/Letter landscape-shaped

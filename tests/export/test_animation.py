"""Animations: GIF, animated WebP and PNG via Pillow (MP4 with imageio-ffmpeg), the input
turning once round in N frames, with provenance; progress is reported and cancel stops it."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from gcnn_viewer.export import ExportCancelled, ExportError, ViewSpec, export_animation
from gcnn_viewer.export import render as render_module


@pytest.fixture
def small(models, digit) -> ViewSpec:
    return ViewSpec(models, digit, layers=("l1",))


@pytest.mark.parametrize("fmt", ["gif", "webp", "png"])
def test_animation_opens_with_all_frames(small, tmp_path, fmt):
    out = tmp_path / f"turn.{fmt}"
    seen = []
    export_animation(small, out, frames=4, fps=5, dpi=30, progress=lambda d, t: seen.append(d))
    assert seen == [1, 2, 3, 4]
    with Image.open(out) as im:
        assert im.n_frames == 4 and getattr(im, "is_animated", False)
        if fmt == "gif":
            text = im.info["comment"].decode("ascii")
        elif fmt == "webp":
            xmp = im.info["xmp"]
            text = (xmp.decode() if isinstance(xmp, bytes) else xmp).split('x-default">')[1]
            text = text.split("</rdf:li>")[0].replace("&lt;", "<").replace("&gt;", ">")
            text = text.replace("&amp;", "&")
        else:
            text = im.info["gcnn-viewer"]
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(im.convert("RGB").tobytes())
    assert len(set(frames)) == 4  # the input turns: every frame differs
    record = json.loads(text)
    assert record["kind"] == "animation" and record["frames"] == 4
    assert record["animation_angles"] == [0.0, 90.0, 180.0, 270.0]
    assert [m["sha256"] for m in record["models"]] == [m.sha256 for m in small.models]


def test_mp4(small, tmp_path):
    out = tmp_path / "turn.mp4"
    if not render_module.mp4_available():
        with pytest.raises(ExportError, match="imageio-ffmpeg") as info:
            export_animation(small, out, frames=4, dpi=30)
        assert "\n" not in str(info.value) and not out.exists()
        return
    export_animation(small, out, frames=4, dpi=30)
    assert out.stat().st_size > 0 and out.read_bytes()[4:8] == b"ftyp"


def test_cancel_leaves_nothing(small, tmp_path):
    out = tmp_path / "turn.gif"
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ExportCancelled):
        export_animation(small, out, frames=8, dpi=30, cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []

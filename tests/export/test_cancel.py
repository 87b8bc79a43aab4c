"""Cancel: every kind stops when ``cancelled()`` turns true, up to the moment the file would
replace the destination, and leaves the destination as it was (absent, or the old file)."""

from __future__ import annotations

import pytest

from gcnn_viewer.export import (
    ExportCancelled,
    export_animation,
    export_data,
    export_figure,
    export_sweep,
)

KINDS = {
    "figure": lambda spec, out, c: export_figure(spec, out / "v.png", dpi=30, cancelled=c),
    "rotate-and-cycle": lambda spec, out, c: export_figure(
        spec, out / "rc.svg", rotate_and_cycle=True, cancelled=c
    ),
    "animation": lambda spec, out, c: export_animation(
        spec, out / "a.gif", frames=4, dpi=30, cancelled=c
    ),
    "sweep-csv": lambda spec, out, c: export_sweep(spec, out / "s.csv", step=30, cancelled=c),
    "sweep-pdf": lambda spec, out, c: export_sweep(spec, out / "s.pdf", step=30, cancelled=c),
    "data": lambda spec, out, c: export_data(spec, out / "d.npz", cancelled=c),
}


class CancelAfter:
    """``cancelled()`` that turns true on its ``n``-th call."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.n


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cancel_at_any_check_leaves_nothing(spec, tmp_path, kind):
    export = KINDS[kind]
    counter = CancelAfter(10**9)
    export(spec, tmp_path, counter)  # how many times this kind asks
    asked = counter.calls
    assert asked >= 2, "an export must ask at least before its work and before the file"
    written = sorted(p.name for p in tmp_path.iterdir())
    for n in (1, asked):  # the first question, and the last one (just before the rename)
        out = tmp_path / f"cancel-{n}"
        out.mkdir()
        with pytest.raises(ExportCancelled, match="nothing was written"):
            export(spec, out, CancelAfter(n))
        assert list(out.iterdir()) == [], f"{kind}: cancel at check {n} left a file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == written


def test_cancel_keeps_the_old_file(spec, tmp_path):
    old = tmp_path / "v.png"
    old.write_bytes(b"the user's earlier figure")
    with pytest.raises(ExportCancelled):
        export_figure(spec, old, dpi=30, cancelled=CancelAfter(3))
    assert old.read_bytes() == b"the user's earlier figure"
    assert [p.name for p in tmp_path.iterdir()] == ["v.png"]


def test_figure_progress_counts_angles_then_the_file(spec, tmp_path):
    seen = []
    export_figure(spec, tmp_path / "v.png", dpi=30, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]

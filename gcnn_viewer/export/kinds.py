"""The kinds of export, one record each: what the Export dialog, ``gcnn-viewer export`` and the
renderer know about a kind is written here once and read everywhere else.

Adding a kind: one :class:`ExportKind` in :data:`KINDS`, its writer and preview in
:mod:`gcnn_viewer.export.render` (``WRITERS``, ``PREVIEWS``) and its sub-command's options in
:mod:`gcnn_viewer.export.cli` (``COMMANDS``); ``tests/export/test_kinds.py`` fails while a
consumer does not cover it. Torch- and matplotlib-free: the command line builds its parser
from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gcnn_viewer.errors import ExportError
from gcnn_viewer.figure_output import DEFAULT_DPI, FIGURE_FORMATS

__all__ = ["KINDS", "RC_LAYER", "ExportKind", "export_kind", "kind_names"]

RC_LAYER = "l1"  # the rotate-and-cycle figure's layer unless one is chosen
DEFAULT_FRAMES = 72  # an animation's frames per turn
DEFAULT_FPS = 12
DEFAULT_STEP = 5.0  # degrees between a sweep's angles


@dataclass(frozen=True)
class ExportKind:
    """One kind of export."""

    name: str  # the key the dialog, the jobs and the provenance use
    title: str  # what the Export dialog calls it
    formats: tuple[str, ...]  # file suffixes, the default first
    options: tuple[str, ...]  # which of dpi, frames, fps, step it takes
    dpi: int = DEFAULT_DPI  # its default resolution, where "dpi" is an option
    maps: bool = True  # layers, channels and stabilised apply (a sweep shows probabilities)
    angles: bool = True  # chosen angles apply (an animation turns 0→360°, a sweep has a step)
    shows_turn: bool = False  # needs two angles a quarter turn apart: θ and θ + 90° by default
    one_layer: bool = False  # shows one layer: the first chosen, else RC_LAYER (group views:
    # the first p4 / p4m layer) and, for the group views, one channel: the first chosen
    animated: bool = False  # a file of frames: a progress bar counting them, an animated PNG
    preview_as: str = ""  # the kind whose picture previews it ("": its own)
    command: str = ""  # the ``gcnn-viewer export`` sub-command that writes it ("": its name)
    # the default file name's parts: "models", "layers" (one or two), "angles", "layer" (the
    # one shown), else the text itself
    file_name: tuple[str, ...] = ("models", "layers", "angles")

    @property
    def previewed_as(self) -> str:
        return self.preview_as or self.name

    @property
    def sub_command(self) -> str:
        return self.command or self.name


KINDS: tuple[ExportKind, ...] = (
    ExportKind("figure", "Figure of the view", FIGURE_FORMATS, ("dpi",)),
    ExportKind(
        "rotate-and-cycle",
        "Rotate-and-cycle figure",
        FIGURE_FORMATS,
        ("dpi",),
        shows_turn=True,
        one_layer=True,
        command="figure",  # export figure --rotate-and-cycle
        file_name=("models", "layer", "rotate-and-cycle"),
    ),
    ExportKind(
        "animation",
        "Animation (input turning 0→360°)",
        ("gif", "webp", "png", "mp4"),
        ("frames", "fps", "dpi"),
        dpi=100,  # frames are for screens
        angles=False,
        animated=True,
        file_name=("models", "layers", "turning"),
    ),
    ExportKind(
        "sweep",
        "Probability vs angle",
        ("png", "svg", "pdf", "csv"),
        ("step", "dpi"),
        maps=False,
        angles=False,
        file_name=("models", "probability-vs-angle"),
    ),
    ExportKind(
        "group-view",
        "Group view of one channel",
        FIGURE_FORMATS,
        ("dpi",),
        shows_turn=True,  # θ and θ + 90°: the planes one step further round the circle
        one_layer=True,
        command="figure",  # export figure --group-view
        file_name=("models", "layer", "group-view"),
    ),
    ExportKind(
        "group-animation",
        "Group view, input turning 0→360°",
        ("gif", "webp", "png", "mp4"),
        ("frames", "fps", "dpi"),
        dpi=100,
        angles=False,
        one_layer=True,
        animated=True,
        command="animation",  # export animation --group-animation
        file_name=("models", "layer", "group-view-turning"),
    ),
    # NPZ has no size to give; it previews as the figure of the same maps
    ExportKind("data", "Data (NumPy NPZ)", ("npz",), (), preview_as="figure"),
)
_BY_NAME = {k.name: k for k in KINDS}


def kind_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def export_kind(name: str) -> ExportKind:
    """The record of ``name``; one line for a kind that does not exist."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ExportError(f"unknown export kind {name!r}") from None

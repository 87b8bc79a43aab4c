"""The group view of one channel as a matplotlib figure (no Qt, no pyplot state).

The geometry is :mod:`gcnn_viewer.viewer.group_view`, the one the app's Group view tab draws:
the planes of a p4 / p4m channel on a circle (p4m: two), joined by arrows labelled by the
generators. A figure shows one panel per (model, angle): the default angles θ and θ + 90°
show the planes rolling one step round the circle. :class:`GroupFigure` keeps the images so
that an animation redraws only their pixels (:meth:`GroupFigure.update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text

from gcnn_viewer.export.colours import lookup_table
from gcnn_viewer.export.common import ExportError, ExportModel, ViewSpec, angle_text
from gcnn_viewer.export.figures import model_line
from gcnn_viewer.viewer.group_view import GroupDiagram, group_diagram, group_planes
from gcnn_viewer.viewer.inference import FrameResult
from gcnn_viewer.viewer.layout import LayerScale
from gcnn_viewer.viewer.palette import UNTRAINED_COLOUR, panel_colour

PANEL_IN = 3.4  # inches: one diagram's side
HEAD_IN = 0.55  # inches above each diagram: its title lines
R_COLOUR = "#c0392b"  # as the app: red rotation arrows (GrouPy's)
M_COLOUR = "#1f5fbf"  # ... blue mirror lines

__all__ = ["GroupChoice", "GroupFigure", "group_choice"]


@dataclass(frozen=True)
class GroupChoice:
    """What a group view export shows: ``layer`` and ``channel`` of each of ``models`` (the
    chosen models whose ``layer`` is a p4 / p4m map)."""

    models: tuple[ExportModel, ...]
    layer: str
    channel: int
    channel_given: bool


def group_choice(spec: ViewSpec, first: FrameResult | None = None) -> GroupChoice:
    """The layer (the first chosen, else the first group layer of the first group model) and
    the channel (the first chosen, else the strongest in ``first``); one line for a layer that
    is planar in every chosen model."""
    layer = spec.layers[0] if spec.layers else None
    if layer is None:
        for m in spec.models:
            names = [n for n in m.probe.layers if m.probe.layouts[n].is_group]
            if names:
                layer = names[0]
                break
    if layer is None:
        raise ExportError(
            f"the group view needs a p4 or p4m layer; {', '.join(m.title for m in spec.models)} "
            "has none"
        )
    models = tuple(
        m for m in spec.models if layer in m.probe.layouts and m.probe.layouts[layer].is_group
    )
    if not models:
        raise ExportError(
            f"{layer} is not a p4 or p4m layer of {', '.join(m.title for m in spec.models)}: "
            "the group view shows one channel of a group layer"
        )
    for m in models:
        spec.channel_list(m.probe.layouts[layer].channels, f"{m.title} {layer}")
    if spec.channels:
        return GroupChoice(models, layer, int(spec.channels[0]), True)
    channel = 0
    if first is not None:
        from gcnn_viewer.viewer.group_view import strongest_channel

        channel = strongest_channel(first.panel(models[0].name).layers[layer].data)
    return GroupChoice(models, layer, channel, False)


def _colour(i: int, model: ExportModel) -> str:
    if not model.trained:
        return UNTRAINED_COLOUR
    return panel_colour(model.panel if model.panel is not None else i)


def _rgb(values: np.ndarray, scale: LayerScale) -> np.ndarray:
    return np.take(lookup_table(scale), scale.to_index(values), axis=0)


class GroupFigure:
    """One diagram per (model, angle) of ``frames`` (raw frames: not stabilised), models as
    rows; :meth:`update` puts other frames' planes into the same images."""

    def __init__(
        self,
        spec: ViewSpec,
        choice: GroupChoice,
        frames: Sequence[FrameResult],
        subtitle: str = "",
    ) -> None:
        self.spec, self.choice = spec, choice
        cols, rows = len(frames), len(choice.models)
        top = 0.5 if subtitle else 0.2
        width = cols * PANEL_IN + 0.2
        height = top + rows * (PANEL_IN + HEAD_IN) + 0.1
        self.figure = Figure(figsize=(width, height))
        self.figure.patch.set_facecolor("white")
        if subtitle:
            self.figure.text(
                0.5, 1 - 0.12 / height, subtitle, ha="center", va="top", fontsize=7, color="#555555"
            )
        self.images: list[list[dict[int, AxesImage]]] = []  # [model][angle][element]
        self.titles: list[list[Text]] = []
        for i, m in enumerate(choice.models):
            layout = m.probe.layouts[choice.layer]
            diagram = group_diagram(layout.group)
            row_images, row_titles = [], []
            for k in range(cols):
                left = (0.1 + k * PANEL_IN) / width
                bottom = (height - top - (i + 1) * (PANEL_IN + HEAD_IN) + 0.05) / height
                ax = self.figure.add_axes(
                    (left, bottom, PANEL_IN / width, PANEL_IN / height), frameon=False
                )
                images = self._diagram(ax, diagram)
                title = ax.set_title(
                    "",
                    fontsize=8.5,
                    color=_colour(list(spec.models).index(m), m),
                    loc="center",
                    pad=4,
                )
                row_images.append(images)
                row_titles.append(title)
            self.images.append(row_images)
            self.titles.append(row_titles)
        self.update(frames)

    @staticmethod
    def _diagram(ax: Axes, diagram: GroupDiagram) -> dict[int, AxesImage]:
        left, right, bottom, top = diagram.extent
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
        ax.set_aspect("equal")
        ax.set_axis_off()
        images = {}
        blank = np.zeros((2, 2, 3), np.uint8)
        for plane in diagram.planes:
            images[plane.g] = ax.imshow(
                blank, extent=plane.extent, interpolation="nearest", origin="upper", zorder=2
            )
            x0, x1, y0, y1 = plane.extent
            ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="#909090", lw=0.6, zorder=3)
            ha, va = plane.anchor
            ax.text(*plane.label_at, plane.label, ha=ha, va=va, fontsize=9)
        for arrow in diagram.arrows:
            colour = R_COLOUR if arrow.generator == "r" else M_COLOUR
            xs, ys = arrow.points[:, 0], arrow.points[:, 1]
            ax.plot(xs[:-1], ys[:-1], color=colour, lw=1.6, zorder=1)
            style = "<|-|>" if arrow.both else "-|>"
            tail = arrow.points[0] if arrow.both else arrow.points[-2]
            ax.annotate(
                "",
                xy=tuple(arrow.points[-1]),
                xytext=tuple(tail),
                arrowprops={"arrowstyle": style, "color": colour, "lw": 1.6, "shrinkA": 0,
                            "shrinkB": 0, "mutation_scale": 10},
                zorder=1,
            )  # fmt: skip
            ax.text(
                *arrow.label_at, arrow.generator, color=colour, ha="center", va="center",
                fontsize=10, style="italic",
            )  # fmt: skip
        return images

    def update(self, frames: Sequence[FrameResult]) -> None:
        """Each diagram's planes from ``frames`` (one per column), and its title."""
        choice = self.choice
        for i, m in enumerate(choice.models):
            layout = m.probe.layouts[choice.layer]
            scale = m.probe.scales[choice.layer]
            for k, f in enumerate(frames):
                data = f.panel(m.name).layers[choice.layer].data
                planes = group_planes(data, choice.channel, layout.group, f.turns)
                for g, image in self.images[i][k].items():
                    image.set_data(_rgb(planes[g], scale))
                self.titles[i][k].set_text(
                    f"{model_line(m, compact=True)}\n{choice.layer}, channel {choice.channel} · "
                    f"input at {angle_text(f.angle)}°"
                )

    def dynamic_artists(self) -> list:
        return [a for row in self.images for col in row for a in col.values()] + [
            t for row in self.titles for t in row
        ]

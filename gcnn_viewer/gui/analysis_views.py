"""The analysis views as standalone widgets (the main window docks them: gui/analysis_docks.py):

- :class:`EquivariancePanel`: err_L(θ) for every layer of each model for the current digit,
  log scale, recomputed off the GUI thread when the input changes.
- :class:`AccuracyView`: test error against the digit's angle on MNIST-rot for each model,
  computed once per model off the GUI thread (progress, cancel) and cached on disk by the
  weights' hash; a click on the plot emits ``angleChosen(degrees)``.
- :class:`FiltersView`: a layer's stored filter and the expanded bank it applies (one column
  per output orientation), with the parameter count against a plain CNN; the public slot
  :meth:`FiltersView.show_filter` opens a given (model, layer, channel).

The numbers come from :mod:`gcnn_viewer.analysis` (Qt-free); the work runs on an
:class:`AnalysisWorker`, a JobThread (gui/jobs.py) with a latest-wins mailbox per job kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE
from gcnn_viewer.gui.jobs import JobHandle, JobThread
from gcnn_viewer.gui.style import configure_pyqtgraph, make_plot
from gcnn_viewer.viewer.palette import PANEL_COLOURS

if TYPE_CHECKING:
    # the analyses import torch: they are imported where they run, so that the window can be
    # shown before torch is loaded (docs/ARCHITECTURE.md, "Start-up")
    import torch

    from gcnn_viewer.analysis.accuracy import RotAccuracy

EQUIVARIANCE_ANGLES = np.arange(72) * 5.0  # 0, 5, …, 355 degrees
LOG_FLOOR = 1e-9  # where an error of exactly 0 is drawn on the log scale
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def angle_ticks() -> list[list[tuple[float, str]]]:
    """0°…360°: labels every 90° (every 45° ran together in a narrow plot), a grid line
    every 45°."""
    return [
        [(float(a), f"{a}°") for a in range(0, 361, 90)],
        [(float(a), "") for a in range(45, 360, 90)],
    ]


def decade_ticks(low: int, high: int, every: int = 3) -> list[list[tuple[float, str]]]:
    """A log axis (values are exponents) from 10^low to 10^high: every ``every``-th decade
    labelled, all in one format (10⁰, 10⁻³, …), a grid line at each decade."""
    major = [(float(k), f"10{str(k).translate(SUPERSCRIPT)}") for k in range(high, low - 1, -1)]
    return [
        [t for t in major if (high - int(t[0])) % every == 0],
        [(t[0], "") for t in major if (high - int(t[0])) % every != 0],
    ]


WORKER_THREADS = 1  # torch threads of the analysis thread: leave a core to the GUI


def error_plot(name: str, title: str | None = None) -> pg.PlotWidget:
    """A plot of relative error (log scale, :data:`LOG_FLOOR` to 1) against the input's angle
    (0–360°), with the band of float32 rounding (up to ``EXACT_TOLERANCE``) shaded: the
    Equivariance tab's and the Lab's."""
    plot = make_plot(name, title=title, grid="xy")
    plot.setLogMode(x=False, y=True)
    plot.setXRange(0, 360, padding=0.01)
    plot.setYRange(np.log10(LOG_FLOOR / 2), 1.0, padding=0)
    plot.getAxis("bottom").setTicks(angle_ticks())
    plot.getAxis("left").setTicks(decade_ticks(int(np.log10(LOG_FLOOR)), 0))
    plot.setLabel("bottom", "input turned")
    plot.setLabel("left", "relative error")
    band = pg.LinearRegionItem(
        (np.log10(LOG_FLOOR / 2), np.log10(EXACT_TOLERANCE)),
        orientation="horizontal",
        movable=False,
        brush=pg.mkBrush(27, 127, 59, 28),
        pen=pg.mkPen(None),
    )
    plot.addItem(band)
    return plot


@dataclass(frozen=True, eq=False)
class AnalysisModel:
    """A model as the views need it: ``key`` (the app's catalog key), a title, the network,
    and the sha256 of its weights (the accuracy cache key; None: never cached)."""

    key: str
    title: str
    model: torch.nn.Module
    sha256: str | None = None


# -- the worker ------------------------------------------------------------------------------
class AnalysisWorker(JobThread):
    """One thread for the analysis jobs (:class:`~gcnn_viewer.gui.jobs.JobThread`): a job of
    a kind replaces a waiting one and cancels a running one ("latest wins"); a cancelled
    job's result is dropped."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(
            "gcnn-viewer analysis",
            cancelled_errors=_cancelled_errors,
            torch_threads=WORKER_THREADS,
            parent=parent,
        )


def _cancelled_errors() -> tuple[type[BaseException], ...]:
    from gcnn_viewer.analysis.accuracy import AnalysisCancelled  # (on the analysis thread)

    return (AnalysisCancelled,)


def _owned_worker(widget: QtWidgets.QWidget, worker: AnalysisWorker | None) -> AnalysisWorker:
    if worker is not None:
        return worker
    own = AnalysisWorker(widget)
    widget.destroyed.connect(lambda *_: own.stop())
    return own


def layer_pens(names: Sequence[str]) -> dict[str, Any]:
    cmap = pg.colormap.get("viridis")
    maps = [n for n in names if n != "logits"]
    out = {}
    for i, n in enumerate(maps):
        colour = cmap.map(0.92 - 0.85 * i / max(1, len(maps) - 1), mode="qcolor")
        out[n] = pg.mkPen(colour, width=1.4)
    out["logits"] = pg.mkPen("#000000", width=2.4)
    return out


# -- equivariance ------------------------------------------------------------------------------
class EquivariancePanel(QtWidgets.QWidget):
    """err_L(θ) = ‖f_L(R_θ x) − T_θ f_L(x)‖ / ‖T_θ f_L(x)‖, θ = 0…355° in 5° steps, for every
    layer of each model, one plot per model, log scale. ``computed`` fires with the result
    ``{model key: {layer: errors}}`` once the curves are drawn."""

    computed = QtCore.Signal(object)

    def __init__(
        self, worker: AnalysisWorker | None = None, parent: QtWidgets.QWidget | None = None
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("equivariancePanel")
        self.worker = _owned_worker(self, worker)
        self.models: list[AnalysisModel] = []
        self.digit: Any = None
        self.result: dict[str, dict[str, np.ndarray]] | None = None
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("equivarianceStatus")
        explain = QtWidgets.QLabel(
            "Relative error ‖f(R x) − T f(x)‖ / ‖T f(x)‖ per layer as the input turns. "
            f"Shaded: below {EXACT_TOLERANCE:g}, equal up to float32 rounding (exact)."
        )
        explain.setWordWrap(True)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(explain, 1)
        top.addWidget(self.status)
        self.legend = QtWidgets.QLabel("")  # the layers' colours, filled with the curves
        self.legend.setObjectName("equivarianceLegend")
        self.legend.setWordWrap(True)
        self.plots_row = QtWidgets.QHBoxLayout()
        self.plots: list[pg.PlotWidget] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(self.legend)
        layout.addLayout(self.plots_row, 1)

    def set_models(self, models: Sequence[AnalysisModel]) -> None:
        self.models = list(models)
        for plot in self.plots:
            self.plots_row.removeWidget(plot)
            plot.deleteLater()
        self.plots = []
        for i, m in enumerate(self.models):
            plot = error_plot(f"equivariancePlot{i}", title=m.title)
            self.plots_row.addWidget(plot, 1)
            self.plots.append(plot)
        if self.digit is not None:
            self.recompute()

    def set_input(self, digit: Any) -> None:
        """A new drawing (a :class:`~gcnn_viewer.data.digits.Digit` or a 28×28 image):
        recompute off the GUI thread; the old curves stay, dashed, until the new arrive."""
        self.digit = digit
        self.recompute()

    def recompute(self) -> None:
        if not self.models or self.digit is None:
            return
        models, digit = list(self.models), self.digit

        def job(progress, cancelled):
            from gcnn_viewer.analysis.accuracy import AnalysisCancelled
            from gcnn_viewer.analysis.equivariance import equivariance_curve

            out = {}
            for i, m in enumerate(models):
                if cancelled():
                    raise AnalysisCancelled("superseded")
                out[m.key] = equivariance_curve(m.model, digit, EQUIVARIANCE_ANGLES)
                progress(i + 1, len(models))
            return out

        self.status.setText("computing…")
        handle = self.worker.submit("equivariance", job)
        handle.finished.connect(self._finished)
        handle.failed.connect(self._failed)

    def _finished(self, result: object) -> None:
        self.result = result  # type: ignore[assignment]
        for plot, m in zip(self.plots, self.models, strict=True):
            layers = self.result.get(m.key, {})
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
            pens = layer_pens(list(layers))
            for name, err in layers.items():
                y = np.maximum(np.asarray(err, np.float64), LOG_FLOOR)
                plot.plot(EQUIVARIANCE_ANGLES, y, pen=pens[name], name=name)
        # one key for both plots (the layers share their colours), outside them: inside, a
        # legend hid the quarter-turn dips of a narrow plot
        names = list(dict.fromkeys(n for layers in self.result.values() for n in layers))
        pens = layer_pens(names)
        self.legend.setText(
            "&nbsp;&nbsp;".join(
                f"<span style='color:{pens[n].color().name()}'>"
                f"{'▬▬' if n == 'logits' else '━━'}</span>&nbsp;{n}"
                for n in names
            )
        )
        self.status.setText("")
        self.computed.emit(self.result)

    def _failed(self, message: str) -> None:
        self.status.setText(f"failed: {message}")


# -- accuracy vs angle ---------------------------------------------------------------------------
def standard_mnist_rot():
    """The standard MNIST-rot from the data cache, or None when it is not there (the view
    then says how to make it; it never downloads or generates from the GUI)."""
    from gcnn_viewer.data import DataError, MnistRotSpec, mnist_rot_path, read_mnist_rot

    path = mnist_rot_path(MnistRotSpec())
    if not path.is_file():
        return None
    try:
        return read_mnist_rot(path)
    except DataError:
        return None


ACCURACY_HINT = (
    "Compute: each model's test error on the 50,000 MNIST-rot test digits, by the digit's angle"
)


class AccuracyView(QtWidgets.QWidget):
    """Test error (%) per angle bin on MNIST-rot's 50,000 test digits, one line per model.
    Computed on the worker when asked (the Compute button, or :meth:`compute`); each model's
    predictions are cached on disk by its weights' sha256, so a second look is instant.
    A click on the plot emits ``angleChosen(degrees in [0, 360))``."""

    angleChosen = QtCore.Signal(float)
    computed = QtCore.Signal(object)  # {model key: RotAccuracy}

    def __init__(
        self,
        worker: AnalysisWorker | None = None,
        data_loader: Callable[[], Any] = standard_mnist_rot,
        bins: int = 36,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("accuracyView")
        self.worker = _owned_worker(self, worker)
        self.data_loader = data_loader
        self.bins = bins
        self.models: list[AnalysisModel] = []
        self.results: dict[str, RotAccuracy] = {}
        self.job: JobHandle | None = None  # the measurement under way

        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setObjectName("accuracyCompute")
        self.compute_button.setToolTip(
            "Classify all 50,000 MNIST-rot test digits with each model (once; cached on disk)"
        )
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("accuracyCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("accuracyProgress")
        self.progress.setVisible(False)
        self.status = QtWidgets.QLabel(ACCURACY_HINT)  # an empty plot says what fills it
        self.status.setObjectName("accuracyStatus")
        self.status.setWordWrap(True)
        # the models' colours, above the plot: a legend inside covered the curves where the
        # error is high (Z2CNN near 350°)
        self.legend = QtWidgets.QLabel("")
        self.legend.setObjectName("accuracyLegend")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.compute_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.status, 2)

        self.plot = make_plot("accuracyPlot", grid="xy")
        self.plot.setXRange(0, 360, padding=0)
        self.plot.setYRange(0, 10, padding=0.02)
        self.plot.getAxis("bottom").setTicks(angle_ticks())
        self.plot.setLabel("left", "test error (%)")
        self.plot.setLabel("bottom", "the digit's angle (click: turn the input there)")
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.marker = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#303030", width=1))
        self.plot.addItem(self.marker)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)

    def set_models(self, models: Sequence[AnalysisModel]) -> None:
        """The models to measure. A result stays only while its model is the same network
        (new weights under the same key — a reloaded file, a training snapshot — drop it,
        and a run under way for the old ones is cancelled)."""
        before = {m.key: m.model for m in self.models}
        self.models = list(models)
        now = {m.key: m.model for m in self.models}
        kept = {k: v for k, v in self.results.items() if k in now and before.get(k) is now[k]}
        changed = kept.keys() != self.results.keys() or before.keys() != now.keys()
        changed = changed or any(before.get(k) is not m for k, m in now.items())
        self.results = kept
        if changed and not self.compute_button.isEnabled():  # a run for the old models
            self.cancel()
            self.status.setText("the models changed: Compute measures the new ones")
        elif changed:
            self.status.setText("" if self.results else ACCURACY_HINT)
        self._replot()

    def set_angle(self, angle: float) -> None:
        """Show the input's current angle as a vertical line."""
        self.marker.setValue(float(angle) % 360.0)

    def compute(self) -> None:
        if not self.models:
            self.status.setText("no models to measure")
            return
        models, loader, bins = list(self.models), self.data_loader, self.bins

        def job(progress, cancelled):
            from gcnn_viewer.analysis.accuracy import rot_accuracy

            data = loader()
            if data is None:
                return None
            out = {}
            for i, m in enumerate(models):

                def step(done: int, total: int, i: int = i) -> None:
                    progress(i * total + done, len(models) * total)

                out[m.key] = rot_accuracy(
                    m.model,
                    data,
                    bins=bins,
                    weights_sha256=m.sha256,
                    progress=step,
                    cancelled=cancelled,
                )
            return out

        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText("classifying the MNIST-rot test digits…")
        self.job = self.worker.submit("accuracy", job)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()  # it reports nothing but "cancelled" now
            self.job = None
        self._idle("cancelled")

    def _idle(self, text: str) -> None:
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.status.setText(text)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    def _finished(self, result: object) -> None:
        self.job = None
        if result is None:
            self._idle("MNIST-rot is not in the data cache; make it with: gcnn-viewer data fetch")
            return
        self.results.update(result)  # type: ignore[arg-type]
        self._replot()
        parts = [
            f"{m.title} {100 * self.results[m.key].error:.2f}%"
            for m in self.models
            if m.key in self.results
        ]
        n = next(iter(self.results.values())).n
        self._idle(f"error on {n:,} test digits: " + ", ".join(parts))
        self.computed.emit(dict(self.results))

    def _failed(self, message: str) -> None:
        self.job = None
        self._idle(f"failed: {message}")

    def _replot(self) -> None:
        for item in list(self.plot.listDataItems()):
            self.plot.removeItem(item)
        top = 1.0
        keys = []
        for i, m in enumerate(self.models):
            r = self.results.get(m.key)
            if r is None:
                continue
            edges = np.array([b.lo for b in r.bins] + [r.bins[-1].hi])
            err = np.array([100 * b.error if b.error is not None else 0.0 for b in r.bins])
            top = max(top, float(err.max()))
            colour = PANEL_COLOURS[i % 2]
            self.plot.plot(edges, err, stepMode="center", pen=pg.mkPen(colour, width=2))
            keys.append(f"<span style='color:{colour}'>━━</span>&nbsp;{m.title}")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(keys))
        self.plot.setYRange(0, top * 1.1, padding=0)

    def _clicked(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        box = self.plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        x = float(box.mapSceneToView(event.scenePos()).x())
        if 0.0 <= x <= 360.0:
            angle = float(round(x) % 360)  # whole degrees, as the dial: 90 is exact, not 89.7
            self.set_angle(angle)
            self.angleChosen.emit(angle)


# -- filters -------------------------------------------------------------------------------------
def bank_mosaic(stored: np.ndarray, expanded: np.ndarray, gap: int = 1, column_gap: int = 3):
    """One image of the stored filter and its copies: rows input channels; columns the
    stored filter, then one per output orientation, each cell the input orientations side by
    side. NaN marks the gaps. float32 ``[H, W]`` and the x centre of every column."""
    c_in, g_in, k, _ = stored.shape
    g = expanded.shape[0]
    cell_w = g_in * (k + gap) - gap
    width = (g + 1) * (cell_w + column_gap) - column_gap
    height = c_in * (k + gap) - gap
    out = np.full((height, width), np.nan, np.float32)
    centres = []
    for col in range(g + 1):
        x0 = col * (cell_w + column_gap)
        centres.append(x0 + cell_w / 2)
        for i in range(c_in):
            filters = stored[i] if col == 0 else expanded[col - 1, i]  # [G_in, k, k]
            for s in range(g_in):
                y0, xs = i * (k + gap), x0 + s * (k + gap)
                out[y0 : y0 + k, xs : xs + k] = filters[s]
    return out, centres


FILTER_MAP = "CET-D1"  # the weights: blue negative, white 0, red positive


def weight_limit(mosaic: np.ndarray) -> float:
    """The largest |weight| in a filter mosaic: its colour scale runs from −limit to +limit."""
    limit = float(np.nanmax(np.abs(mosaic))) if np.isfinite(mosaic).any() else 1.0
    return limit or 1.0


def mosaic_rgb(mosaic: np.ndarray) -> np.ndarray:
    """uint8 RGB ``[H, W, 3]`` of a filter mosaic: a diverging map symmetric about 0 (blue
    negative, red positive), the NaN gaps white so that every filter stands apart."""
    limit = weight_limit(mosaic)
    lut = pg.colormap.get(FILTER_MAP).getLookupTable(nPts=256)[:, :3].astype(np.uint8)
    index = np.clip((np.nan_to_num(mosaic) / (limit or 1.0) + 1.0) * 127.5, 0, 255)
    rgb = lut[index.astype(np.int64)]
    rgb[np.isnan(mosaic)] = 255
    return rgb


def filter_layers(model: torch.nn.Module) -> dict[str, torch.nn.Module] | None:
    """A model's layers with filters the view can show (l1 … l6, top), or None when its
    layers are not gcnn-viewer's (your own model: the view says it cannot show them)."""
    from gcnn_viewer.analysis.accuracy import AnalysisError
    from gcnn_viewer.analysis.filters import conv_layers

    try:
        return conv_layers(model)
    except AnalysisError:
        return None


def foreign_layers(model: torch.nn.Module) -> list[str]:
    """The layers of a model whose filters the view cannot show (your own model's)."""
    records = getattr(model, "layer_records", None)
    if callable(records):
        return [r.name for r in records() if r.kind != "logits"]
    return []


def cannot_show_text(title: str, layer: str, module: torch.nn.Module) -> str:
    """What the Filters view says for a layer that is not one of ours."""
    inner = getattr(module, "module", module)  # your model inside its wrapper
    found = dict(inner.named_modules()).get(layer.partition("#")[0])
    what = f"a {type(found).__name__}" if found is not None else "a module"
    return (
        f"{title} {layer}: cannot show this layer's filters. It is {what} of your own model, "
        "not one of gcnn-viewer's convolutions (the Filters view knows the filter banks of "
        "the shipped models' layers only); its maps and equivariance are shown as usual."
    )


class FiltersView(QtWidgets.QWidget):
    """Model, layer and output-channel selectors; the stored filter and the copies the layer
    applies (four orientation columns for p4: one filter turned and cycled); the parameter
    count against a plain CNN with the same number of maps."""

    shown = QtCore.Signal(str, str, int)  # model key, layer, channel

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("filtersView")
        self.models: list[AnalysisModel] = []
        self.model_box = QtWidgets.QComboBox()
        self.model_box.setObjectName("filtersModel")
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.setObjectName("filtersLayer")
        self.channel_box = QtWidgets.QComboBox()
        self.channel_box.setObjectName("filtersChannel")
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.layer_box.currentIndexChanged.connect(self._layer_changed)
        self.channel_box.currentIndexChanged.connect(self._channel_changed)
        row = QtWidgets.QHBoxLayout()
        for label, box in (
            ("Model", self.model_box),
            ("Layer", self.layer_box),
            ("Output channel", self.channel_box),
        ):
            row.addWidget(QtWidgets.QLabel(label))
            row.addWidget(box)
        row.addStretch(1)
        self.header = QtWidgets.QLabel("")
        self.header.setObjectName("filtersHeader")
        self.header.setWordWrap(True)  # a long line must not widen the window
        self.params = QtWidgets.QLabel("")
        self.params.setObjectName("filtersParameters")
        self.params.setWordWrap(True)
        self.plot = make_plot("filtersPlot")
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("bottom")
        self.plot.getAxis("left").setStyle(tickLength=0)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        # what a colour means: the weights from −max|w| (blue) to +max|w| (red), under the
        # filters (the image is coloured already: the bar only shows the scale)
        self.colour_bar = pg.ColorBarItem(
            values=(-1.0, 1.0),
            colorMap=pg.colormap.get(FILTER_MAP),
            label="weight",
            interactive=False,
            orientation="horizontal",
            width=12,
            colorMapMenu=False,
        )
        self.colour_bar.axis.enableAutoSIPrefix(False)  # the weights themselves, not ×0.001
        self.plot.getPlotItem().layout.addItem(self.colour_bar, 4, 1)
        self.column_labels: list[pg.TextItem] = []
        # the copy that made a clicked feature map: its output orientation's column, outlined
        self.orientation: int | None = None
        self.outline = QtWidgets.QGraphicsRectItem()
        pen = QtGui.QPen(QtGui.QColor("#00c8ff"), 2)  # the maps' hover outline
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setVisible(False)
        self.plot.addItem(self.outline)
        self.mosaic: np.ndarray | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(row)
        layout.addWidget(self.header)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.params)

    def set_models(self, models: Sequence[AnalysisModel], prefer: int = 0) -> None:
        """The models to choose from. The filter on show stays (redrawn: the weights may be
        new) while its model, layer and channel are still there; otherwise model ``prefer``
        is shown (its l2, output channel 0)."""
        keep, orientation = self.current(), self.orientation
        self.models = list(models)
        with QtCore.QSignalBlocker(self.model_box):
            self.model_box.clear()
            for m in self.models:
                self.model_box.addItem(m.title, m.key)
            self.model_box.setCurrentIndex(min(max(prefer, 0), len(self.models) - 1))
        self._model_changed(self.model_box.currentIndex())  # its layers and channels
        if keep is not None:
            self.show_filter(*keep, orientation)

    def current(self) -> tuple[str, str, int] | None:
        if self.model_box.currentIndex() < 0 or self.layer_box.currentIndex() < 0:
            return None
        return (
            str(self.model_box.currentData()),
            self.layer_box.currentText(),
            max(0, self.channel_box.currentIndex()),
        )

    def show_filter(
        self, model_key: str, layer: str, channel: int, orientation: int | None = None
    ) -> bool:
        """Select ``model_key``'s ``layer`` and ``channel`` (what a click on a feature map
        asks for) and outline the copy for output ``orientation`` (the clicked map's; 0 for
        a planar layer). A layer without filters (``pool``) or a channel it lacks is
        refused: returns False and changes nothing. A layer of your own model is selected and
        the view says that it cannot show its filters."""
        index = self.model_box.findData(model_key)
        if index < 0:
            return False
        convs = filter_layers(self.models[index].model)
        if convs is None:  # your own model's layer: selected, and the view says why no filters
            if layer not in foreign_layers(self.models[index].model):
                return False
            self.model_box.setCurrentIndex(index)
            self.layer_box.setCurrentIndex(self.layer_box.findText(layer))
            self._redraw()
            return True
        if layer not in convs or not 0 <= channel < convs[layer].out_channels:
            return False
        self.model_box.setCurrentIndex(index)
        self.layer_box.setCurrentIndex(self.layer_box.findText(layer))
        self.channel_box.setCurrentIndex(channel)
        self.orientation = orientation  # (after the boxes: a change by hand clears it)
        self._redraw()
        return True

    def _channel_changed(self, _index: int) -> None:
        self.orientation = None
        self._redraw()

    def _model_changed(self, _index: int) -> None:
        with QtCore.QSignalBlocker(self.layer_box):
            self.layer_box.clear()
            if self.model_box.currentIndex() >= 0:
                model = self.models[self.model_box.currentIndex()].model
                convs = filter_layers(model)
                self.layer_box.addItems(list(convs) if convs is not None else foreign_layers(model))
                self.layer_box.setCurrentIndex(min(1, self.layer_box.count() - 1))  # l2: cycles
        self._layer_changed(self.layer_box.currentIndex())

    def _layer_changed(self, _index: int) -> None:
        self.orientation = None
        with QtCore.QSignalBlocker(self.channel_box):
            self.channel_box.clear()
            if self.model_box.currentIndex() >= 0 and self.layer_box.currentIndex() >= 0:
                model = self.models[self.model_box.currentIndex()].model
                convs = filter_layers(model)
                if convs is not None:
                    conv = convs[self.layer_box.currentText()]
                    self.channel_box.addItems([str(c) for c in range(conv.out_channels)])
        self._redraw()

    def _cannot_show(self, model: AnalysisModel, layer: str) -> None:
        """A layer that is not ours: no filters drawn, and the header says why."""
        self.mosaic = None
        self.image.clear()
        for label in self.column_labels:
            self.plot.removeItem(label)
        self.column_labels = []
        self.outline.setVisible(False)
        self.plot.getAxis("left").setTicks([[]])
        self.header.setText(cannot_show_text(model.title, layer, model.model))
        self.params.setText("")

    def _redraw(self) -> None:
        where = self.current()
        if where is None:
            return
        key, layer, channel = where
        model = self.models[self.model_box.currentIndex()]
        if filter_layers(model.model) is None:
            self._cannot_show(model, layer)
            return
        from gcnn_viewer.analysis.filters import filter_bank

        bank = filter_bank(model.model, layer, channel)
        mosaic, centres = bank_mosaic(bank.stored, bank.expanded)
        self.mosaic = mosaic
        self.image.setImage(mosaic_rgb(mosaic), levels=(0, 255))
        limit = weight_limit(mosaic)
        self.colour_bar.setLevels((-limit, limit))
        for label in self.column_labels:
            self.plot.removeItem(label)
        titles = ["stored"] + [f"at {lab}" if lab else "applied" for lab in bank.output_labels]
        self.column_labels = []
        for x, text in zip(centres, titles, strict=True):
            label = pg.TextItem(text, color="#1b4f8a" if text != "stored" else "#000000",
                                anchor=(0.5, 1.0))  # fmt: skip
            label.setPos(x, -0.5)
            self.plot.addItem(label)
            self.column_labels.append(label)
        c_in, g_in, k = bank.stored.shape[0], bank.stored.shape[1], bank.stored.shape[-1]
        self.plot.getAxis("left").setTicks(
            [[((k + 1) * i + k / 2 - 0.5, f"in {i}") for i in range(c_in)]]
        )
        self.plot.setRange(
            xRange=(0, mosaic.shape[1]), yRange=(-2.5, mosaic.shape[0]), padding=0.02
        )
        orientation = (
            f"; each cell: input orientations {' '.join(bank.input_labels)}" if g_in > 1 else ""
        )
        copies = bank.expanded.shape[0]
        outlined = self.orientation is not None and 0 <= self.orientation < copies
        if outlined:  # that copy's column (the stored filter is column 0)
            width = 2 * centres[0]  # every column is as wide as the first
            left = centres[1 + self.orientation] - width / 2
            self.outline.setRect(left - 0.5, -0.5, width + 1, mosaic.shape[0] + 1)
        self.outline.setVisible(outlined)
        clicked = "; outlined: the copy that made the map you clicked" if outlined else ""
        self.header.setText(
            f"{model.title} {layer}, output channel {channel}: the stored filter and the "
            f"{copies} cop{'ies' if copies > 1 else 'y'} the layer applies{orientation}{clicked}"
        )
        from gcnn_viewer.analysis.filters import layer_parameters, parameter_counts

        p = layer_parameters(model.model, layer)
        counts = parameter_counts(model.model)
        total, plain = sum(c.params for c in counts), sum(c.plain_params for c in counts)
        self.params.setText(
            f"{layer}: {p.params:,} parameters; a plain CNN making the same {p.maps_out} maps "
            f"from {p.maps_in} would need {p.plain_params:,} ({p.ratio:.1f}×). "
            f"All convolutions of {model.title}: {total:,} vs {plain:,}."
        )
        self.shown.emit(key, layer, channel)


# -- standalone -----------------------------------------------------------------------------------
def shipped_models(names: Sequence[str] = ("z2cnn", "p4cnn")) -> list[AnalysisModel]:
    """The shipped models as the views take them (title, network, weights' sha256)."""
    from gcnn_viewer.viewer.sources import resolve_models

    return [AnalysisModel(m.name, m.title, m.entry.model, m.sha256) for m in resolve_models(names)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gcnn_viewer.gui.analysis_views [--screenshots DIR]``: the three views on
    the shipped Z2CNN and P4CNN and the sample 7, in tabs of their own window; with
    ``--screenshots`` each view is computed, saved as DIR/analysis-view-*.png, and the
    program exits."""
    import argparse
    import sys
    from pathlib import Path

    from gcnn_viewer.viewer.sources import resolve_input

    parser = argparse.ArgumentParser(prog="python -m gcnn_viewer.gui.analysis_views")
    parser.add_argument("--screenshots", metavar="DIR", help="save each view and exit")
    args = parser.parse_args(argv)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    models = shipped_models()
    worker = AnalysisWorker()
    tabs = QtWidgets.QTabWidget()
    tabs.setWindowTitle("gcnn-viewer analysis")
    equivariance, accuracy, filters = EquivariancePanel(worker), AccuracyView(worker), FiltersView()
    for view, title in ((equivariance, "Equivariance"), (accuracy, "Accuracy vs angle"),
                        (filters, "Filters")):  # fmt: skip
        tabs.addTab(view, title)
        view.set_models(models)
    filters.show_filter("p4cnn", "l2", 3)
    tabs.resize(1100, 520)
    tabs.show()
    equivariance.set_input(resolve_input("7").snapshot.digit)
    if not args.screenshots:
        accuracy.angleChosen.connect(lambda a: print(f"angleChosen({a:.1f})"))
        code = app.exec()
        worker.stop()
        return code
    out = Path(args.screenshots)
    pending = {"equivariance", "accuracy"}

    def save(view: QtWidgets.QWidget, name: str) -> None:
        tabs.setCurrentWidget(view)
        QtWidgets.QApplication.processEvents()
        from gcnn_viewer.data.files import atomic_path

        with atomic_path(out / f"analysis-view-{name}.png") as tmp:
            tabs.grab().save(str(tmp), "PNG")

    def done(kind: str) -> None:
        pending.discard(kind)
        if not pending:
            save(equivariance, "equivariance")
            save(accuracy, "accuracy")
            save(filters, "filters")
            app.quit()

    equivariance.computed.connect(lambda _r: done("equivariance"))
    accuracy.computed.connect(lambda _r: done("accuracy"))
    accuracy.compute()
    app.exec()
    worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

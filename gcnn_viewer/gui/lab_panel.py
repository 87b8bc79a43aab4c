"""The Lab tab (issue 23): the choices that keep a network exact at quarter turns as switches
— input size, how angles that are not quarter turns are made, a disc mask, other weights —
and each layer's equivariance error under them, beside the default settings' curves, with
the one-line readout "exact up to X at 90°; first broken: Y (reason)".

Thin: the switches' choices, the curve sets and their titles are
:mod:`gcnn_viewer.analysis.lab_view` (Qt-free); the numbers come from
:mod:`gcnn_viewer.analysis.lab`, computed on the analysis thread (an
:class:`~gcnn_viewer.gui.analysis_views.AnalysisWorker`, latest wins).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gcnn_viewer.analysis.lab import DEFAULT_SETTINGS, READOUT_ANGLE, LabSettings
from gcnn_viewer.analysis.lab_view import (
    MASK_CHOICES,
    ROTATION_CHOICES,
    LabRequest,
    LabResult,
)
from gcnn_viewer.data.digits import MAX_INPUT_SIZE, MIN_INPUT_SIZE
from gcnn_viewer.errors import GcnnViewerError, first_line
from gcnn_viewer.gui.analysis_views import (
    LOG_FLOOR,
    AnalysisModel,
    AnalysisWorker,
    error_plot,
    layer_pens,
)
from gcnn_viewer.gui.style import configure_pyqtgraph

NOTHING = ""  # the "compare with" entry for no second set of weights
EMPTY = "Draw a digit (or load an example): the lab measures the current drawing."
EXPLAIN = (
    "Each layer's relative error ‖f(R x) − T f(x)‖ / ‖T f(x)‖ as the input turns, under the "
    "switches (left) and the defaults (right). Shaded: float32 rounding (exact)."
)


def _choices(name: str, choices: Sequence[tuple[str, str]], tip: str) -> QtWidgets.QComboBox:
    """A list of ``(value, text)`` choices: the text shown, the value as the item's data."""
    combo = QtWidgets.QComboBox()
    combo.setObjectName(name)
    for value, text in choices:
        combo.addItem(text, value)
    combo.setToolTip(tip)
    return combo


class LabPanel(QtWidgets.QWidget):
    """The Lab tab. :meth:`set_models` gives it the panels' models (the one analysed is
    chosen in the tab), :meth:`set_input` the drawing; ``others()`` lists the catalog's
    models as ``(key, title, load)`` for *Compare with*. ``computed(LabResult)`` fires once
    the curves and the readout are on screen."""

    computed = QtCore.Signal(object)

    def __init__(
        self,
        worker: AnalysisWorker,
        others: Callable[[], Sequence[tuple[str, str, Callable[[], Any]]]],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("labPanel")
        self.worker, self.others = worker, others
        self.models: list[AnalysisModel] = []
        self.digit: Any = None
        self.result: LabResult | None = None
        self._stale = True  # the curves shown are not for these switches, models and input
        self._make_switches()
        self.readout = QtWidgets.QLabel(EMPTY)
        self.readout.setObjectName("labReadout")
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.readout.font()
        font.setBold(True)
        self.readout.setFont(font)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("labStatus")
        self.status.setWordWrap(True)
        self.status.setVisible(False)  # shown while it has something to say
        self.legend = QtWidgets.QLabel("")
        self.legend.setToolTip(EXPLAIN)
        self.legend.setObjectName("labLegend")
        self.legend.setWordWrap(True)
        self.plots_row = QtWidgets.QHBoxLayout()
        self.plots: list[pg.PlotWidget] = []
        # each plot's title above it, wrapped: a long pyqtgraph title widened the plot past
        # its widget (the curves were cut off at 1024×768)
        self.titles: list[QtWidgets.QLabel] = []
        self._columns: list[QtWidgets.QWidget] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(self.switches)
        layout.addWidget(self.readout)
        layout.addWidget(self.status)
        layout.addWidget(self.legend)
        layout.addLayout(self.plots_row, 1)

    def _make_switches(self) -> None:
        self.model = QtWidgets.QComboBox()
        self.model.setObjectName("labModel")
        self.model.setToolTip("The panel model the lab measures")
        self.size = QtWidgets.QSpinBox()
        self.size.setObjectName("labInputSize")
        self.size.setRange(MIN_INPUT_SIZE, MAX_INPUT_SIZE)
        self.size.setValue(DEFAULT_SETTINGS.input_size)
        self.size.setSuffix(" px")
        self.size.setKeyboardTracking(False)  # typing 29 asks once, not for 2 and 29
        self.size.setToolTip(
            "The digit drawn into an N×N field the MNIST way. Where a 2×2 max-pool meets an "
            "odd map it drops a row and a column and moves the rotation centre."
        )
        self.rotation = _choices(
            "labRotation",
            ROTATION_CHOICES,
            "How the input is turned by angles that are not quarter turns (quarter turns are "
            "always exact rot90). Supersample: turn at K× resolution, then average down.",
        )
        self.mask = _choices(
            "labMask",
            MASK_CHOICES,
            "disc: zero the corners outside the inscribed disc before the model, as escnn's "
            "examples do, to separate corner effects from the network's own error",
        )
        self.second = QtWidgets.QComboBox()
        self.second.setObjectName("labSecond")
        self.second.setToolTip(
            "Other weights of the same network (untrained, or trained another way): their "
            "curves under the same switches"
        )
        self.reset = QtWidgets.QPushButton("Defaults")
        self.reset.setObjectName("labReset")
        self.reset.setToolTip("Every switch back to what the app does: 28×28, native, no mask")
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        fields = (
            ("&Model", self.model),
            ("Input &size", self.size),
            ("&Rotation", self.rotation),
            ("M&ask", self.mask),
            ("Compare &with", self.second),
        )
        for i, (text, widget) in enumerate(fields):
            label = QtWidgets.QLabel(text)
            label.setBuddy(widget)
            row, col = divmod(i, 3)
            grid.addWidget(label, row, 2 * col)
            grid.addWidget(widget, row, 2 * col + 1)
        grid.addWidget(self.reset, 1, 5)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(5, 1)
        self.switches = grid
        self.model.currentIndexChanged.connect(lambda _i: self.recompute())
        self.size.valueChanged.connect(lambda _v: self.recompute())
        self.rotation.currentIndexChanged.connect(lambda _i: self.recompute())
        self.mask.currentIndexChanged.connect(lambda _i: self.recompute())
        self.second.currentIndexChanged.connect(lambda _i: self.recompute())
        self.reset.clicked.connect(self.set_defaults)

    # -- inputs -------------------------------------------------------------------------------
    def set_models(self, models: Sequence[AnalysisModel]) -> None:
        """The panels' models; the one analysed stays if it is still shown (else the last:
        the right panel's, P4CNN by default)."""
        keep = self.model.currentData()
        self.models = list(models)
        with QtCore.QSignalBlocker(self.model):
            self.model.clear()
            for m in self.models:
                self.model.addItem(m.title, m.key)
            index = self.model.findData(keep)
            self.model.setCurrentIndex(index if index >= 0 else len(self.models) - 1)
        self.refresh_others()
        self.recompute()

    def refresh_others(self) -> None:
        keep = self.second.currentData()
        with QtCore.QSignalBlocker(self.second):
            self.second.clear()
            self.second.addItem("nothing", NOTHING)
            for key, title, _load in self.others():
                self.second.addItem(title, key)
            index = self.second.findData(keep)
            self.second.setCurrentIndex(max(0, index))

    def set_input(self, digit: Any) -> None:
        self.digit = digit
        self.recompute()

    def settings(self) -> LabSettings:
        return LabSettings(
            input_size=self.size.value(),
            rotation=self.rotation.currentData(),
            mask=self.mask.currentData(),
        )

    def set_defaults(self) -> None:
        """Every switch to the defaults (one computation, not one per switch)."""
        widgets = (self.size, self.rotation, self.mask)
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        self.size.setValue(DEFAULT_SETTINGS.input_size)
        self.rotation.setCurrentIndex(self.rotation.findData(DEFAULT_SETTINGS.rotation))
        self.mask.setCurrentIndex(self.mask.findData(DEFAULT_SETTINGS.mask))
        del blockers
        self.recompute()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.recompute()

    # -- computing ----------------------------------------------------------------------------
    def recompute(self) -> None:
        """Ask the analysis thread for the curves of the switches as they stand (the old
        curves stay until the new arrive)."""
        self._stale = True
        index = self.model.currentIndex()
        if self.digit is None:
            self.readout.setText(EMPTY)
            return
        if not 0 <= index < len(self.models) or not self.isVisible():
            return  # (a hidden tab computes when it is shown)
        self._stale = False
        try:
            settings = self.settings()
        except GcnnViewerError as exc:
            self._say(first_line(exc))
            return
        m = self.models[index]
        second = None
        key = self.second.currentData()
        if key:
            found = [(k, t, load) for k, t, load in self.others() if k == key]
            if found:
                second = (found[0][1], found[0][2])
        request = LabRequest(m.title, m.model, self.digit, settings, second)

        def job(progress, cancelled):
            from gcnn_viewer.analysis.lab_view import run_lab

            return run_lab(request, progress, cancelled)

        # (the old readout stays, marked, until the new one arrives: no line comes and goes)
        before = self.result.readout.text if self.result is not None else ""
        self.readout.setText(f"{before}  (computing…)".strip())
        handle = self.worker.submit("lab", job)
        handle.finished.connect(self._finished)
        handle.failed.connect(self._failed)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _failed(self, message: str) -> None:
        self._say(f"failed: {message}")

    def _finished(self, result: object) -> None:
        self.result = result  # type: ignore[assignment]
        r: LabResult = self.result
        self._make_plots(len(r.series))
        names = list(r.chosen.errors)
        pens = layer_pens(names)
        for plot, title, series in zip(self.plots, self.titles, r.series, strict=True):
            title.setText(series.title)
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
            x = np.asarray(series.curves.angles)
            for name, err in series.curves.errors.items():
                if name in series.curves.unavailable:
                    continue
                y = np.maximum(np.asarray(err, np.float64), LOG_FLOOR)
                plot.plot(x, y, pen=pens.get(name, pens["logits"]), name=name)
        self.readout.setText(r.readout.text)
        notes = [r.note] if r.note else []
        if r.second_readout is not None:
            notes.append(f"{r.series[-1].title.split(':')[0]}: {r.second_readout.text}")
        self._say("  ".join(notes))
        self.legend.setText(
            "Layers (log scale; shaded: exact):&nbsp;&nbsp;"
            + "&nbsp;&nbsp;".join(
                f"<span style='color:{pens[n].color().name()}'>"
                f"{'▬▬' if n == 'logits' else '━━'}</span>&nbsp;{n}"
                + (" (n/a)" if n in r.chosen.unavailable else "")
                for n in names
            )
        )
        self.computed.emit(r)

    def _make_plots(self, n: int) -> None:
        while len(self.plots) > n:
            self.plots.pop()
            self.titles.pop()
            column = self._columns.pop()
            self.plots_row.removeWidget(column)
            column.deleteLater()
        while len(self.plots) < n:
            plot = error_plot(f"labPlot{len(self.plots)}")
            mark = pg.InfiniteLine(READOUT_ANGLE, angle=90, pen=pg.mkPen("#909090", width=1))
            plot.addItem(mark)  # where the readout looks
            title = QtWidgets.QLabel("")
            title.setObjectName(f"labTitle{len(self.plots)}")
            title.setWordWrap(True)
            title.setAlignment(
                QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignBottom
            )
            # two lines for every title, so that the plots side by side line up
            title.setMinimumHeight(2 * title.fontMetrics().lineSpacing())
            column = QtWidgets.QWidget()
            box = QtWidgets.QVBoxLayout(column)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(0)
            box.addWidget(title)
            box.addWidget(plot, 1)
            self.plots_row.addWidget(column, 1)
            self.plots.append(plot)
            self.titles.append(title)
            self._columns.append(column)

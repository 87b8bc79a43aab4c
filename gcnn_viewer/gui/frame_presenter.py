"""The worker's results on screen: each panel's maps and prediction, the model input, the sweep
plot, the hovered map and the status bar's timing; the angle in the status bar and the sweep's
class box follow the state.

:class:`FramePresenter` listens to the inference worker's signals itself; which results are
still wanted is the :class:`~gcnn_viewer.viewer.reactions.ResultGate`'s decision (Qt-free).
The data path it is the last step of is docs/ARCHITECTURE.md, “From a stroke to a repainted
mosaic”.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.canvas import InputPreview
from gcnn_viewer.gui.inspector import HoverTracker
from gcnn_viewer.gui.model_panel import ModelPanel
from gcnn_viewer.gui.sweep_plot import AUTO, SweepPlot
from gcnn_viewer.gui.worker import InferenceWorker
from gcnn_viewer.viewer.inference import FrameResult, SweepResult
from gcnn_viewer.viewer.reactions import ResultGate, is_blank
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.window_texts import angle_text, sweep_titles


class FramePresenter(QtCore.QObject):
    """Hands each worker result that ``gate`` still wants to the views.

    ``frameShown(FrameResult)`` / ``sweepShown(SweepResult)`` fire after a result is on
    screen (tests and the interaction benchmark wait on them, as ``window.frameShown``).
    ``angle_label`` shows the state's angle, ``timing_label`` the last frame's compute time.
    """

    frameShown = QtCore.Signal(object)
    sweepShown = QtCore.Signal(object)

    def __init__(
        self,
        worker: InferenceWorker,
        state: ViewerState,
        gate: ResultGate,
        panels: Sequence[ModelPanel],
        preview: InputPreview,
        sweep: SweepPlot,
        hover: HoverTracker,
        status_bar: QtWidgets.QStatusBar,
        angle_label: QtWidgets.QLabel,
        timing_label: QtWidgets.QLabel,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)  # a QObject of the GUI thread: the worker's signals queue here
        self.state, self.gate, self.panels, self.preview = state, gate, list(panels), preview
        self.sweep, self.hover, self.status_bar = sweep, hover, status_bar
        self.angle_label, self.timing_label = angle_label, timing_label
        worker.frameReady.connect(self.show_frame)
        worker.sweepReady.connect(self.show_sweep)
        worker.failed.connect(self.frame_failed)
        state.angle_changed.connect(self.show_angle)
        state.tracked_class_changed.connect(self.show_tracked_class)
        sweep.classChosen.connect(
            lambda c: setattr(state, "tracked_class", None if c == AUTO else c)
        )
        self.show_angle(state.angle)

    # -- the state ---------------------------------------------------------------------------
    def show_angle(self, angle: float) -> None:
        # The sweep's angle marker moves with the frame, not before it: repainting a plot
        # holds the GIL and would only delay the worker computing that frame.
        self.angle_label.setText(angle_text(angle))

    def show_tracked_class(self, tracked: int | None) -> None:
        box = self.sweep.class_box
        index = box.findData(AUTO if tracked is None else tracked)
        if box.currentIndex() != index:
            with QtCore.QSignalBlocker(box):
                box.setCurrentIndex(index)
        self.sweep.set_tracked(tracked)

    # -- results -----------------------------------------------------------------------------
    def frame_failed(self, text: str) -> None:
        """A frame could not be computed: the maps on screen belong to an older input, so
        they are marked stale (greyed, with the reason) until a frame succeeds."""
        if self.gate.frame_failed(text):
            for panel in self.panels:
                panel.set_stale(text)
            self.sweep.set_stale(True)
            self.status_bar.showMessage(text, 8000)

    def show_frame(self, result: FrameResult) -> None:
        show, recovered = self.gate.accept_frame(result, self.state.panel_keys)
        if not show:
            return  # made for models no longer shown; a newer request is on its way
        for panel in self.panels if recovered else ():
            panel.set_stale("")
        self.preview.set_pixels(result.input)
        blank = is_blank(result.input)
        for panel, frame in zip(self.panels, result.panels, strict=True):
            panel.show_frame(frame, blank)
        self.sweep.set_angle(result.angle, [p.probabilities for p in result.panels])
        self.hover.refresh()
        self.timing_label.setText(f"frame {result.compute_ms:.1f} ms")
        self.frameShown.emit(result)

    def show_sweep(self, result: SweepResult) -> None:
        state = self.state
        keys = state.panel_keys
        if not self.gate.accept_sweep(result, state.drawing.version, keys):
            return
        titles = sweep_titles([state.catalog.get(k).title for k in keys])
        frame = self.gate.last_frame
        blank = state.drawing.is_empty or (frame is not None and is_blank(frame.input))
        self.sweep.set_sweep(result, keys, titles, state.tracked_class, blank)
        if frame is not None:
            self.sweep.set_angle(frame.angle, [p.probabilities for p in frame.panels])
        self.sweepShown.emit(result)

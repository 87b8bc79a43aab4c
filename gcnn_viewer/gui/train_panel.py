"""The Train panel: train or fine-tune a model on a worker thread, with live curves.

Thin Qt over :class:`~gcnn_viewer.viewer.training.TrainingSession`, which drives the same
:meth:`Trainer.run` generator as the CLI. The worker never touches a widget: it emits progress
records and weight snapshots (detached CPU tensors, a fresh model built off the GUI thread);
the panel puts the model in training into the catalog and updates that entry in place.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.errors import CheckpointError, GcnnViewerError, first_line
from gcnn_viewer.gui.dialogs import ask, show_error
from gcnn_viewer.gui.style import cache_plot, configure_pyqtgraph, make_plot, small_font
from gcnn_viewer.models.registry import model_names, model_spec
from gcnn_viewer.models.train_config import TrainConfig, train_option
from gcnn_viewer.viewer.models import ModelCatalog, describe_checkpoint
from gcnn_viewer.viewer.training import (
    TRAINING_NICENESS,
    DataLoader,
    SessionResult,
    Snapshot,
    TrainingCurves,
    TrainingSession,
    cache_location,
    describe_run,
    device_choices,
    eta_seconds,
    fetch_fraction,
    finishing_fraction,
    finishing_text,
    format_duration,
    load_curves,
    mnist_rot_cached,
    mnist_rot_loader,
    plan_run,
    save_curves,
)

if TYPE_CHECKING:  # (torch loads after the window is shown: docs/ARCHITECTURE.md, "Start-up")
    from gcnn_viewer.training.loop import Progress

CURVE_REFRESH_MS = 250  # curves redraw at most this often, however fast records come
SPIN_MAX = 2**31 - 1  # a QSpinBox holds a C int
TRAIN_COLOUR, VALID_COLOUR = "#2f6fbd", "#d9822b"
LIVE_DETAIL = "training in the app: these weights follow the run live (see the Train panel)"
STATUS_LINES = 3  # the status label's fixed height: changing text must not relayout


class TrainingWorker(QtCore.QThread):
    """Runs one :class:`TrainingSession`; talks only through signals."""

    message = QtCore.Signal(str)
    progress = QtCore.Signal(object)  # Progress
    snapshot = QtCore.Signal(object, object)  # Snapshot, GCNNModel (fresh, CPU, eval)
    paused = QtCore.Signal(bool)
    ended = QtCore.Signal(object)  # SessionResult

    def __init__(self, session: TrainingSession, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("gcnn-viewer training")
        session.on_message = self.message.emit
        session.on_progress = self.progress.emit
        session.on_paused = self.paused.emit
        session.on_snapshot = self._snapshot

    def _snapshot(self, snap: Snapshot) -> None:
        self.snapshot.emit(snap, snap.build())  # built here, off the GUI thread

    def run(self) -> None:
        try:
            result = self.session.run()
        except BaseException as exc:  # noqa: BLE001  run() never raises; be sure anyway
            result = SessionResult("failed", None, first_line(exc))
        self.ended.emit(result)

    def stop(self, timeout_ms: int = 300_000) -> bool:
        """Cancel (a checkpoint is saved at the next step boundary) and wait."""
        self.session.cancel()
        return self.wait(timeout_ms)


class FetchWorker(QtCore.QThread):
    """Fetches MNIST and generates MNIST-rot into the cache."""

    message = QtCore.Signal(str)
    ended = QtCore.Signal(str)  # "" on success, else one line

    def run(self) -> None:
        try:
            from gcnn_viewer.data import load_mnist_rot

            load_mnist_rot(progress=self.message.emit)
        except Exception as exc:  # noqa: BLE001  DataError and anything else: one line
            self.ended.emit(first_line(exc))
        else:
            self.ended.emit("")


class CurvePlot(pg.PlotWidget):
    """A plot that asks for little height: the panel sits in a scroll area that sizes it by
    its preferred height (pyqtgraph asks for 480 px a plot, so the second curve was only
    reachable by scrolling); the plots share whatever height there is.

    The curves always show the whole run (auto range): the mouse neither zooms nor pans them,
    and the wheel goes to the scroll area around the panel, as over any other widget in it
    (it zoomed the curves, and the zoom stayed for the next run)."""

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802  (Qt's name)
        return QtCore.QSize(300, 140)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # noqa: N802  (Qt's name)
        """To the scroll area around the panel (handed on explicitly: Qt passes an ignored
        wheel event to the parent only when it came from the window system)."""
        area = self.parentWidget()
        while area is not None and not isinstance(area, QtWidgets.QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            event.ignore()
            return
        target = area.viewport()
        forward = QtGui.QWheelEvent(
            QtCore.QPointF(target.mapFromGlobal(event.globalPosition().toPoint())),
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
        )
        QtWidgets.QApplication.sendEvent(target, forward)
        event.setAccepted(forward.isAccepted())


def _spin_box(name: str, field: str) -> QtWidgets.QSpinBox:
    """A spin box for TrainConfig's integer ``field``: its range (up to what the form offers)
    and the app's default for it."""
    option = train_option(field)
    box = QtWidgets.QSpinBox()
    box.setObjectName(name)
    high = min(int(option.form_high or option.high or SPIN_MAX), SPIN_MAX)
    box.setRange(int(option.low or 0), high)
    box.setValue(int(option.app_default))
    return box


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = make_plot(cls=CurvePlot, grid="xy")  # no drag or zoom: the whole run stays in view
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    for axis in ("bottom", "left"):  # "epoch (x0.001)" early in a run reads as nonsense
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.setMinimumHeight(90)
    cache_plot(plot.getPlotItem())
    return plot


class TrainPanel(QtWidgets.QWidget):
    """Settings, Start / Pause / Cancel, progress and curves of one training run.

    ``followRequested(key)``: show the model in training (its catalog key) in a panel;
    ``runEnded(SessionResult)`` after the run ended and the catalog entry was finalised.
    Tests replace :attr:`load_data` (tiny data) and :attr:`runs_dir`.
    """

    followRequested = QtCore.Signal(str)
    runEnded = QtCore.Signal(object)
    progressShown = QtCore.Signal(object)
    dataReady = QtCore.Signal()  # MNIST-rot is now in the cache (fetched here)

    def __init__(self, catalog: ModelCatalog, parent: QtWidgets.QWidget | None = None):
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName("trainPanel")
        self.catalog = catalog
        self.load_data: DataLoader | None = None  # None: MNIST-rot from the cache
        base = QtCore.QStandardPaths.writableLocation(
            QtCore.QStandardPaths.StandardLocation.AppDataLocation
        )
        self.runs_dir = Path(base or Path.home() / ".gcnn-viewer") / "runs"
        self.report_every = 10
        self.snapshot_every: int | None = None
        self.snapshot_min_interval_s: float | None = None
        self.niceness = TRAINING_NICENESS  # the worker thread's, relative to the window's
        self.worker: TrainingWorker | None = None
        self.fetcher: FetchWorker | None = None
        self.session: TrainingSession | None = None
        self.entry_key: str | None = None
        self.result: SessionResult | None = None
        self.last: Progress | None = None
        self._runs = 0
        self._dirty = False
        # the curves of the runs cancelled here, by checkpoint: Continue… carries them on
        # (the file holds only one mean per finished epoch; they are also saved beside it)
        self._kept_curves: dict[Path, TrainingCurves] = {}
        self.last_checkpoint: Path | None = None  # of the last run that ended here
        self._started = 0.0

        form = self._settings_form()
        data_row = self._data_row()
        buttons = self._buttons()
        self._progress_widgets()
        plots = self._curve_plots()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(CURVE_REFRESH_MS)
        self._timer.timeout.connect(self._redraw)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(5)
        layout.addLayout(form)
        layout.addLayout(data_row)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.folder_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(plots, 1)
        self.refresh_data_status()
        self._set_running(False)

    # -- building ---------------------------------------------------------------------------
    def _settings_form(self) -> QtWidgets.QFormLayout:
        """Model, epochs and batch, seed, augmentation, device, and whether to follow the run.
        Each field's range, default and choices are TrainConfig's (train_options)."""
        self.model_box = QtWidgets.QComboBox()
        self.model_box.setObjectName("trainModel")
        for name in model_names():
            self.model_box.addItem(model_spec(name).title, name)
        self.model_box.setCurrentIndex(
            max(0, self.model_box.findData(train_option("model").default))
        )
        self.model_box.setToolTip("The architecture to train from scratch")
        self.epochs = _spin_box("trainEpochs", "epochs")
        paper = ", ".join(f"{s.paper_epochs} ({s.title})" for s in map(model_spec, model_names()))
        self.epochs.setToolTip(f"The paper trains {paper}")
        self.batch = _spin_box("trainBatch", "batch_size")
        self.batch.setToolTip("Images per optimizer step (the paper: 128)")
        self.seed = _spin_box("trainSeed", "seed")
        self.augment = QtWidgets.QComboBox()
        self.augment.setObjectName("trainAugment")
        augment = train_option("augment")
        for value, text in zip(augment.choices, augment.choice_labels, strict=True):
            self.augment.addItem(text, value)
        self.augment.setCurrentIndex(max(0, self.augment.findData(augment.default)))
        self.device = QtWidgets.QComboBox()
        self.device.setObjectName("trainDevice")
        # the GPUs are known once torch is loaded: refresh_devices() (the window calls it)
        for text, value in device_choices(probe="torch" in sys.modules):
            self.device.addItem(text, value)
        self.follow = QtWidgets.QCheckBox("Show it on the right as it learns")
        self.follow.setObjectName("trainFollow")
        self.follow.setChecked(True)
        self.follow.setToolTip(
            "The feature maps follow the model in training: its weights are copied every "
            "few dozen steps (at most every 2 s), which costs the training little"
        )
        form = QtWidgets.QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        form.addRow("Model", self.model_box)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.epochs, 1)
        row.addWidget(QtWidgets.QLabel("batch"))
        row.addWidget(self.batch, 1)
        form.addRow("Epochs", row)
        form.addRow("Seed", self.seed)
        form.addRow("Augment", self.augment)
        form.addRow("Device", self.device)
        form.addRow("", self.follow)
        self.settings_widgets = (
            self.model_box,
            self.epochs,
            self.batch,
            self.seed,
            self.augment,
            self.device,
        )
        return form

    def _data_row(self) -> QtWidgets.QHBoxLayout:
        """Whether MNIST-rot is in the cache, and the button that fetches it."""
        self.data_label = QtWidgets.QLabel("")
        self.data_label.setObjectName("trainData")
        self.data_label.setWordWrap(True)
        self.data_label.setFont(small_font(-1))
        self.fetch_button = QtWidgets.QPushButton("Fetch MNIST-rot")
        self.fetch_button.setObjectName("trainFetch")
        self.fetch_button.setToolTip("Download MNIST (checksummed) and generate MNIST-rot")
        # clicked(bool) passes Qt's `checked`; a slot with a parameter would receive it, so
        # every button here calls a lambda that takes and forwards nothing
        self.fetch_button.clicked.connect(lambda: self.fetch_data())
        data_row = QtWidgets.QHBoxLayout()
        data_row.addWidget(self.data_label, 1)
        data_row.addWidget(self.fetch_button)
        return data_row

    def _buttons(self) -> QtWidgets.QHBoxLayout:
        """Start, Continue…, Pause, Cancel."""
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setObjectName("trainStart")
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.setObjectName("trainPause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(lambda on: self.set_paused(bool(on)))
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("trainCancel")
        self.cancel_button.setToolTip("Stop; the weights so far are saved as a checkpoint")
        self.cancel_button.clicked.connect(lambda: self.cancel())
        buttons = QtWidgets.QHBoxLayout()
        self.continue_button = QtWidgets.QPushButton("Continue…")
        self.continue_button.setObjectName("trainContinue")
        self.continue_button.setToolTip(
            "Continue a cancelled or interrupted run from its checkpoint (app or CLI), or "
            "fine-tune a finished model: a new run from its weights with the settings above"
        )
        self.continue_button.clicked.connect(lambda: self.continue_run())
        for b in (self.start_button, self.continue_button, self.pause_button, self.cancel_button):
            buttons.addWidget(b)
        return buttons

    def _progress_widgets(self) -> None:
        """The progress bar, the status lines and the checkpoint folder's button."""
        self.bar = QtWidgets.QProgressBar()
        self.bar.setObjectName("trainProgress")
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p%")
        self.status = QtWidgets.QLabel("Not training.")
        self.status.setObjectName("trainStatus")
        self.status.setWordWrap(True)
        self.status.setFont(small_font(-1))
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft
        )
        self.status.setFixedHeight(
            QtGui.QFontMetrics(self.status.font()).lineSpacing() * STATUS_LINES + 4
        )
        self.status.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed
        )
        # the status names the checkpoint file; this opens the folder that holds it
        self.folder_button = QtWidgets.QPushButton("Open checkpoint folder")
        self.folder_button.setObjectName("trainOpenFolder")
        self.folder_button.clicked.connect(lambda: self.open_checkpoint_folder())
        self.folder_button.setVisible(False)

    def _curve_plots(self) -> QtWidgets.QVBoxLayout:
        """The loss and error curves, one above the other."""
        self.loss_plot = _plot("Training loss", "loss")
        # the key is in the title: a legend inside the plot covered the curves
        self.error_plot = _plot(
            f"Error: <span style='color:{TRAIN_COLOUR}'>━ train</span> · "
            f"<span style='color:{VALID_COLOUR}'>● valid</span>",
            "%",
        )
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen(TRAIN_COLOUR, width=1.5))
        self.train_curve = self.error_plot.plot(
            [], [], pen=pg.mkPen(TRAIN_COLOUR, width=1.5), name="train"
        )
        self.valid_curve = self.error_plot.plot(
            [],
            [],
            pen=pg.mkPen(VALID_COLOUR, width=1.5),
            symbol="o",
            symbolSize=5,
            symbolBrush=VALID_COLOUR,
            symbolPen=None,
            name="valid",
        )
        self.curves = TrainingCurves()
        self._reset_curves()
        plots = QtWidgets.QVBoxLayout()
        plots.setSpacing(2)
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.error_plot, 1)
        return plots

    # -- state ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    @property
    def busy(self) -> bool:
        return self.running or (self.fetcher is not None and self.fetcher.isRunning())

    def _set_running(self, on: bool) -> None:
        for w in self.settings_widgets:
            w.setEnabled(not on)
        self.start_button.setEnabled(not on)
        self.continue_button.setEnabled(not on)
        self.fetch_button.setEnabled(not on and self.load_data is None)
        self.pause_button.setEnabled(on)
        self.cancel_button.setEnabled(on)
        if not on:
            with QtCore.QSignalBlocker(self.pause_button):
                self.pause_button.setChecked(False)
                self.pause_button.setText("Pause")

    def config(self) -> TrainConfig:
        return TrainConfig(
            model=self.model_box.currentData(),
            epochs=self.epochs.value(),
            batch_size=self.batch.value(),
            seed=self.seed.value(),
            augment=self.augment.currentData(),
            device=self.device.currentData(),
        )

    def refresh_devices(self) -> None:
        """Offer every device torch sees (at start only the CPU: torch was not loaded yet);
        the choice made stays chosen."""
        chosen = self.device.currentData()
        with QtCore.QSignalBlocker(self.device):
            self.device.clear()
            for text, value in device_choices():
                self.device.addItem(text, value)
            self.device.setCurrentIndex(max(0, self.device.findData(chosen)))

    def refresh_data_status(self) -> None:
        if self.load_data is not None:
            self.data_label.setText("Data: supplied by the caller")
            self.fetch_button.setVisible(False)
            return
        self.fetch_button.setVisible(True)
        if mnist_rot_cached():
            self.data_label.setText("Data: MNIST-rot is in the cache ✓")
            self.data_label.setStyleSheet("color:#2b7a2b")
            self.fetch_button.setVisible(False)
        else:
            self.data_label.setText(
                f"Data: MNIST-rot is not in the cache ({cache_location()}). Fetch it now "
                "(about 11 MB, then a minute to generate), or Start fetches it first."
            )
            self.data_label.setStyleSheet("color:#8a5a00")

    # -- data ------------------------------------------------------------------------------
    def fetch_data(self) -> None:
        if self.busy:
            return
        self.fetcher = FetchWorker(self)
        self.fetcher.message.connect(self._fetch_message)
        self.fetcher.ended.connect(self._fetched)
        self._set_running(False)
        self.start_button.setEnabled(False)
        self.continue_button.setEnabled(False)
        self.fetch_button.setEnabled(False)
        self.status.setText("Data: fetching MNIST…")
        self._set_bar(None, "data…")
        self.fetcher.start()

    def _fetch_message(self, text: str) -> None:
        self.status.setText(f"Data: {text}")
        self._data_message(text)

    def _fetched(self, error: str) -> None:
        if self.fetcher is not None:
            self.fetcher.wait()
        self._set_running(False)
        self.refresh_data_status()
        if error:
            self._set_bar(0.0, "%p%")
            self._data_failed(error)
        else:
            self._set_bar(1.0, "data %p%")
            self.status.setText("Data: MNIST-rot is ready.")
            self.dataReady.emit()

    def _data_failed(self, error: str) -> None:
        self.status.setText(
            f"Could not get the data: {error}. Offline? Put the four MNIST files in a folder "
            "and run: gcnn-viewer data fetch --from FOLDER (a checksum mismatch means a "
            "damaged download: delete it and fetch again)."
        )
        show_error(self.window(), "Cannot get MNIST-rot", error)

    # -- commands ----------------------------------------------------------------------------
    def start(self, resume_from: Path | str | None = None) -> bool:
        """Start a run with the panel's settings, or continue the unfinished run saved at
        ``resume_from`` exactly (weights, optimizer, data order; on the panel's device) into a
        new checkpoint file, leaving that one as it is."""
        if self.busy:
            return False
        try:  # what to run, and into which file: Qt-free policy (viewer.training.plan_run)
            plan = plan_run(self.config(), self.runs_dir, resume_from, number=self._runs + 1)
        except GcnnViewerError as exc:
            show_error(self.window(), "Cannot train", str(exc))
            return False
        loader = self.load_data
        if (
            loader is None
            and not mnist_rot_cached()
            and not ask(
                self.window(),
                "Fetch MNIST-rot?",
                "Training needs MNIST-rot, which is not in the cache yet. Download MNIST "
                "(about 11 MB, checksummed) and generate MNIST-rot now?",
            )
        ):
            self.status.setText(
                "Not training: no data. Fetch MNIST-rot, or run: gcnn-viewer data fetch"
            )
            return False
        self._runs += 1
        config = plan.config
        if loader is None:
            loader = mnist_rot_loader(config.train_split)
        kwargs = {}
        if self.snapshot_every is not None:
            kwargs["snapshot_every"] = self.snapshot_every
        if self.snapshot_min_interval_s is not None:
            kwargs["snapshot_min_interval_s"] = self.snapshot_min_interval_s
        self.session = TrainingSession(
            config,
            loader,
            plan.checkpoint_path,
            report_every=self.report_every,
            threads=plan.threads,
            niceness=self.niceness,
            resume_from=plan.resume_from,
            **kwargs,
        )
        self.entry_key = None
        self.result = None
        self.last = None
        self._reset_curves()
        kept = None
        if plan.resume_from is not None:  # cancelled here, or in the app before a restart
            kept = self._kept_curves.get(_key(plan.resume_from)) or load_curves(plan.resume_from)
        if kept is not None:  # a run cancelled in the app: its curves as they were
            self.curves = copy.deepcopy(kept)
        else:  # a continued run from elsewhere: one point (the mean) per epoch so far
            self.curves.add_history(plan.history)
        self.folder_button.setVisible(False)
        self._redraw()
        self._set_bar(0.0, "%p%")
        self.worker = TrainingWorker(self.session, self)
        self.worker.message.connect(self._preparing)
        self.worker.progress.connect(self._progress)
        self.worker.snapshot.connect(self._snapshot)
        self.worker.paused.connect(self._paused)
        self.worker.ended.connect(self._ended)
        self._set_running(True)
        self._started = time.monotonic()
        self._timer.start()
        self.worker.start()
        return True

    def continue_run(self) -> bool:
        # the dialog opens on the checkpoint of the last run here (the one just cancelled)
        last = self.last_checkpoint
        start = last if last is not None and last.is_file() else self.runs_dir
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window(),
            "Continue a run, or fine-tune a finished model",
            str(start),
            "gcnn-viewer checkpoints (*.pt *.pth *.ckpt);;All files (*)",
        )
        return self.start(resume_from=path) if path else False

    def set_paused(self, on: bool) -> None:
        if self.session is None or not self.running:
            return
        if on:
            self.session.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Pausing at the next step boundary…")
        else:
            self.session.resume()
            self.pause_button.setText("Pause")

    def cancel(self) -> None:
        if self.session is not None and self.running:
            self.session.cancel()
            self.status.setText("Cancelling: saving a checkpoint at the next step boundary…")
            self.pause_button.setEnabled(False)
            self.cancel_button.setEnabled(False)

    def shutdown(self, timeout_ms: int = 300_000) -> bool:
        """Stop any run (its checkpoint is kept) and wait for the threads; idempotent."""
        ok = True
        self._timer.stop()
        if self.worker is not None and self.worker.isRunning():
            ok = self.worker.stop(timeout_ms)
        if self.fetcher is not None and self.fetcher.isRunning():
            ok = self.fetcher.wait(timeout_ms) and ok
        return ok

    # -- worker -> view --------------------------------------------------------------------
    def _paused(self, on: bool) -> None:
        if on:
            self.status.setText(self._status_text(self.last, "paused"))
        elif self.last is not None:
            self.status.setText(self._status_text(self.last, ""))

    def _set_bar(self, fraction: float | None, text: str) -> None:
        """``fraction`` None: busy (an indicator that moves without a count)."""
        if fraction is None:
            if self.bar.maximum() != 0:
                self.bar.setRange(0, 0)
        else:
            if self.bar.maximum() != 1000:
                self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * fraction))
        if self.bar.format() != text:
            self.bar.setFormat(text)

    def _data_message(self, text: str) -> None:
        """A message from the data layer: its ``done/total`` count moves the bar."""
        fraction = fetch_fraction(text)
        self._set_bar(fraction, "data %p%" if fraction is not None else "data…")

    def _preparing(self, text: str) -> None:
        self.status.setText(f"Preparing: {text}")
        self._data_message(text)

    def _progress(self, p: Progress) -> None:
        first = self.last is None
        self.last = p
        if first and self.load_data is None and not self.fetch_button.isHidden():
            self.refresh_data_status()  # Start fetched the data: others may use it now
            self.dataReady.emit()
        finishing = finishing_text(p)
        if finishing is not None:  # the end-of-run passes: BN statistics, evaluations
            self._set_bar(finishing_fraction(p), f"{getattr(p, 'phase', None) or 'finishing'} %p%")
        else:
            self._set_bar(p.fraction, "%p%")
            self._dirty = self.curves.add(p) or self._dirty
        paused = self.session is not None and self.session.paused
        self.status.setText(self._status_text(p, "pausing…" if paused else ""))
        self.progressShown.emit(p)

    def _status_text(self, p: Progress | None, note: str) -> str:
        if p is None:
            return note or "Starting…"
        device = self.session.device_name if self.session is not None else ""
        finishing = finishing_text(p)
        if finishing is not None:
            text = (
                f"All {p.epochs} epoch{'s' if p.epochs != 1 else ''} trained · finishing "
                f"on {device}: {finishing} · last epoch's loss {p.loss:.3f}"
            )
        else:
            # no time left to count while the run stands still (paused, or pausing)
            still = self.session is not None and self.session.paused
            eta = "" if still else f"ETA {format_duration(eta_seconds(p))} · "
            text = (
                f"Epoch {min(p.epoch + (p.kind == 'step'), p.epochs)} of {p.epochs} · step "
                f"{p.step}/{p.steps_total} · {p.images_per_s:,.0f} img/s on {device} · "
                f"{eta}loss {p.loss:.3f} · train error {100 * p.error:.1f}%"
            )
        valid = self.curves.valid
        if valid:
            text += f" · valid {valid[-1]:.1f}%"
        return f"{text} · {note}" if note else text

    def _snapshot(self, snap: Snapshot, model) -> None:
        # one fixed text while training: a detail line that changed length would relayout
        # the model panel at every snapshot (tens of ms); the Train panel shows the numbers
        detail = LIVE_DETAIL
        if not self._has_entry():
            name = self.session.checkpoint_path.name if self.session else "run"
            entry = self.catalog.add_model(model, f"in training ({name})", detail)
            entry.trained = True
            self.entry_key = entry.key
            if self.follow.isChecked():
                self.followRequested.emit(entry.key)
        else:
            self.catalog.update_model(self.entry_key, model, detail, rescale=False)

    def _ended(self, result: SessionResult) -> None:
        if self.worker is not None:
            self.worker.wait()
        self._timer.stop()
        self.result = result
        self._redraw()
        self._set_running(False)
        if result.status == "done" and result.last is not None:
            self._set_bar(1.0, "%p%")
        elif self.bar.maximum() == 0:  # ended while loading data: no count to show
            self._set_bar(0.0, "%p%")
        self._finalise_entry(result)
        if result.checkpoint:
            self.last_checkpoint = Path(result.checkpoint)
            if result.status == "cancelled":
                self._kept_curves[_key(result.checkpoint)] = copy.deepcopy(self.curves)
                # beside the checkpoint, for a Continue… after a restart (unwritable: this
                # session still has them; after a restart, one point an epoch)
                with contextlib.suppress(OSError):
                    save_curves(self.curves, result.checkpoint)
        self.folder_button.setVisible(bool(result.checkpoint))
        self.folder_button.setToolTip(
            f"Open {Path(result.checkpoint).parent} in the file manager"
            if result.checkpoint
            else ""
        )
        if result.status == "failed":
            self.status.setText(f"Training failed: {result.message}")
            show_error(self.window(), "Training failed", result.message)
        elif result.status == "cancelled":
            where = (
                f"; checkpoint kept: {self._file_name(result.checkpoint)}"
                if result.checkpoint
                else ""
            )
            self.status.setText(f"Cancelled{where} (Continue… carries it on).")
        else:
            took = format_duration(time.monotonic() - self._started)
            p = result.last
            valid = f" · valid {self.curves.valid[-1]:.1f}%" if self.curves.valid else ""
            test = (
                f" · test {100 * p.test_error:.2f}%"
                if p is not None and p.test_error is not None
                else ""
            )
            epochs = f"{p.epochs} epoch{'s' if p.epochs != 1 else ''}" if p is not None else "run"
            self.status.setText(
                f"Done: {epochs} in {took}{valid}{test} · saved as "
                f"{self._file_name(result.checkpoint) if result.checkpoint else '(not saved)'}"
            )
        # the status line has room for three lines: the whole path is in its tooltip
        self.status.setToolTip(
            f"{result.checkpoint}\nFile ▸ Save model… writes a copy elsewhere."
            if result.checkpoint
            else ""
        )
        self.runEnded.emit(result)

    def open_checkpoint_folder(self) -> bool:
        """Show the folder holding the last run's checkpoint in the desktop's file manager."""
        if self.last_checkpoint is None:
            return False
        folder = self.last_checkpoint.parent
        return QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(folder)))

    def _file_name(self, path: Path | str) -> str:
        """A file's name, elided in the middle to one line of the status (a name has no
        spaces to wrap at: a long one would run past the panel's edge)."""
        metrics = QtGui.QFontMetrics(self.status.font())
        width = max(80, int(0.6 * self.status.width()))
        return metrics.elidedText(Path(path).name, QtCore.Qt.TextElideMode.ElideMiddle, width)

    def _has_entry(self) -> bool:
        return self.entry_key is not None and any(e.key == self.entry_key for e in self.catalog)

    def _finalise_entry(self, result: SessionResult) -> None:
        """The entry shows the checkpoint's weights, labelled by how the run ended."""
        if not self._has_entry():
            return
        entry = self.catalog.get(self.entry_key)
        path = result.checkpoint
        if path is None or not Path(path).is_file():
            entry.source = f"{result.status} in the app (not saved)"
            entry.path = None
            self.catalog.update_model(entry.key, entry.model, describe_run(result.last, "failed"))
            return
        try:
            from gcnn_viewer.training.checkpoint import load_checkpoint

            checkpoint = load_checkpoint(path)
        except CheckpointError as exc:
            self.status.setText(f"Cannot read back the checkpoint: {exc}")
            return
        what = "trained in the app" if result.status == "done" else f"{result.status} run"
        entry.source = f"{what} ({Path(path).name})"
        entry.path = Path(path)
        detail = describe_checkpoint(checkpoint.record, f"weights from {Path(path).name}")
        self.catalog.update_model(entry.key, checkpoint.model, detail, rescale=True)

    # -- curves ------------------------------------------------------------------------------
    def _reset_curves(self) -> None:
        self.curves = TrainingCurves()
        self._dirty = True
        for plot in (self.loss_plot, self.error_plot):  # a new run: the whole of it in view
            plot.enableAutoRange()

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        c = self.curves
        self.loss_curve.setData(c.x, c.loss)
        self.train_curve.setData(c.x, c.error)
        self.valid_curve.setData(c.vx, c.valid)


def _key(path: Path | str) -> Path:
    """A checkpoint's path as a dictionary key (one file, however it was named)."""
    return Path(path).resolve()

"""File ▸ Export… (Ctrl+E): the dialog, its live preview, and the export run off the GUI thread.

:class:`Exporter` is the window's part (``window.exporter``): it opens the dialog from the menu,
from a layer's context menu (preset to that model and layer) and from the sweep plot's (preset
to the sweep). The dialog reads its widgets into an
:class:`~gcnn_viewer.export.choices.ExportChoices`; turning those into an export and checking
them is Qt-free (:mod:`gcnn_viewer.export.choices`). Previews and exports run on an
:class:`~gcnn_viewer.gui.export_runner.ExportRunner`, so the window keeps painting while a GIF
is made; Cancel stops an export and leaves no file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.errors import first_line
from gcnn_viewer.gui.dialogs import show_error
from gcnn_viewer.gui.export_runner import ExportRunner
from gcnn_viewer.gui.jobs import JobHandle
from gcnn_viewer.gui.stored_settings import is_text, stored
from gcnn_viewer.viewer.state import ViewerState
from gcnn_viewer.viewer.window_texts import source_text

# The export modules import torch and matplotlib: they are loaded on the first export (the
# window is shown before torch is loaded: docs/ARCHITECTURE.md, "Start-up").
ch: Any = None  # gcnn_viewer.export.choices, once loaded
ExportError: Any = None
ExportInput: Any = None
ExportModel: Any = None
ViewSpec: Any = None
unique_names: Any = None


def load_export() -> None:
    """Import the export modules into this module's names (once; on the GUI thread)."""
    global ch, ExportError, ExportInput, ExportModel, ViewSpec, unique_names
    if ch is not None:
        return
    from gcnn_viewer.export import choices
    from gcnn_viewer.export.common import (
        ExportError,
        ExportInput,
        ExportModel,
        ViewSpec,
        unique_names,
    )

    ch = choices


PREVIEW_DELAY_MS = 300  # options typed in a burst make one preview, not one per key
PREVIEW_SIZE = (360, 300)  # most figures are wider than tall
ERROR_STYLE = "color:#b3261e"
NOTE_STYLE = "color:#707070"
LAST_FOLDER = "export/folder"  # QSettings key: where the last export went


def named(widget: QtWidgets.QWidget, name: str, tip: str = "") -> QtWidgets.QWidget:
    widget.setObjectName(name)
    if tip:
        widget.setToolTip(tip)
    return widget


def buddy(text: str, field: QtWidgets.QWidget) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)  # Alt+letter moves to the field
    label.setBuddy(field)
    return label


class ExportDialog(QtWidgets.QDialog):
    """The options of one export, a thumbnail of it, and its progress.

    Object names (tests, screenshots): ``exportKind``, ``exportModels``, ``layer_<name>``,
    ``exportChannels``, ``exportAngles``, ``quarterTurns``, ``exportStabilised``,
    ``exportFormat``, ``exportDpi``, ``exportFrames``, ``exportFps``, ``exportPath``,
    ``browseButton``, ``exportButton``, ``cancelButton``, ``exportMessage``, ``exportPreview``.
    """

    def __init__(self, exporter: Exporter, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.exporter = exporter
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.setModal(True)  # the view it exports stays as it was when it opened
        self.base: ViewSpec | None = None
        self._path_edited = False  # the user typed or browsed a path: keep it
        self._preview_job: JobHandle | None = None  # the latest preview asked for
        self._export_job: JobHandle | None = None  # the export under way, or the last one
        self.job: ch.ExportJob | None = None
        self._kind = "figure"

        self._options()
        self._output_fields()
        self._path_buttons_preview()
        self._lay_out()
        self._connect()

    # -- building -----------------------------------------------------------------------------
    def _options(self) -> None:
        """What, which models, layers, channels and angles, the stabilised view."""
        self.kind = named(QtWidgets.QComboBox(), "exportKind")
        for kind, text in ch.KINDS.items():
            self.kind.addItem(text, kind)
        self.models = named(QtWidgets.QComboBox(), "exportModels")
        self.layer_box = QtWidgets.QWidget()
        self.layer_grid = QtWidgets.QGridLayout(self.layer_box)
        self.layer_grid.setContentsMargins(0, 0, 0, 0)
        self.layer_grid.setHorizontalSpacing(10)
        self.layer_grid.setVerticalSpacing(2)
        self.layer_checks: dict[str, QtWidgets.QCheckBox] = {}
        # the rotate-and-cycle figure shows one layer: its boxes then act as radio buttons
        self.layer_group = QtWidgets.QButtonGroup(self)
        self.layer_group.setExclusive(False)
        self.channels = named(
            QtWidgets.QLineEdit(),
            "exportChannels",
            "Channels of every chosen layer: numbers and ranges, e.g. 0-4,7, numbers 0-511. "
            "Empty: all",
        )
        self.channels.setPlaceholderText("all   (or e.g. 0-4,7)")
        self.angles = named(
            QtWidgets.QLineEdit(),
            "exportAngles",
            "Degrees, counter-clockwise, separated by spaces: multiples of 90° are exact turns. "
            "At most 360 angles (quarter turns included)",
        )
        self.quarter_turns = named(
            QtWidgets.QCheckBox("+ quarter turns"),
            "quarterTurns",
            "Each angle also turned by 90°, 180° and 270°",
        )
        self.stabilised = named(
            QtWidgets.QCheckBox("Stabilised view"),
            "exportStabilised",
            "Rotate every map back and undo the orientation shift, as View ▸ Stabilised view",
        )

    def _output_fields(self) -> None:
        """The file's format, resolution, frames and frame rate."""
        self.format = named(QtWidgets.QComboBox(), "exportFormat")
        self.dpi = named(
            QtWidgets.QSpinBox(),
            "exportDpi",
            "Resolution of PNG files and frames: 10-2400 dpi, at most 100 megapixels an image",
        )
        self.dpi.setRange(10, 2400)
        self.dpi.setSuffix(" dpi")
        self.frames = named(
            QtWidgets.QSpinBox(),
            "exportFrames",
            "Frames per full turn: 2-3600, at most 500 megapixels for all frames together",
        )
        self.frames.setRange(2, 3600)
        self.frames.setSuffix(" frames")
        self.fps = named(QtWidgets.QDoubleSpinBox(), "exportFps", "Frames per second")
        self.fps.setRange(0.1, 100.0)
        self.fps.setDecimals(1)
        self.fps.setSuffix(" fps")

    def _path_buttons_preview(self) -> None:
        """Where to save, the message line, progress, Export and Close, the preview."""
        self.path = named(QtWidgets.QLineEdit(), "exportPath", "The file to write")
        self.browse = named(QtWidgets.QPushButton("Browse…"), "browseButton")
        self.message = named(QtWidgets.QLabel(""), "exportMessage")
        self.message.setWordWrap(False)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMinimumWidth(10)
        self.message.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.progress = named(QtWidgets.QProgressBar(), "exportProgress")
        self.progress.setVisible(False)
        self.export_button = named(QtWidgets.QPushButton("Export"), "exportButton")
        self.export_button.setDefault(True)
        self.cancel_button = named(QtWidgets.QPushButton("Close"), "cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.browse.setAutoDefault(False)
        self.preview = named(QtWidgets.QLabel(), "exportPreview", "What the file will show")
        self.preview.setFixedSize(*PREVIEW_SIZE)
        self.preview.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:white; border:1px solid #c8c8c8")
        self.preview_note = QtWidgets.QLabel("")
        self.preview_note.setStyleSheet(NOTE_STYLE)
        self.preview_note.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)

    def _lay_out(self) -> None:
        """Options on the left, the preview on the right, the buttons under both."""
        form = self._form_layout()
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("<b>Preview</b>"))
        right.addWidget(self.preview)
        right.addWidget(self.preview_note)
        right.addStretch(1)

        top = QtWidgets.QHBoxLayout()
        top.addLayout(form, 1)
        top.addSpacing(12)
        top.addLayout(right)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addWidget(self.message)
        outer.addLayout(buttons)

    def _form_layout(self) -> QtWidgets.QFormLayout:
        """The options and the file, one labelled row each (Alt+letter moves to a field)."""
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("&What:", self.kind)
        form.addRow("&Models:", self.models)
        form.addRow("Layers:", self.layer_box)
        form.addRow("C&hannels:", self.channels)
        angle_row = QtWidgets.QHBoxLayout()
        angle_row.addWidget(self.angles, 1)
        angle_row.addWidget(self.quarter_turns)
        form.addRow(buddy("A&ngles:", self.angles), angle_row)
        form.addRow("", self.stabilised)
        size_row = QtWidgets.QHBoxLayout()
        size_row.addWidget(self.dpi)
        size_row.addWidget(self.frames)
        size_row.addWidget(self.fps)
        size_row.addStretch(1)
        form.addRow("&Format:", self.format)
        self.size_label = QtWidgets.QLabel("Size:")
        form.addRow(self.size_label, size_row)
        path_row = QtWidgets.QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        form.addRow(buddy("Save &as:", self.path), path_row)
        self._form = form
        self.path.setMinimumWidth(300)  # room for a folder and a file name
        return form

    def _connect(self) -> None:
        """A changed option checks the options at once and previews them after a pause."""
        self.preview_timer = QtCore.QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self._request_preview)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.models.currentIndexChanged.connect(self._models_changed)
        for widget in (self.channels, self.angles):
            widget.textChanged.connect(self._changed)
        for box in (self.quarter_turns, self.stabilised):
            box.toggled.connect(self._changed)
        for spin in (self.dpi, self.frames, self.fps):
            spin.valueChanged.connect(self._changed)
        self.path.textEdited.connect(self._path_typed)
        self.browse.clicked.connect(self._browse)
        self.export_button.clicked.connect(self._export)
        self.cancel_button.clicked.connect(self._cancel_or_close)

    # -- presets -----------------------------------------------------------------------------
    def present(self, base: ViewSpec, preset: ch.ExportChoices, titles: list[str]) -> None:
        """Show the dialog for ``base`` (what is on screen) with ``preset`` filled in."""
        self.base = base
        self._path_edited = False
        blockers = [QtCore.QSignalBlocker(w) for w in self._inputs()]
        self.kind.setCurrentIndex(self.kind.findData(preset.kind))
        self._kind = preset.kind
        self.models.clear()
        if len(titles) > 1:
            self.models.addItem(f"Both: {titles[0]} and {titles[-1]}", "both")
            self.models.addItem(f"Left: {titles[0]}", "left")
            self.models.addItem(f"Right: {titles[-1]}", "right")
        else:
            self.models.addItem(titles[0], "both")
        self.models.setCurrentIndex(max(0, self.models.findData(preset.models)))
        self._fill_layers(preset.layers)
        self.channels.setText(preset.channels)
        # the kind's default angles: θ, and θ + 90° for a kind that shows a turn
        current = float(base.angles[0])
        self.angles.setText(
            preset.angles or ch.angles_text(ch.default_angles(preset.kind, current))
        )
        self.quarter_turns.setChecked(preset.quarter_turns)
        self.stabilised.setChecked(preset.stabilised)
        self._fill_formats(preset.fmt)
        self.dpi.setValue(preset.dpi)
        self.frames.setValue(preset.frames)
        self.fps.setValue(preset.fps)
        del blockers
        self._show_kind_options()
        self._default_path()
        self._set_running(False)
        self._say("")
        self.show()
        self.raise_()
        self.activateWindow()
        self._changed()

    def _inputs(self) -> list[QtWidgets.QWidget]:
        return [
            self.kind, self.models, self.channels, self.angles, self.quarter_turns,
            self.stabilised, self.format, self.dpi, self.frames, self.fps,
        ]  # fmt: skip

    def _fill_layers(self, chosen: tuple[str, ...] | None) -> None:
        """One check box per layer of the chosen models (the boxes are kept when the
        models' layers have the same names)."""
        names: list[str] = []
        for model in ch.pick_models(self.base, self.models.currentData() or "both"):
            names += [n for n in model.probe.layers if n not in names]
        if names != list(self.layer_checks):
            for box in self.layer_checks.values():
                self.layer_group.removeButton(box)
                self.layer_grid.removeWidget(box)
                box.deleteLater()
            self.layer_checks = {}
            columns = 4
            for i, name in enumerate(names):
                box = QtWidgets.QCheckBox(name)
                box.setObjectName(f"layer_{name}")
                box.toggled.connect(self._changed)
                self.layer_grid.addWidget(box, i // columns, i % columns)
                box.show()  # a layout shows a new child of a visible widget only later
                self.layer_group.addButton(box)
                self.layer_checks[name] = box
        exclusive = self.layer_group.exclusive()
        self.layer_group.setExclusive(False)  # (an exclusive group keeps one box ticked)
        for name, box in self.layer_checks.items():
            with QtCore.QSignalBlocker(box):
                box.setChecked(chosen is None or name in chosen)
        if exclusive:
            self._one_layer(True)

    def _one_layer(self, one: bool) -> None:
        """``one``: the layer boxes become radio buttons holding the first ticked layer (all
        ticked: the figure's default, l1); else check boxes again, with the same ticks."""
        if one == self.layer_group.exclusive() and not one:
            return
        if one:
            ticked = [n for n, b in self.layer_checks.items() if b.isChecked()]
            if len(ticked) == len(self.layer_checks) and ch.RC_LAYER in self.layer_checks:
                keep = ch.RC_LAYER
            else:
                keep = ticked[0] if ticked else next(iter(self.layer_checks), None)
            self.layer_group.setExclusive(False)
            for name, box in self.layer_checks.items():
                with QtCore.QSignalBlocker(box):
                    box.setChecked(name == keep)
        self.layer_group.setExclusive(one)

    def _fill_formats(self, fmt: str | None = None) -> None:
        kind = self.kind.currentData()
        keep = fmt or self.format.currentData()
        with QtCore.QSignalBlocker(self.format):
            self.format.clear()
            for f in ch.formats(kind):
                text = ch.FORMAT_NAMES[f]
                if ch.export_kind(kind).animated and f == "png":
                    text = "PNG (animated)"
                self.format.addItem(text, f)
            index = self.format.findData(keep)
            self.format.setCurrentIndex(index if index >= 0 else 0)

    def _show_kind_options(self) -> None:
        kind = ch.export_kind(self.kind.currentData())  # what plan() reads for it, no more
        for widget in (self.layer_box, self.channels, self.stabilised):
            widget.setEnabled(kind.maps)
        self.layer_box.setToolTip(
            "The lecture figure shows one layer: choose it"
            if kind.one_layer
            else "Layers to show (default: all)"
        )
        self.angles.setEnabled(kind.angles)
        self.quarter_turns.setEnabled(kind.angles)
        # the row first: showing it shows every widget in it (NPZ: no size to give)
        self._form.setRowVisible(self.size_label, "dpi" in kind.options)
        self.dpi.setVisible("dpi" in kind.options)
        self.frames.setVisible("frames" in kind.options)
        self.fps.setVisible("fps" in kind.options)
        self._one_layer(kind.one_layer)

    # -- reading the widgets ------------------------------------------------------------------
    def choices(self) -> ch.ExportChoices:
        checked = tuple(n for n, box in self.layer_checks.items() if box.isChecked())
        all_layers = len(checked) == len(self.layer_checks)
        return ch.ExportChoices(
            kind=self.kind.currentData(),
            models=self.models.currentData() or "both",
            layers=None if all_layers else checked,
            channels=self.channels.text(),
            angles=self.angles.text(),
            quarter_turns=self.quarter_turns.isChecked(),
            stabilised=self.stabilised.isChecked(),
            fmt=self.format.currentData(),
            dpi=self.dpi.value(),
            frames=self.frames.value(),
            fps=self.fps.value(),
            path=self.path.text(),
        )

    def _default_path(self) -> None:
        """A file name that follows the options until the user names the file."""
        if self._path_edited or self.base is None:
            return
        c = self.choices()
        try:
            names = ch.model_names(self.base, c.models)
        except ExportError:
            return
        try:  # the angles the file will show (typed, with quarter turns), else the current one
            angles = ch.plan(c, self.base, check_path=False).spec.angles
        except ExportError:
            angles = (float(self.base.angles[0]),)
        name = ch.default_filename(c.kind, names, c.fmt, c.layers, angles)
        self.path.setText(str(self.exporter.folder() / name))

    # -- option changes -----------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        if ch.export_kind(kind).shows_turn and self.angles.isEnabled():
            current = float(self.base.angles[0]) if self.base is not None else 0.0
            with QtCore.QSignalBlocker(self.angles):
                self.angles.setText(ch.angles_text(ch.default_angles(kind, current)))
        # a new kind starts at its own default format (an animation's PNG would be an APNG),
        # except between kinds of the same formats (the two figures)
        same = ch.formats(kind) == ch.formats(self._kind)
        if self.dpi.value() == ch.default_dpi(self._kind):  # not chosen: the new kind's
            with QtCore.QSignalBlocker(self.dpi):
                self.dpi.setValue(ch.default_dpi(kind))
        self._kind = kind
        self._fill_formats(None if same else ch.formats(kind)[0])
        self._show_kind_options()
        self._format_changed()

    def _format_changed(self) -> None:
        fmt = self.format.currentData()
        if self._path_edited and fmt:
            self.path.setText(ch.with_suffix(self.path.text(), fmt))
        self._default_path()
        self._changed()

    def _models_changed(self) -> None:
        chosen = self.choices().layers
        self._fill_layers(chosen)
        self._default_path()
        self._changed()

    def _path_typed(self) -> None:
        self._path_edited = True

    def _changed(self) -> None:
        """Check the options at once (one line when they cannot be exported) and preview
        them once the user pauses."""
        if self.base is None:
            return
        self._default_path()
        try:
            ch.plan(self.choices(), self.base, check_path=False)
        except ExportError as exc:
            self._say(first_line(exc), error=True)
            self.preview_timer.stop()
            self.preview_note.setText("")
            return
        if not self.exporter.runner.busy("export"):
            self._say("")
        self.preview_note.setText("updating…")
        self.preview_timer.start()

    def _browse(self) -> None:
        fmt = self.format.currentData()
        name = ch.FORMAT_NAMES.get(fmt, fmt.upper())
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), f"{name} (*.{fmt});;All files (*)"
        )
        if path:
            self._path_edited = True
            self.path.setText(ch.with_suffix(path, fmt) if not Path(path).suffix else path)

    # -- preview ------------------------------------------------------------------------------
    def _request_preview(self) -> None:
        try:
            job = ch.plan(self.choices(), self.base, check_path=False)
        except ExportError as exc:
            self._say(first_line(exc), error=True)
            return
        handle = self.exporter.runner.submit("preview", lambda _progress, _cancelled: job.preview())
        handle.finished.connect(self._show_preview)
        handle.failed.connect(self._preview_failed)
        self._preview_job = handle

    def _show_preview(self, image: np.ndarray) -> None:
        h, w, _ = image.shape
        data = np.ascontiguousarray(image)
        qimage = QtGui.QImage(data.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()
        pixmap = QtGui.QPixmap.fromImage(qimage).scaled(
            self.preview.size() - QtCore.QSize(4, 4),
            QtCore.Qt.AspectRatioMode.KeepAspectRatio,
            QtCore.Qt.TransformationMode.SmoothTransformation,
        )
        self.preview.setPixmap(pixmap)
        self.preview_note.setText("")

    # -- export -------------------------------------------------------------------------------
    def _export(self) -> None:
        if self.exporter.runner.busy("export"):
            return
        try:
            job = ch.plan(self.choices(), self.base)
        except ExportError as exc:
            self._say(first_line(exc), error=True)
            return
        self.job = job
        self.progress.setRange(0, 0)  # busy until the first progress report
        self._set_running(True)
        self._say(f"Exporting to {job.path.name}…")
        handle = self.exporter.runner.submit("export", job.run)
        handle.progressed.connect(self._export_progressed)
        handle.finished.connect(self._exported)
        handle.failed.connect(self._export_failed)
        handle.cancelled.connect(self._export_cancelled)
        self._export_job = handle

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.export_button.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        for widget in (*self._inputs(), self.layer_box, self.path, self.browse):
            widget.setEnabled(not running)
        if not running:
            self._show_kind_options()

    def _cancel_or_close(self) -> None:
        if self.exporter.runner.busy("export"):
            self.exporter.runner.cancel("export")
            self._say("Cancelling…")
        else:
            self.reject()

    def reject(self) -> None:
        self.exporter.runner.cancel("export")  # closing the dialog stops its export
        self.exporter.runner.cancel("preview")
        self.preview_timer.stop()
        super().reject()

    def _preview_failed(self, text: str) -> None:
        self.preview_note.setText("no preview")
        self._say(text, error=True)

    def _export_progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        if self.job is not None and ch.export_kind(self.job.kind).animated:
            self.progress.setFormat("%v / %m frames")
        else:
            self.progress.setFormat("%p%")

    def _exported(self, path: object) -> None:
        self._set_running(False)
        self.exporter.exported(Path(path))
        self.accept()

    def _export_failed(self, text: str) -> None:
        self._set_running(False)
        self._say(text, error=True)
        self.exporter.failed(text)

    def _export_cancelled(self) -> None:
        self._set_running(False)
        self._say("Export cancelled; nothing was written.")

    def _say(self, text: str, error: bool = False) -> None:
        """``text``: one line (errors arrive as ``first_line(exc)``, from here or the runner)."""
        self.message.setText(text)
        self.message.setToolTip(text if error else "")
        self.message.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)


class Exporter(QtCore.QObject):
    """The window's export part: ``window.exporter``. Opens the dialog (one, made on first
    use) preset from the menu, a layer's context menu or the sweep plot's; owns the thread.

    ``state``: what is on screen; ``settings``: where the last export folder is kept (None:
    not kept); ``window``: the dialogs' parent and the status bar the outcome is said in."""

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        state: ViewerState,
        settings: QtCore.QSettings | None,
    ) -> None:
        super().__init__(window)
        self.window, self.state, self.settings = window, state, settings
        self.runner = ExportRunner(self)
        self.dialog: ExportDialog | None = None
        self._last = None  # the options of the last export, offered again (ExportChoices)
        self.last_path: Path | None = None

    @property
    def last(self) -> ch.ExportChoices:
        if self._last is None:
            load_export()
            self._last = ch.ExportChoices()
        return self._last

    @last.setter
    def last(self, choices: ch.ExportChoices) -> None:
        self._last = choices

    def view_spec(self) -> ViewSpec:
        """What is on screen, as plain data for an export: both panels' models, the current
        input (the drawing's snapshot, so preprocessing is the app's) and where it came from,
        the angle, the stabilised view; every layer and channel (the app shows them all).
        The same model in both panels, or two models with one name (a P4CNN trained in the
        app beside the shipped one): the right one's data is named ``…-2``."""
        load_export()
        state = self.state
        models = unique_names(  # each model drawn in its panel's colour, as on screen
            [
                dataclasses.replace(ExportModel.from_entry(state.panel_entry(i)), panel=i)
                for i in range(2)
            ]
        )
        source = source_text(state.drawing) or "empty canvas"
        return ViewSpec(
            models,
            ExportInput(state.snapshot(), source),
            angles=(state.angle,),
            stabilised=state.stabilised,
            extra={"tracked_class": state.tracked_class},
        )

    def folder(self) -> Path:
        saved = None
        if self.settings is not None:
            saved = stored(self.settings, LAST_FOLDER, is_text, "export folder")
        folder = Path(saved) if saved else Path.home()
        return folder if folder.is_dir() else Path.home()

    def open_dialog(
        self,
        kind: str | None = None,
        *,
        panel: int | None = None,
        layer: str | None = None,
        models: str | None = None,
        channels: str = "",
    ) -> ExportDialog:
        """File ▸ Export…; ``kind``/``panel``/``layer``/``models``/``channels`` preset the
        dialog (context menus, the Group view tab)."""
        if self.dialog is not None and self.runner.busy("export"):
            # one export at a time: show the one running (or stopping: the dialog was
            # closed meanwhile, and a hidden dialog does not come up by raise_ alone)
            self.dialog.show()
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        load_export()
        try:
            base = self.view_spec()
        except ExportError as exc:
            show_error(self.window, "Cannot export", str(exc))
            return self.dialog
        preset = self.last.replace(channels=channels, angles="", path="", layers=None)
        preset.stabilised = bool(base.stabilised)
        if kind is not None:
            if preset.dpi == ch.default_dpi(preset.kind):
                preset.dpi = ch.default_dpi(kind)
            preset.kind = kind
            preset.fmt = ch.formats(kind)[0]
        if models is not None:
            preset.models = models
        if panel is not None:
            preset.models = ("left", "right")[panel] if len(base.models) > 1 else "both"
        if layer is not None:
            preset.layers = (layer,)
        if preset.fmt not in ch.formats(preset.kind):
            preset.fmt = ch.formats(preset.kind)[0]
        if self.dialog is None:
            self.dialog = ExportDialog(self, self.window)
        self.dialog.present(base, preset, [m.title for m in base.models])
        return self.dialog

    def open_layer(self, panel: int, layer: str) -> ExportDialog:
        """A layer's context menu: *Export this layer…* (that model, that layer)."""
        return self.open_dialog("figure", panel=panel, layer=layer)

    def open_group_view(self, panel: int, layer: str, channel: int) -> ExportDialog:
        """The Group view tab's Export…: that channel of that layer, as a figure."""
        return self.open_dialog("group-view", panel=panel, layer=layer, channels=str(int(channel)))

    def open_sweep(self) -> ExportDialog:
        """The sweep plot's context menu: *Export plot…*: the plot as shown, both models
        (not the model of an earlier layer export)."""
        return self.open_dialog("sweep", models="both")

    def exported(self, path: Path) -> None:
        self.last_path = path
        if self.dialog is not None:
            self.last = self.dialog.choices()
        if self.settings is not None:
            self.settings.setValue(LAST_FOLDER, str(path.parent))
        self.window.statusBar().showMessage(f"Exported {path}", 10000)

    def failed(self, text: str) -> None:
        """``text``: one line. The open dialog already shows it in red; a message box only
        when the dialog was closed meanwhile (else the user would not see it)."""
        self.window.statusBar().showMessage(f"Export failed: {text}", 10000)
        if self.dialog is None or not self.dialog.isVisible():
            show_error(self.window, "Export failed", text)

    def shutdown(self) -> None:
        """Stop the export thread (the window's shutdown calls this)."""
        self.runner.stop()

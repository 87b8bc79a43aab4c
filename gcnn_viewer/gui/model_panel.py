"""One model's panel: model selector, class-probability bars, every layer's feature maps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.data.digits import MNIST_SIZE
from gcnn_viewer.gui.feature_view import FeatureMapView
from gcnn_viewer.gui.style import (
    UNTRAINED_COLOUR,
    cache_plot,
    configure_pyqtgraph,
    small_font,
    still_plot,
)
from gcnn_viewer.gui.widgets import ElidedLabel
from gcnn_viewer.viewer.inference import PanelFrame, drawn_size
from gcnn_viewer.viewer.models import ModelCatalog, ModelEntry

OPEN_ITEM = "__open__"
N_CLASSES = 10  # the digits; your own model may return another number of logits
BARS_HEIGHT = 76  # the probability bars: enough to read, the rest for the maps
# one line in a panel at 1600 px (the maps need the height); hovering is in the status bar
HINT_GROUP = "Rows: channels. Columns: the same filter turned by {labels} (orientation channels)."
HINT_PLANAR = (
    "No orientation axis: each layer is a grid of its {channels} channels "
    "(row label + column label = channel)."
)
HINT_POOLED = (
    "Each layer filters with its {channels} filters turned by {labels} and keeps, per "
    "channel, the largest of those responses (rotation pooling): the maps are planar, a "
    "grid of {channels} channels (row label + column label = channel), with no orientation "
    "columns. Hover a map to enlarge it."
)
SHORT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # a selector entry's text when closed


def short_label(entry: ModelEntry) -> str:
    """What the closed selector shows: the model's name, and what is unusual about its
    weights (the line under it says the rest): "Z2CNN", "P4MCNN, untrained" (in red)."""
    if entry.source == "shipped" or getattr(entry, "is_user_model", False):
        return entry.title  # (your own model: its name; the line under it says the spec)
    if entry.source == "untrained":
        return f"{entry.title}, untrained"
    return f"{entry.title} — {entry.source}"


def panel_hint(probe) -> str:
    """The caption over a model's maps: what its rows and columns are."""
    first = probe.layouts[probe.layers[0]]
    grouped = [layout.group for layout in probe.layouts.values() if layout.is_group]
    if grouped:  # each layer has its own group (its record's): the first one's labels
        labels = ", ".join(grouped[0].label(g) for g in grouped[0].elements)
        return HINT_GROUP.format(labels=labels)
    if probe.group is not None:  # a group model whose maps are pooled over orientations
        labels = ", ".join(probe.group.label(g) for g in probe.group.elements)
        return HINT_POOLED.format(channels=first.channels, labels=labels)
    return HINT_PLANAR.format(channels=first.channels)


def input_note(model) -> str:
    """A model that takes another input than the 28×28 one beside the canvas: its own size,
    and how the digit gets there (drawn into the field the MNIST way, or padded)."""
    size = getattr(model, "input_size", MNIST_SIZE)
    if not isinstance(size, int) or size == MNIST_SIZE:
        return ""
    how = (
        "the digit drawn into that field the MNIST way"
        if drawn_size(model) == size
        else "the 28×28 digit padded or cropped about its centre"
    )
    return f" Input {size}×{size}: {how}."


def skipped_note(model) -> str:
    """Your own model's layers that are not shown, each with why (its output is no map)."""
    skipped = getattr(model, "skipped", None) or {}
    if not skipped:
        return ""
    return " Not shown: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()) + "."


class ModelSelector(QtWidgets.QComboBox):
    """A combo box whose closed face shows each entry's short text (:data:`SHORT_ROLE`):
    "Z2CNN" reads at any width, where "Z2CNN — trained (plain CNN)" was cut to
    "Z2CNN — traine". The open list shows the full labels."""

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802
        painter = QtWidgets.QStylePainter(self)
        option = QtWidgets.QStyleOptionComboBox()
        self.initStyleOption(option)
        short = self.currentData(SHORT_ROLE)
        if short:
            option.currentText = self.fontMetrics().elidedText(
                short, QtCore.Qt.TextElideMode.ElideRight, self.text_width()
            )
        colour = self.currentData(QtCore.Qt.ItemDataRole.ForegroundRole)
        if isinstance(colour, QtGui.QColor):  # an untrained model: in red when closed too
            option.palette.setColor(QtGui.QPalette.ColorRole.ButtonText, colour)
        painter.drawComplexControl(QtWidgets.QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QtWidgets.QStyle.ControlElement.CE_ComboBoxLabel, option)

    def text_width(self) -> int:
        option = QtWidgets.QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QtWidgets.QStyle.ComplexControl.CC_ComboBox,
            option,
            QtWidgets.QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        return field.width()

    def shown_text(self) -> str:
        """The text on the closed box, as painted."""
        short = self.currentData(SHORT_ROLE) or self.currentText()
        return self.fontMetrics().elidedText(
            short, QtCore.Qt.TextElideMode.ElideRight, self.text_width()
        )

    def showPopup(self) -> None:  # noqa: N802
        # the list as wide as its longest label, not the (narrow) box
        widest = max(
            (self.fontMetrics().horizontalAdvance(self.itemText(i)) for i in range(self.count())),
            default=0,
        )
        self.view().setMinimumWidth(widest + 40)
        super().showPopup()


def probability_table(
    probabilities: np.ndarray, logits: np.ndarray | None, blank: bool = False
) -> str:
    """Every class's probability in full float32 precision and its logit, as a tooltip:
    enough digits to check that two angles give *identical* outputs, not just close ones."""
    head = "<b>class · probability · logit</b>"
    if blank:
        head = "<i>No ink: these outputs are for an empty input.</i><br>" + head
    rows = []
    top = int(np.argmax(probabilities))
    for c in range(len(probabilities)):
        logit = f"{float(logits[c]):+.9g}" if logits is not None else "—"
        row = f"{c} · {float(probabilities[c]):.9g} · {logit}"
        rows.append(f"<b>{row}</b>" if c == top and not blank else row)
    return f"<span style='font-family:monospace'>{head}<br>{'<br>'.join(rows)}</span>"


class ProbabilityBars(pg.PlotWidget):
    """Softmax probabilities of the classes (10 digits; your own model may have another
    number: the bars follow it); the top class in the panel's colour."""

    def __init__(self, colour: str, parent: QtWidgets.QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.colour = colour
        self.setObjectName("probabilityBars")
        self.setFixedHeight(BARS_HEIGHT)
        # a picture with nothing to do from the keyboard: no Tab stop (it showed no focus)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        still_plot(self)
        self.setYRange(0, 1.08, padding=0)
        font = small_font(-1.5)
        bottom = self.getAxis("bottom")
        bottom.setStyle(tickFont=font, tickLength=0)
        left = self.getAxis("left")
        left.setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        left.setStyle(tickFont=font, tickLength=-3)
        left.setWidth(22)
        self.showGrid(y=True, alpha=0.25)
        self.setAntialiasing(False)
        cache_plot(self.getPlotItem())
        # ten plain rectangles (painted by Qt, no Python per paint), not a BarGraphItem
        self._top_brush = QtGui.QBrush(QtGui.QColor(colour))
        self._other_brush = QtGui.QBrush(QtGui.QColor("#b8b8b8"))
        self.rects: list[QtWidgets.QGraphicsRectItem] = []
        self.probabilities = np.zeros(N_CLASSES, np.float32)
        self.logits: np.ndarray | None = None
        self.blank = False
        self.empty_text = pg.TextItem("no ink: no prediction", color="#8a8a8a", anchor=(0.5, 0.5))
        self.empty_text.setVisible(False)
        self.addItem(self.empty_text)
        self.set_classes(N_CLASSES)

    def set_classes(self, count: int) -> None:
        """One bar per class: the axis, its labels (every class up to 20, else every tenth
        of them) and the bars themselves, when the number of classes changes."""
        if count == len(self.rects):
            return
        for rect in self.rects:
            self.removeItem(rect)
        self.rects = []
        for i in range(count):
            rect = QtWidgets.QGraphicsRectItem(i - 0.36, 0, 0.72, 0)
            rect.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            rect.setBrush(self._other_brush)
            self.addItem(rect)
            self.rects.append(rect)
        step = 1 if count <= 20 else max(1, count // 10)
        self.getAxis("bottom").setTicks([[(i, str(i)) for i in range(0, count, step)]])
        self.setXRange(-0.6, count - 0.4, padding=0)
        self.empty_text.setPos((count - 1) / 2, 0.55)

    def set_probabilities(
        self, probabilities: np.ndarray, logits: np.ndarray | None = None, blank: bool = False
    ) -> None:
        """``blank``: the input holds no ink; the bars are hidden, not shown as confident."""
        self.probabilities, self.logits, self.blank = probabilities, logits, blank
        self.set_classes(len(probabilities))
        top = int(np.argmax(probabilities))
        for i, (rect, p) in enumerate(zip(self.rects, probabilities, strict=True)):
            rect.setRect(i - 0.36, 0.0, 0.72, 0.0 if blank else float(p))
            rect.setBrush(self._top_brush if i == top else self._other_brush)
        if self.empty_text.isVisible() != blank:
            self.empty_text.setVisible(blank)
        self.setToolTip(probability_table(probabilities, logits, blank))

    def clear_bars(self) -> None:
        for i, rect in enumerate(self.rects):
            rect.setRect(i - 0.36, 0.0, 0.72, 0.0)


class ModelPanel(QtWidgets.QWidget):
    """``modelChosen(key)`` when the user picks a model, ``openRequested()`` for a file."""

    modelChosen = QtCore.Signal(str)
    openRequested = QtCore.Signal()

    def __init__(
        self,
        index: int,
        catalog: ModelCatalog,
        colour: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.index, self.catalog, self.colour = index, catalog, colour
        self.setObjectName(f"modelPanel{index}")
        self.entry: ModelEntry | None = None

        swatch = QtWidgets.QLabel()
        swatch.setFixedSize(14, 14)
        swatch.setStyleSheet(f"background:{colour}; border-radius:3px;")
        swatch.setToolTip("This model's colour in the probability-vs-angle plot")
        self.selector = ModelSelector()
        self.selector.setObjectName("modelSelector")
        self.selector.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.selector.setMinimumContentsLength(8)
        self.selector.setToolTip(
            "Choose the model shown in this panel, or open one (a checkpoint or a .py file)"
        )
        self.selector.activated.connect(self._activated)
        self.prediction = QtWidgets.QLabel("")
        self.prediction.setObjectName("prediction")
        self.prediction.setFont(small_font(+1, bold=True))
        self.prediction.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        # a fixed size: its text changes every frame and must not relayout the window
        metrics = QtGui.QFontMetrics(self.prediction.font())
        self.prediction.setFixedSize(
            metrics.horizontalAdvance("predicts 0 · 100.0%") + 8, metrics.height() + 4
        )
        self.prediction.setStyleSheet(f"color:{colour}")
        header = QtWidgets.QHBoxLayout()
        header.addWidget(swatch)
        header.addWidget(self.selector, 1)
        header.addWidget(self.prediction)

        # one line, elided at the panel's width (the whole text in its tooltip): a wrapped
        # label beside the prediction overlapped it in narrow panels
        self.detail = ElidedLabel()
        self.detail.setObjectName("modelDetail")
        self.detail.setFont(small_font(-1))
        self.bars = ProbabilityBars(colour)
        self.hint = QtWidgets.QLabel("")
        self.hint.setObjectName("mapHint")
        self.hint.setWordWrap(True)
        self.hint.setFont(small_font(-1))
        self.hint.setStyleSheet("color:#555555")
        self.maps = FeatureMapView()
        self.stale_label = QtWidgets.QLabel("")
        self.stale_label.setObjectName("staleNote")
        self.stale_label.setWordWrap(True)
        self.stale_label.setFont(small_font(-1, bold=True))
        self.stale_label.setStyleSheet("color:#b3261e")
        self.stale_label.setVisible(False)
        self._stale_reason = ""

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(header)
        layout.addWidget(self.detail)
        layout.addWidget(self.bars)
        layout.addWidget(self.hint)
        layout.addWidget(self.stale_label)
        layout.addWidget(self.maps, 1)
        self.refresh_selector()

    def set_focus_mode(self, on: bool) -> None:
        """Focus mode: the maps take the room of the detail line, the caption and the bars
        (the prediction stays in the header, the bars' numbers in its tooltip)."""
        for widget in (self.detail, self.hint, self.bars):
            widget.setVisible(not on)

    # -- selector ---------------------------------------------------------------------------
    def refresh_selector(self) -> None:
        current = self.entry.key if self.entry is not None else None
        with QtCore.QSignalBlocker(self.selector):
            self.selector.clear()
            for entry in self.catalog:
                self.selector.addItem(entry.label, entry.key)
                self.selector.setItemData(self.selector.count() - 1, short_label(entry), SHORT_ROLE)
                if not entry.trained:
                    i = self.selector.count() - 1
                    self.selector.setItemData(
                        i, QtGui.QColor(UNTRAINED_COLOUR), QtCore.Qt.ItemDataRole.ForegroundRole
                    )
                    self.selector.setItemData(
                        i,
                        "No trained weights are shipped for this model: random weights.",
                        QtCore.Qt.ItemDataRole.ToolTipRole,
                    )
            self.selector.insertSeparator(self.selector.count())
            self.selector.addItem("Open model…", OPEN_ITEM)
            if current is not None:
                self.selector.setCurrentIndex(max(0, self.selector.findData(current)))

    def _activated(self, i: int) -> None:
        key = self.selector.itemData(i)
        if key == OPEN_ITEM:
            # go back to the model shown until a checkpoint is actually opened
            self.refresh_selector()
            self.openRequested.emit()
        elif key is not None and (self.entry is None or key != self.entry.key):
            self.modelChosen.emit(key)

    # -- content ----------------------------------------------------------------------------
    def set_entry(self, entry: ModelEntry) -> None:
        """Show ``entry`` (loaded, probed): rebuilds the layer plots for its architecture."""
        self.entry = entry
        self.refresh_selector()
        probe = entry.probe()
        self.update_detail(entry)
        self.hint.setText(panel_hint(probe) + input_note(entry.model) + skipped_note(entry.model))
        self.maps.set_probe(probe)
        self.prediction.setText("")

    def update_detail(self, entry: ModelEntry) -> None:
        """The line under the selector; set only when it changed (a new text relayouts)."""
        params = f"{entry.parameters:,} parameters"
        if entry.trained:
            style = "color:#404040"
            text = f"{entry.kind} · {params} · {entry.detail}"
        else:
            style = f"color:{UNTRAINED_COLOUR}"
            reason = f" (shipped file unusable: {entry.error})" if entry.error else ""
            text = f"{entry.kind} · {params} · {entry.detail}{reason}"
        if self.detail.styleSheet() != style:
            self.detail.setStyleSheet(style)
        if self.detail.text() != text:
            self.detail.setText(text)
            self.detail.setToolTip(text)

    def show_frame(self, frame: PanelFrame, blank: bool = False) -> None:
        """Show a frame; ``blank``: the input holds no digit, so no prediction is claimed."""
        self.bars.set_probabilities(frame.probabilities, frame.logits, blank)
        top = frame.prediction
        if blank:
            self.prediction.setText("no digit drawn")
        else:
            self.prediction.setText(f"predicts {top} · {100 * frame.probabilities[top]:.1f}%")
        self.prediction.setToolTip(self.bars.toolTip())
        self.maps.show_frame(frame)

    @property
    def stale(self) -> bool:
        return bool(self._stale_reason)

    def set_stale(self, reason: str) -> None:
        """``reason``: the maps and bars on screen are not for the current input (the last
        frame failed): grey them out and say why; "" when a frame succeeded again."""
        if self._stale_reason == reason:
            return
        self._stale_reason = reason
        self.stale_label.setText(
            f"⚠ Stale: {reason}. The maps shown are for an earlier input." if reason else ""
        )
        self.stale_label.setVisible(bool(reason))
        self.maps.set_stale(bool(reason))
        if reason:
            self.bars.clear_bars()
            self.prediction.setText("no result")

"""The central area: the two model panels, focus mode and the maps' place when an analysis
view is in front.

**Focus mode** (View ▸ Focus on one layer, F, or a double click on a layer) shows one layer
of both models as large as the window allows, with its whole header and colour bar; ``,`` /
``.`` step through the layers, the bar over the panels chooses the layer and a range of its
channels, and F goes back to the overview of every layer.

**Analysis in front.** In a short window (:func:`~gcnn_viewer.viewer.dock_sizes.
analysis_swaps`) an analysis tab brought forward takes the maps' place instead of squeezing
them into slivers: the panels give way to one line saying how to get them back (M, or the
*Probability vs angle* tab).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from gcnn_viewer.gui.style import small_font
from gcnn_viewer.gui.widgets import ElidedLabel
from gcnn_viewer.viewer.dock_sizes import analysis_swaps
from gcnn_viewer.viewer.layout import channel_range

if TYPE_CHECKING:
    from gcnn_viewer.gui.docks import Docks
    from gcnn_viewer.gui.model_panel import ModelPanel

FOCUS_KEYS = "F: every layer · , / . : previous / next layer"


class MapsArea(QtWidgets.QWidget):
    """The window's central widget: the focus bar, the note shown while an analysis view
    has the maps' place, and the splitter with the two panels."""

    def __init__(self, splitter: QtWidgets.QSplitter, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("mapsArea")
        self.splitter = splitter
        self.bar = FocusBar()
        self.bar.setVisible(False)
        self.swapped_note = QtWidgets.QPushButton(
            "The feature maps are behind the analysis view: press M, or click here, "
            "to bring them back"
        )
        self.swapped_note.setObjectName("mapsBehindNote")
        self.swapped_note.setFlat(True)
        self.swapped_note.setFont(small_font(-1))
        self.swapped_note.setVisible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.swapped_note)
        layout.addWidget(splitter, 1)

    @property
    def swapped(self) -> bool:
        """An analysis view has the maps' place."""
        return self.swapped_note.isVisibleTo(self)

    def set_swapped(self, on: bool) -> None:
        self.splitter.setVisible(not on)
        self.bar.setVisible(not on and self.bar.active)
        self.swapped_note.setVisible(on)


class FocusBar(QtWidgets.QWidget):
    """Which layer focus mode shows, and which of its channels; ◀ ▶ step through layers."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("focusBar")
        self.active = False
        self.previous = QtWidgets.QToolButton()
        self.previous.setText("◀")
        self.previous.setObjectName("previousLayer")
        self.previous.setToolTip("Previous layer  [,]")
        self.next = QtWidgets.QToolButton()
        self.next.setText("▶")
        self.next.setObjectName("nextLayer")
        self.next.setToolTip("Next layer  [.]")
        self.layer = QtWidgets.QComboBox()
        self.layer.setObjectName("focusLayer")
        self.layer.setToolTip("The layer shown large in both panels")
        self.first = QtWidgets.QSpinBox()
        self.first.setObjectName("focusFirstChannel")
        self.first.setToolTip("First channel shown")
        self.last = QtWidgets.QSpinBox()
        self.last.setObjectName("focusLastChannel")
        self.last.setToolTip("Last channel shown (fewer channels: larger maps)")
        for box in (self.first, self.last):
            box.setKeyboardTracking(False)
        self.overview = QtWidgets.QPushButton("Every layer (F)")
        self.overview.setObjectName("focusOverview")
        self.overview.setToolTip("Back to the overview of every layer  [F]")
        keys = ElidedLabel(FOCUS_KEYS)  # never widens the window
        keys.setToolTip(FOCUS_KEYS)
        keys.setFont(small_font(-1.5))
        keys.setStyleSheet("color:#606060")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        row.addWidget(QtWidgets.QLabel("Layer"))
        row.addWidget(self.previous)
        row.addWidget(self.layer)
        row.addWidget(self.next)
        row.addSpacing(8)
        row.addWidget(QtWidgets.QLabel("channels"))
        row.addWidget(self.first)
        row.addWidget(QtWidgets.QLabel("–"))
        row.addWidget(self.last)
        row.addSpacing(8)
        row.addWidget(self.overview)
        row.addWidget(keys, 1)


class Focus(QtCore.QObject):
    """Focus mode over ``panels``, with the bar of ``maps_area``; in a short ``window`` it
    puts the bottom docks (of ``docks``) away while it is on. ``changed()`` after it turned
    on or off or showed another layer."""

    changed = QtCore.Signal()

    def __init__(
        self,
        window: QtWidgets.QMainWindow,
        panels: Sequence[ModelPanel],
        maps_area: MapsArea,
        docks: Docks,
    ) -> None:
        super().__init__(window)
        self.window, self.panels, self.maps_area, self.docks = window, panels, maps_area, docks
        self.layer: str | None = None  # the focused layer, None: the overview
        self.channels: tuple[int, int] | None = None  # (first, last); None: all
        self.hidden_docks: list[QtWidgets.QDockWidget] = []  # the bottom docks it put away
        self.bar: FocusBar = maps_area.bar
        bar = self.bar
        bar.previous.clicked.connect(lambda: self.step(-1))
        bar.next.clicked.connect(lambda: self.step(+1))
        bar.overview.clicked.connect(lambda: self.set_layer(None))
        bar.layer.activated.connect(lambda i: self.set_layer(bar.layer.itemText(i)))
        bar.first.valueChanged.connect(lambda _v: self._channels_edited(bar.first))
        bar.last.valueChanged.connect(lambda _v: self._channels_edited(bar.last))
        for panel in panels:
            panel.maps.layerActivated.connect(self.set_layer)

    @property
    def active(self) -> bool:
        return self.layer is not None

    def layers(self) -> list[str]:
        """Every layer of the panels' models, in order (each name once)."""
        names: list[str] = []
        for panel in self.panels:
            for name in panel.maps.layers:
                if name not in names:
                    names.append(name)
        return names

    def channel_count(self, layer: str) -> int:
        panels = [p.maps for p in self.panels if layer in p.maps.layers]
        counts = [maps.layers[layer].layout.channels for maps in panels]
        return max(counts, default=1)

    # -- commands ---------------------------------------------------------------------------
    def toggle(self, on: bool | None = None) -> None:
        """Focus mode on (the layer last focused, else the first) or off."""
        on = not self.active if on is None else on
        if not on:
            self.set_layer(None)
        elif not self.active:
            names = self.layers()
            self.set_layer(self._last if self._last in names else (names[0] if names else None))

    _last: str | None = None

    def step(self, delta: int) -> None:
        """The previous / next layer (focus mode turns on if it was off)."""
        names = self.layers()
        if not names:
            return
        if self.layer not in names:
            self.set_layer(names[0] if delta > 0 else names[-1])
        else:
            self.set_layer(names[(names.index(self.layer) + delta) % len(names)])

    def set_layer(self, layer: str | None) -> None:
        if layer is not None and layer not in self.layers():
            layer = None
        if layer != self.layer:
            self.channels = None  # another layer: all its channels
        self.layer = layer
        if layer is not None:
            self._last = layer
        self.apply()

    def set_channels(self, first: int, last: int) -> None:
        if self.layer is None:
            return
        count = self.channel_count(self.layer)
        ids = channel_range(first, last, count)
        self.channels = None if len(ids) == count else (ids[0], ids[-1])
        self.apply()

    def _channels_edited(self, box: QtWidgets.QSpinBox) -> None:
        first, last = self.bar.first.value(), self.bar.last.value()
        if first > last:  # the other end follows the one edited
            first, last = (first, first) if box is self.bar.first else (last, last)
        self.set_channels(first, last)

    # -- carrying it out --------------------------------------------------------------------
    def apply(self) -> None:
        """Show the focused layer (or every layer) in both panels and the bar in step."""
        layer = self.layer
        ids = None
        if layer is not None and self.channels is not None:
            ids = tuple(range(self.channels[0], self.channels[1] + 1))
        self._bottom_docks(layer is not None)
        for panel in self.panels:
            panel.set_focus_mode(layer is not None)
            panel.maps.set_focus(layer, ids)
        bar = self.bar
        bar.active = layer is not None
        bar.setVisible(bar.active and not self.maps_area.swapped)
        if layer is not None:
            names = self.layers()
            count = self.channel_count(layer)
            first, last = self.channels if self.channels is not None else (0, count - 1)
            for widget, call in (
                (bar.layer, lambda: (bar.layer.clear(), bar.layer.addItems(names))),
                (bar.first, lambda: bar.first.setRange(0, count - 1)),
                (bar.last, lambda: bar.last.setRange(0, count - 1)),
            ):
                with QtCore.QSignalBlocker(widget):
                    call()
            with QtCore.QSignalBlocker(bar.layer):
                bar.layer.setCurrentIndex(names.index(layer))
            for box, value in ((bar.first, first), (bar.last, last)):
                with QtCore.QSignalBlocker(box):
                    box.setValue(value)
        self.changed.emit()

    def _bottom_docks(self, focus: bool) -> None:
        """In a short window focus mode puts the bottom docks (the sweep, analysis tabs)
        away, for the height; they come back as they were when it ends."""
        window = self.window
        if focus and not self.hidden_docks and analysis_swaps(window.height()):
            area = QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
            self.hidden_docks = [
                d
                for d in self.docks.all
                if d.isVisible() and not d.isFloating() and window.dockWidgetArea(d) == area
            ]
            front = [d for d in self.hidden_docks if not d.visibleRegion().isEmpty()]
            self._front = front[0] if front else None
            for dock in self.hidden_docks:
                dock.hide()
        elif not focus and self.hidden_docks:
            docks, self.hidden_docks = self.hidden_docks, []
            for dock in docks:
                dock.show()
            if self._front is not None:
                self._front.raise_()
            QtCore.QTimer.singleShot(0, self.docks.fit)

    _front: QtWidgets.QDockWidget | None = None

    def models_changed(self) -> None:
        """A panel shows another model: keep the focus on the same layer where it has one."""
        if self.layer is not None:
            self.set_layer(self.layer if self.layer in self.layers() else None)

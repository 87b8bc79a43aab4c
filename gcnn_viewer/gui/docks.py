"""The window's docks: making them, their default geometry, keeping their preferred sizes as
the window is resized (:class:`~gcnn_viewer.viewer.dock_sizes.DockSizes` decides), Reset
window layout, and the layout saved in the settings.

A new view (an analysis plot, say) becomes a dock with :meth:`Docks.add`; it then gets a
show / hide entry in the View menu and takes part in Reset window layout.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.stored_settings import is_bytes, stored
from gcnn_viewer.viewer.dock_sizes import DockSizes

SETTINGS_VERSION = 3  # bump when the dock layout changes incompatibly (3: analysis tabs)
Area = QtCore.Qt.DockWidgetArea
FEATURES = (
    QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
)


class Docks(QtCore.QObject):
    """The docks of ``window``. ``column`` docks share the left column (the first visible
    one gets the preferred width); ``bottom`` is the sweep plot (the preferred height)."""

    def __init__(self, window: QtWidgets.QMainWindow, closed: Callable[[], bool]) -> None:
        """``closed()``: the window is shutting down (no layout after that)."""
        super().__init__(window)
        self.window, self.closed = window, closed
        self.sizes = DockSizes()
        self.all: list[QtWidgets.QDockWidget] = []  # in the View menu's order
        self.hidden_by_default: list[QtWidgets.QDockWidget] = []
        self.column: list[QtWidgets.QDockWidget] = []
        self.bottom: QtWidgets.QDockWidget | None = None
        self.fill: QtWidgets.QDockWidget | None = None  # a dock in the maps' place (analysis)
        self.restored = False  # the dock layout came from the settings
        self.laid_out = False  # shown and its docks sized once: user drags count from now
        self._fitting = False  # fit() is resizing docks (not the user)
        self._default_state = QtCore.QByteArray()
        window.installEventFilter(self)  # shown: the first layout; resized: fit the docks

    def _window_event(self, event: QtCore.QEvent) -> None:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Show and not self.laid_out:
            # Qt lays the docks out when the window is first shown: size them after that
            QtCore.QTimer.singleShot(0, lambda: None if self.closed() else self.first_layout())
        elif kind == QtCore.QEvent.Type.Resize:
            old, new = event.oldSize(), event.size()
            if old.isValid() and old != new:
                self.fit()

    def add(
        self,
        title: str,
        name: str,
        widget: QtWidgets.QWidget,
        area: Area = Area.LeftDockWidgetArea,
        *,
        tab_with: QtWidgets.QDockWidget | None = None,
        hidden: bool = False,
        sizing: str = "",
    ) -> QtWidgets.QDockWidget:
        """A dock holding ``widget`` in ``area`` (a tab beside ``tab_with``); ``hidden``:
        shown from the View menu only. ``sizing``: "column" (the left column's width) or
        "bottom" (the sweep's height) for the docks whose size the window keeps."""
        dock = QtWidgets.QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(FEATURES)
        self.window.addDockWidget(area, dock)
        if tab_with is not None:
            self.window.tabifyDockWidget(tab_with, dock)
        if hidden:
            dock.hide()
            self.hidden_by_default.append(dock)
        if sizing == "column":
            self.column.append(dock)
        elif sizing == "bottom":
            self.bottom = dock
        if sizing:
            dock.installEventFilter(self)
        self.all.append(dock)
        return dock

    def fill_view_menu(self, menu: QtWidgets.QMenu) -> None:
        for dock in self.all:
            menu.addAction(dock.toggleViewAction())

    # -- sizes ------------------------------------------------------------------------------
    def fit(self) -> None:
        """Give the Input column and the sweep their preferred sizes, as far as the window
        allows."""
        if self._fitting:
            return
        self._fitting = True
        window = self.window
        try:
            size = (window.width(), window.height())
            minimum = self.column[0].minimumSizeHint().width() if self.column else 0
            width, height = self.sizes.fit(size, minimum)
            left = [d for d in self.column if d.isVisible()]
            if left and not left[0].isFloating():
                window.resizeDocks(left[:1], [width], QtCore.Qt.Orientation.Horizontal)
            bottom = self.bottom
            fill = self.fill
            if fill is not None and fill.isVisible() and not fill.isFloating():
                window.resizeDocks([fill], [window.height()], QtCore.Qt.Orientation.Vertical)
            elif bottom is not None and bottom.isVisible() and not bottom.isFloating():
                window.resizeDocks([bottom], [height], QtCore.Qt.Orientation.Vertical)
        finally:
            self._fitting = False
        self.sizes.fitted((window.width(), window.height()), time.monotonic())

    def first_layout(self) -> None:
        """Once shown: size the docks (a first launch), or take the sizes the user left them
        at as the preferred ones (a restored layout)."""
        if self.restored:
            left = next((d for d in reversed(self.column) if d.isVisible()), None)
            bottom = self.bottom
            self.sizes.restored(
                left.width() if left is not None else self.sizes.input_width,
                bottom.height() if bottom is not None and bottom.isVisible() else None,
            )
        self.fit()  # a restored sweep squeezed too short (its legend clipped) grows back
        self.laid_out = True
        self.hide_stale_tab_bars()

    def hide_stale_tab_bars(self) -> None:
        """Hide a dock tab bar that still names a hidden dock. Qt left the "Input | Train"
        bar of the tab group made before the Train dock was hidden on screen, over the
        example buttons (a bar Qt uses names only docks that are shown)."""
        hidden = {d.windowTitle() for d in self.all if d.isHidden()}
        for bar in self.window.findChildren(QtWidgets.QTabBar):
            names = {bar.tabText(i) for i in range(bar.count())}
            if bar.parent() is self.window and bar.isVisible() and names & hidden:
                bar.hide()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if watched is self.window:
            self._window_event(event)
            return False
        # A dock resized while the window keeps its size: the user dragged a separator.
        # Remember the new size as the preferred one (fit keeps to it).
        if (
            event.type() == QtCore.QEvent.Type.Resize
            and self.laid_out
            and not self._fitting
            and isinstance(watched, QtWidgets.QDockWidget)
            and watched.isVisible()
            and not watched.isFloating()
            and self.sizes.is_user_drag(
                (self.window.width(), self.window.height()), time.monotonic()
            )
        ):
            if watched in self.column:
                self.sizes.input_width = watched.width()
            elif watched is self.bottom:
                self.sizes.sweep_height = watched.height()
        return super().eventFilter(watched, event)

    # -- layout -----------------------------------------------------------------------------
    def default_geometry(self) -> None:
        screen = QtGui.QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
        width = min(1600, int(avail.width() * 0.95))
        height = min(1000, int(avail.height() * 0.95))
        self.window.resize(width, height)
        self.window.move(avail.center() - QtCore.QPoint(width // 2, height // 2))
        self.sizes.reset()
        self.fit()

    def reset_layout(self) -> None:
        self.window.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in self.all:
            dock.setFloating(False)
            if dock not in self.hidden_by_default:
                dock.show()
        self.sizes.reset()
        self.fit()
        QtCore.QTimer.singleShot(0, self.hide_stale_tab_bars)

    def restore(self, settings: QtCore.QSettings, splitter: QtWidgets.QSplitter) -> None:
        """The window's geometry, dock layout and panel split as saved (the defaults when
        there are none, or they do not fit this Qt's format)."""
        window = self.window
        self._default_state = window.saveState(SETTINGS_VERSION)
        # untrusted: a value that is not Qt's bytes is dropped with one line (stored_settings)
        geometry = stored(settings, "window/geometry", is_bytes, "window geometry")
        if geometry is None or not window.restoreGeometry(geometry):
            self.default_geometry()
        state = stored(settings, "window/state", is_bytes, "window layout")
        if state is not None:
            self.restored = window.restoreState(state, SETTINGS_VERSION)
        split = stored(settings, "window/splitter", is_bytes, "panel split")
        if split is not None:
            splitter.restoreState(split)

    def save(self, settings: QtCore.QSettings, splitter: QtWidgets.QSplitter) -> None:
        settings.setValue("window/geometry", self.window.saveGeometry())
        settings.setValue("window/state", self.window.saveState(SETTINGS_VERSION))
        settings.setValue("window/splitter", splitter.saveState())

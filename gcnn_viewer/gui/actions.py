"""The window's actions and menus, as one table.

Adding a menu entry is adding one :class:`ActionSpec` to its menu's function (its id, text,
handler, shortcuts and tooltip; :func:`file_actions` and the others take what the handlers
need as arguments) and its id to :data:`MENUS` where it should appear, e.g.
``ActionSpec("export", "&Export…", lambda: exporter.open_dialog(), ("Ctrl+E",), "Save the
view as a figure")`` and ``"export"`` after ``"saveModel"`` in File. The window then holds
the QAction in its registry, ``window.actions_by_id["export"]``;
tests/gui/test_every_action_is_exercised.py will ask for a test that reaches it through the
menu or its shortcut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from gcnn_viewer.gui.dialogs import show_about, show_help
from gcnn_viewer.viewer.window_texts import EditState

if TYPE_CHECKING:
    from gcnn_viewer.gui.controls import BrushControls, TestDigitBrowser
    from gcnn_viewer.gui.export_dialog import Exporter
    from gcnn_viewer.gui.files import Files
    from gcnn_viewer.gui.focus import Focus
    from gcnn_viewer.viewer.drawing import Drawing
    from gcnn_viewer.viewer.state import ViewerState

K = QtGui.QKeySequence.StandardKey
SEPARATOR = "-"
EXAMPLES = "<examples>"  # File ▸ Examples: one entry per shipped sample digit
DOCKS = "<docks>"  # View: one show/hide entry per dock, in the order the window made them


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``name`` is its id: its object name, its key in :data:`MENUS` and in the
    window's ``actions_by_id``. ``handler`` gets no argument (``checked`` when
    ``checkable``). Shortcuts are key strings or ``QKeySequence.StandardKey`` s."""

    name: str
    text: str
    handler: Callable[..., object]
    shortcuts: tuple = ()
    tip: str = ""
    checkable: bool = False


MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "&File",
        (
            "openImage",
            "openModel",
            "saveModel",
            "export",
            "-",
            "train",
            EXAMPLES,
            "browseDigits",
            "-",
            "quit",
        ),
    ),
    ("&Edit", ("undo", "redo", "-", "clear")),
    (
        "&View",
        (
            "stabilisedView",
            "-",
            "focusLayer",
            "previousLayer",
            "nextLayer",
            "showMaps",
            "-",
            DOCKS,
            "resetLayout",
        ),
    ),
    (
        "&Rotate",
        ("rotatePlus", "rotateMinus", "rotateZero", "spin", "-", "previousDigit", "nextDigit"),
    ),
    ("&Help", ("help", "shortcuts", "-", "about", "aboutQt")),
)


# Each menu's actions come from a function that names what its handlers need; the window
# composes them (gui/main_window.py) and keeps the QActions in one dict keyed by ``name``.
def file_actions(
    files: Files,
    exporter: Exporter,
    show_training: Callable[[], None],
    show_digits: Callable[[], None],
    quit_window: Callable[[], object],
) -> list[ActionSpec]:
    """File: open and save, export, train, the test-digit browser, quit."""
    return [
        ActionSpec(
            "openImage",
            "Open &image…",
            lambda: files.open_image(),
            (K.Open,),
            "Load a digit from an image file (it is centred and scaled like MNIST)",
        ),
        ActionSpec(
            "openModel",
            "Open &model…",
            lambda: files.open_model(),
            ("Ctrl+Shift+O",),
            "Load a checkpoint, or your own model from a .py file, into the right-hand panel",
        ),
        ActionSpec(
            "saveModel",
            "&Save model…",
            lambda: files.save_model(),
            (K.Save,),
            "Write the right-hand panel's model as a gcnn-viewer checkpoint",
        ),
        ActionSpec(
            "export",
            "&Export…",
            lambda: exporter.open_dialog(),
            ("Ctrl+E",),
            "Save the view as a figure, an animation, the probability plot or the data",
        ),
        ActionSpec(
            "train",
            "&Train a model…",
            show_training,
            ("Ctrl+T",),
            "Train a model from scratch on MNIST-rot, with live curves",
        ),
        ActionSpec(
            "browseDigits",
            "MNIST-rot &test digits…",
            show_digits,
            ("Ctrl+B",),
            "Browse the 50,000 MNIST-rot test digits (PgUp / PgDown step through them)",
        ),
        ActionSpec("quit", "&Quit", quit_window, (K.Quit, "Ctrl+Q")),
    ]


def edit_actions(drawing: Drawing) -> list[ActionSpec]:
    """Edit: undo, redo and clear the drawing (:func:`follow_edits` keeps their texts)."""
    return [
        ActionSpec("undo", "&Undo stroke", drawing.undo, (K.Undo,), "Undo the last stroke or load"),
        ActionSpec("redo", "&Redo", drawing.redo, (K.Redo, "Ctrl+Shift+Z", "Ctrl+Y")),
        ActionSpec(
            "clear",
            "&Clear canvas",
            drawing.clear,
            ("Delete", "Ctrl+Backspace"),
            "Erase the drawing (undoable)",
        ),
    ]


def view_actions(
    state: ViewerState,
    focus: Focus,
    show_maps: Callable[[], None],
    reset_layout: Callable[[], None],
) -> list[ActionSpec]:
    """View: the stabilised view, focus mode and its layers, the maps in front, the layout."""
    return [
        ActionSpec(
            "stabilisedView",
            "&Stabilised view",
            lambda on: setattr(state, "stabilised", bool(on)),
            ("S",),
            "Rotate every map back and undo the orientation shift: equivariant maps stand still",
            checkable=True,
        ),
        ActionSpec(
            "focusLayer",
            "&Focus on one layer",
            lambda on: focus.toggle(bool(on)),
            ("F",),
            "One layer of both models, large (a double click on a layer does it too); "
            "F again: every layer",
            checkable=True,
        ),
        ActionSpec(
            "previousLayer",
            "Previous layer",
            lambda: focus.step(-1),
            (",",),
            "Focus on the layer before",
        ),
        ActionSpec(
            "nextLayer", "Next layer", lambda: focus.step(+1), (".",), "Focus on the layer after"
        ),
        ActionSpec(
            "showMaps",
            "Feature &maps in front",
            show_maps,
            ("M",),
            "Bring the feature maps back in front of an analysis view",
        ),
        ActionSpec("resetLayout", "Reset window layout", reset_layout),
    ]


def rotate_actions(
    state: ViewerState,
    set_spinning: Callable[[bool], None],
    step_digit: Callable[[int], None],
) -> list[ActionSpec]:
    """Rotate: quarter turns, upright, spin; the previous / next MNIST-rot test digit."""
    return [
        ActionSpec(
            "rotatePlus",
            "Rotate +90°",
            lambda: state.rotate_quarter(+1),
            ("]", "Ctrl+Right"),
            "On to the next multiple of 90° (exact)",
        ),
        ActionSpec(
            "rotateMinus",
            "Rotate −90°",
            lambda: state.rotate_quarter(-1),
            ("[", "Ctrl+Left"),
            "Back to the previous multiple of 90° (exact)",
        ),
        ActionSpec("rotateZero", "Upright (0°)", lambda: setattr(state, "angle", 0.0), ("Home",)),
        ActionSpec(
            "spin", "S&pin", set_spinning, ("P",), "Turn the input continuously", checkable=True
        ),
        ActionSpec("previousDigit", "Previous test digit", lambda: step_digit(-1), ("PgUp",)),
        ActionSpec("nextDigit", "Next test digit", lambda: step_digit(+1), ("PgDown",)),
    ]


def help_actions(window: QtWidgets.QMainWindow) -> list[ActionSpec]:
    """Help: the panels explained, the keys, About (dialogs over ``window``)."""
    return [
        ActionSpec(
            "help", "&What am I looking at?", lambda: show_help(window), (K.HelpContents, "F1")
        ),
        ActionSpec(
            "shortcuts",
            "&Keyboard shortcuts",
            lambda: show_shortcuts(window),
            ("Ctrl+/",),
            "Every key the window knows, from its menus",
        ),
        ActionSpec("about", "&About gcnn-viewer", lambda: show_about(window)),
        ActionSpec("aboutQt", "About &Qt", lambda: QtWidgets.QMessageBox.aboutQt(window)),
    ]


def key_sequences(shortcuts: Sequence) -> list[QtGui.QKeySequence]:
    """Every key of ``shortcuts``, each once: a platform's standard key may equal an explicit
    one (Quit is Ctrl+Q on Linux), and the same key twice would make the action ambiguous,
    and dead."""
    keys: list[QtGui.QKeySequence] = []
    for shortcut in shortcuts:
        for key in (
            QtGui.QKeySequence.keyBindings(shortcut)
            if isinstance(shortcut, QtGui.QKeySequence.StandardKey)
            else [QtGui.QKeySequence(shortcut)]
        ):
            if not key.isEmpty() and key not in keys:
                keys.append(key)
    return keys


def make_action(window: QtWidgets.QWidget, spec: ActionSpec) -> QtGui.QAction:
    action = QtGui.QAction(spec.text, window)
    if spec.shortcuts:
        action.setShortcuts(key_sequences(spec.shortcuts))
    if spec.tip:
        action.setStatusTip(spec.tip)
        action.setToolTip(spec.tip)
    action.setCheckable(spec.checkable)
    action.setObjectName(spec.name)
    action.setProperty("specText", spec.text)  # its name as the table gives it (Undo changes)
    handler = spec.handler
    if spec.checkable:
        action.toggled.connect(handler)
    else:  # triggered(bool) passes `checked`: the handlers take nothing
        action.triggered.connect(lambda _checked=False, h=handler: h())
    window.addAction(action)  # shortcuts work even when a dock is floating
    return action


def make_actions(
    window: QtWidgets.QWidget, specs: Iterable[ActionSpec]
) -> dict[str, QtGui.QAction]:
    """The registry: every spec's QAction on ``window``, keyed by its id (each id once)."""
    actions: dict[str, QtGui.QAction] = {}
    for spec in specs:
        if spec.name in actions:
            raise ValueError(f"two actions with the id {spec.name!r}")
        actions[spec.name] = make_action(window, spec)
    return actions


def set_checked(action: QtGui.QAction, on: bool) -> None:
    """A checkable entry follows a change made elsewhere, without acting on it again."""
    if action.isChecked() != on:
        with QtCore.QSignalBlocker(action):
            action.setChecked(on)


def build_menus(
    window: QtWidgets.QMainWindow,
    actions: Mapping[str, QtGui.QAction],
    fillers: Mapping[str, Callable[[QtWidgets.QMenu], None]],
    menus: Sequence[tuple[str, Sequence[str]]] = MENUS,
) -> None:
    """The menu bar from ``menus``: action names, :data:`SEPARATOR`, or a placeholder that
    ``fillers`` fills (e.g. :data:`EXAMPLES`, :data:`DOCKS`)."""
    bar = window.menuBar()
    for title, items in menus:
        menu = bar.addMenu(title)
        for item in items:
            if item == SEPARATOR:
                menu.addSeparator()
            elif item in fillers:
                fillers[item](menu)
            else:
                menu.addAction(actions[item])


def shortcut_rows(
    window: QtWidgets.QMainWindow, menus: Sequence[tuple[str, Sequence[str]]] = MENUS
) -> list[tuple[str, str, str]]:
    """``(menu, entry, keys)`` for every menu entry that has keys, in menu order, read from
    the window's actions (so the list cannot drift from what the keys do)."""
    rows = []
    for title, items in menus:
        for item in items:
            action = window.findChild(QtGui.QAction, item)
            if action is None or not action.shortcuts():
                continue
            keys = ", ".join(
                k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
            )
            text = str(action.property("specText") or action.text())
            rows.append((title.replace("&", ""), text.replace("&", "").rstrip("…"), keys))
    return rows


def show_shortcuts(window: QtWidgets.QMainWindow) -> QtWidgets.QDialog:
    """Help ▸ Keyboard shortcuts: a table of :func:`shortcut_rows` (not modal: it may stay
    open beside the window)."""
    dialog = window.findChild(QtWidgets.QDialog, "shortcutsDialog")
    if dialog is None:
        dialog = QtWidgets.QDialog(window)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QtWidgets.QTableWidget(0, 3, dialog)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(["Menu", "Command", "Keys"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        note = QtWidgets.QLabel(
            "Single keys (F, S, P, M, [ ] , .) act while the focus is not in a text or "
            "number field. Tab moves the keyboard focus; the focused control is outlined."
        )
        note.setWordWrap(True)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.close)
        layout = QtWidgets.QVBoxLayout(dialog)
        layout.addWidget(table, 1)
        layout.addWidget(note)
        layout.addWidget(close)
        dialog.resize(560, 520)
    table = dialog.findChild(QtWidgets.QTableWidget, "shortcutsTable")
    rows = shortcut_rows(window)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    bar = table.verticalScrollBar().sizeHint().width()
    wide = sum(table.columnWidth(c) for c in range(3)) + bar
    dialog.resize(max(dialog.width(), wide + 40), dialog.height())  # every key in view
    dialog.show()
    dialog.raise_()
    return dialog


def show_browser(
    input_dock: QtWidgets.QDockWidget, browser: TestDigitBrowser, status_bar: QtWidgets.QStatusBar
) -> None:
    """File ▸ MNIST-rot test digits…: the Input dock in front, scrolled to the browser, the
    keyboard in its index box; or, without the data, why not (status bar)."""
    input_dock.show()
    input_dock.raise_()
    scroll = input_dock.widget()
    if isinstance(scroll, QtWidgets.QScrollArea):
        scroll.ensureWidgetVisible(browser)
    if browser.refresh():
        browser.index.setFocus()
    else:
        status_bar.showMessage(browser.unavailable_reason(), 10000)


def follow_edits(
    drawing: Drawing, actions: Mapping[str, QtGui.QAction], brush: BrushControls
) -> None:
    """Undo / Redo / Clear, in the Edit menu and as the Input dock's buttons, follow the
    drawing: texts ("Undo stroke"), tooltips and enabled states. The buttons trigger the
    menu's actions but keep their short texts: a default action would copy "Undo load of …"
    into the button and widen the Input dock."""
    undo, redo, clear = actions["undo"], actions["redo"], actions["clear"]
    for button, action, text in ((brush.undo, undo, "Undo"), (brush.clear, clear, "Clear")):
        button.setText(text)
        button.clicked.connect(lambda _checked=False, a=action: a.trigger())

    def update() -> None:
        edit = EditState.of(drawing)
        undo.setText(edit.undo_text)
        redo.setText(edit.redo_text)
        brush.undo.setToolTip(edit.undo_tip)
        for widget in (undo, brush.undo):
            widget.setEnabled(edit.can_undo)
        redo.setEnabled(edit.can_redo)
        for widget in (clear, brush.clear):
            widget.setEnabled(edit.can_clear)

    drawing.changed.connect(update)
    drawing.committed.connect(update)
    update()

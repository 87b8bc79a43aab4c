"""The window's actions and menus, as one table.

Adding a menu entry is adding one :class:`ActionSpec` to :func:`window_actions` (its text,
shortcuts, handler and tooltip) and its name to :data:`MENUS` where it should appear, e.g.
``ActionSpec("export", "act_export", "&Export…", lambda: w.exporter.open_dialog(),
("Ctrl+E",), "Save the view as a figure")`` and ``"export"`` after ``"saveModel"`` in File.
The window then holds the QAction as ``window.act_export``;
tests/gui/test_every_action_is_exercised.py will ask for a test that reaches it through the
menu or its shortcut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6 import QtGui, QtWidgets

from gcnn_viewer.gui.dialogs import show_about, show_help
from gcnn_viewer.viewer.window_policy import EditState

K = QtGui.QKeySequence.StandardKey
SEPARATOR = "-"
EXAMPLES = "<examples>"  # File ▸ Examples: one entry per shipped sample digit
DOCKS = "<docks>"  # View: one show/hide entry per dock, in the order the window made them


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``name`` is its object name (and its key in :data:`MENUS`), ``attr`` the
    window attribute that holds it. ``handler`` gets no argument (``checked`` when
    ``checkable``). Shortcuts are key strings or ``QKeySequence.StandardKey`` s."""

    name: str
    attr: str
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


def window_actions(w) -> list[ActionSpec]:
    """The main window's actions; ``w`` is the :class:`~gcnn_viewer.gui.main_window.MainWindow`
    (its parts exist already: files, state, rotation, docks)."""
    state, drawing = w.state, w.state.drawing
    return [
        ActionSpec(
            "openImage",
            "act_open_image",
            "Open &image…",
            lambda: w.files.open_image(),
            (K.Open,),
            "Load a digit from an image file (it is centred and scaled like MNIST)",
        ),
        ActionSpec(
            "openModel",
            "act_open_model",
            "Open &model…",
            lambda: w.files.open_model(),
            ("Ctrl+Shift+O",),
            "Load a checkpoint written by gcnn-viewer train into the right-hand panel",
        ),
        ActionSpec(
            "saveModel",
            "act_save_model",
            "&Save model…",
            lambda: w.files.save_model(),
            (K.Save,),
            "Write the right-hand panel's model as a gcnn-viewer checkpoint",
        ),
        ActionSpec(
            "export",
            "act_export",
            "&Export…",
            lambda: w.exporter.open_dialog(),
            ("Ctrl+E",),
            "Save the view as a figure, an animation, the probability plot or the data",
        ),
        ActionSpec(
            "train",
            "act_train",
            "&Train a model…",
            w.show_training,
            ("Ctrl+T",),
            "Train a model from scratch on MNIST-rot, with live curves",
        ),
        ActionSpec(
            "browseDigits",
            "act_browse_digits",
            "MNIST-rot &test digits…",
            lambda: show_browser(w),
            ("Ctrl+B",),
            "Browse the 50,000 MNIST-rot test digits (PgUp / PgDown step through them)",
        ),
        ActionSpec("quit", "act_quit", "&Quit", w.close, (K.Quit, "Ctrl+Q")),
        ActionSpec(
            "undo",
            "act_undo",
            "&Undo stroke",
            drawing.undo,
            (K.Undo,),
            "Undo the last stroke or load",
        ),
        ActionSpec("redo", "act_redo", "&Redo", drawing.redo, (K.Redo, "Ctrl+Shift+Z", "Ctrl+Y")),
        ActionSpec(
            "clear",
            "act_clear",
            "&Clear canvas",
            drawing.clear,
            ("Delete", "Ctrl+Backspace"),
            "Erase the drawing (undoable)",
        ),
        ActionSpec(
            "stabilisedView",
            "act_stabilised",
            "&Stabilised view",
            lambda on: setattr(state, "stabilised", bool(on)),
            ("S",),
            "Rotate every map back and undo the orientation shift: equivariant maps stand still",
            checkable=True,
        ),
        ActionSpec(
            "focusLayer",
            "act_focus",
            "&Focus on one layer",
            lambda on: w.focus.toggle(bool(on)),
            ("F",),
            "One layer of both models, large (a double click on a layer does it too); "
            "F again: every layer",
            checkable=True,
        ),
        ActionSpec(
            "previousLayer",
            "act_previous_layer",
            "Previous layer",
            lambda: w.focus.step(-1),
            (",",),
            "Focus on the layer before",
        ),
        ActionSpec(
            "nextLayer",
            "act_next_layer",
            "Next layer",
            lambda: w.focus.step(+1),
            (".",),
            "Focus on the layer after",
        ),
        ActionSpec(
            "showMaps",
            "act_show_maps",
            "Feature &maps in front",
            lambda: w.analysis.show_maps(),
            ("M",),
            "Bring the feature maps back in front of an analysis view",
        ),
        ActionSpec(
            "rotatePlus",
            "act_plus",
            "Rotate +90°",
            lambda: state.rotate_quarter(+1),
            ("]", "Ctrl+Right"),
            "On to the next multiple of 90° (exact)",
        ),
        ActionSpec(
            "rotateMinus",
            "act_minus",
            "Rotate −90°",
            lambda: state.rotate_quarter(-1),
            ("[", "Ctrl+Left"),
            "Back to the previous multiple of 90° (exact)",
        ),
        ActionSpec(
            "rotateZero",
            "act_zero",
            "Upright (0°)",
            lambda: setattr(state, "angle", 0.0),
            ("Home",),
        ),
        ActionSpec(
            "spin",
            "act_spin",
            "S&pin",
            w.rotation.set_spinning,
            ("P",),
            "Turn the input continuously",
            checkable=True,
        ),
        ActionSpec(
            "previousDigit",
            "act_prev_digit",
            "Previous test digit",
            lambda: w.step_digit(-1),
            ("PgUp",),
        ),
        ActionSpec(
            "nextDigit", "act_next_digit", "Next test digit", lambda: w.step_digit(+1), ("PgDown",)
        ),
        ActionSpec(
            "help",
            "act_help",
            "&What am I looking at?",
            lambda: show_help(w),
            (K.HelpContents, "F1"),
        ),
        ActionSpec(
            "shortcuts",
            "act_shortcuts",
            "&Keyboard shortcuts",
            lambda: show_shortcuts(w),
            ("Ctrl+/",),
            "Every key the window knows, from its menus",
        ),
        ActionSpec("about", "act_about", "&About gcnn-viewer", lambda: show_about(w)),
        ActionSpec(
            "aboutQt", "act_about_qt", "About &Qt", lambda: QtWidgets.QMessageBox.aboutQt(w)
        ),
        ActionSpec("resetLayout", "act_reset_layout", "Reset window layout", w.docks.reset_layout),
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
    setattr(window, spec.attr, action)
    return action


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


def show_browser(w) -> None:
    """File ▸ MNIST-rot test digits…: the Input dock in front, scrolled to the browser, the
    keyboard in its index box; or, without the data, why not (status bar)."""
    w.input_dock.show()
    w.input_dock.raise_()
    browser = w.browser
    scroll = w.input_dock.widget()
    if isinstance(scroll, QtWidgets.QScrollArea):
        scroll.ensureWidgetVisible(browser)
    if browser.refresh():
        browser.index.setFocus()
    else:
        w.statusBar().showMessage(browser.unavailable_reason(), 10000)


def follow_edits(w) -> None:
    """Undo / Redo / Clear, in the Edit menu and as the Input dock's buttons, follow ``w``'s
    drawing: texts ("Undo stroke"), tooltips and enabled states. The buttons trigger the
    menu's actions but keep their short texts: a default action would copy "Undo load of …"
    into the button and widen the Input dock."""
    drawing = w.state.drawing
    for button, action, text in (
        (w.brush.undo, w.act_undo, "Undo"),
        (w.brush.clear, w.act_clear, "Clear"),
    ):
        button.setText(text)
        button.clicked.connect(lambda _checked=False, a=action: a.trigger())

    def update() -> None:
        edit = EditState.of(drawing)
        w.act_undo.setText(edit.undo_text)
        w.act_redo.setText(edit.redo_text)
        w.brush.undo.setToolTip(edit.undo_tip)
        for widget in (w.act_undo, w.brush.undo):
            widget.setEnabled(edit.can_undo)
        w.act_redo.setEnabled(edit.can_redo)
        for widget in (w.act_clear, w.brush.clear):
            widget.setEnabled(edit.can_clear)

    drawing.changed.connect(update)
    drawing.committed.connect(update)
    update()

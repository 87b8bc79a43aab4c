"""Every menu entry and every button of the window is reached through user input somewhere in
tests/gui (the rule in tests/gui/conftest.py), and the ones no other test needs are used here:
examples, Help, the View menu's docks, Reset window layout.

The checklist reads the tests' source: a menu entry counts when a ``trigger(...)`` /
``menu_action(...)`` call names its path or a ``key(qtbot, ...)`` call presses one of its
shortcuts; a button counts when a ``click(qtbot, ...)`` names the attribute holding it (or
its object name). A call counts only when its function checks something after it (an
``assert``, ``pytest.raises``, ``qtbot.waitUntil`` / ``waitSignal``): reaching an entry and
looking at nothing proves nothing. A new action or button without such a test fails here.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import ast  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from .conftest import click, key, trigger, wait_frame  # noqa: E402

HERE = Path(__file__).parent
USER_INPUT = {"trigger", "menu_action", "key", "click"}
CHECKS = {"waitUntil", "waitSignal", "waitSignals", "raises", "assertNotEmitted"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def checked_calls(source: str) -> list[str]:
    """The source of every user-input call that its own function checks something after: an
    assert below it, or a ``pytest.raises``/``waitSignal`` block around or below it, or a
    ``waitUntil`` below it."""
    tree = ast.parse(source)
    found = []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for function in functions:
        inner = {
            id(node)
            for other in ast.walk(function)
            if other is not function and isinstance(other, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(other)
        }
        own = [n for n in ast.walk(function) if id(n) not in inner]
        last_check = 0
        for node in own:
            if isinstance(node, ast.Assert):
                last_check = max(last_check, node.lineno)
            elif isinstance(node, ast.With) and any(
                isinstance(item.context_expr, ast.Call) and _name(item.context_expr) in CHECKS
                for item in node.items
            ):
                last_check = max(last_check, node.end_lineno or node.lineno)
            elif isinstance(node, ast.Call) and _name(node) in CHECKS:
                last_check = max(last_check, node.lineno)
        for node in own:
            if (
                isinstance(node, ast.Call)
                and _name(node) in USER_INPUT
                and node.lineno <= last_check
            ):
                found.append(ast.get_source_segment(source, node) or "")
    return found


SOURCE = "\n".join(
    call for p in sorted(HERE.glob("test_*.py")) for call in checked_calls(p.read_text())
)
KEYS_PRESSED = set(re.findall(r"key\(qtbot, [^\n]*?\"([^\"]+)\"\)", SOURCE))
CLICKS = "\n".join(re.findall(r"click\(qtbot, [^\n]*\)", SOURCE))
# buttons clicked in a loop by an object name built from a prefix: f"sample_{name}"
CLICKED_PREFIXES = re.findall(r"f\"([A-Za-z_]+)\{", CLICKS)
MENU_CALLS = re.findall(r"(?:trigger|menu_action)\(\w+, ((?:\"[^\"]+\"(?:, )?)+)\)", SOURCE)
MENU_PATHS = [tuple(re.findall(r"\"([^\"]+)\"", args)) for args in MENU_CALLS]


def clean(text: str) -> str:
    return text.replace("&", "").rstrip("…").strip()


def menu_entries(window) -> list[tuple[tuple[str, ...], QtWidgets.QWidget]]:
    """``(path, action)`` for every entry of every menu (submenus walked)."""
    found = []

    def walk(actions, path):
        for action in actions:
            if action.isSeparator():
                continue
            here = (*path, clean(action.text()))
            if action.menu() is not None:
                walk(action.menu().actions(), here)
            else:
                found.append((here, action))

    walk(window.menuBar().actions(), ())
    return found


def reached(path: tuple[str, ...], action) -> bool:
    for called in MENU_PATHS:
        if len(called) == len(path) and all(
            clean(c) == p or (i == len(path) - 1 and p.startswith(clean(c)))
            for i, (c, p) in enumerate(zip(called, path, strict=True))
        ):
            return True
    return any(k.toString() in KEYS_PRESSED for k in action.shortcuts())


def holders(window, widget) -> set[str]:
    """The attribute names under which the window and its parts hold ``widget``."""
    owners = [window, window.input_panel, window.rotation, window.brush, window.browser]
    owners += [window.train_panel, window.sweep, *window.panels]
    owners += [window.analysis.accuracy, window.analysis.filters, window.analysis.group_view]
    owners += [window.analysis.lab]
    owners += [window.maps_area, window.maps_area.bar]
    return {name for owner in owners for name, value in vars(owner).items() if value is widget}


def test_every_menu_entry_and_button_is_reached_through_user_input(window):
    entries = menu_entries(window)
    missing = [" ▸ ".join(path) for path, action in entries if not reached(path, action)]
    for button in window.findChildren(QtWidgets.QAbstractButton):
        name = button.objectName()
        if not name or name.startswith("qt_") or isinstance(button.parent(), QtWidgets.QTabBar):
            continue  # Qt's own: dock title buttons, the tab bar's scroll arrows
        names = holders(window, button)
        by_name = f'"{name}"' in CLICKS or any(name.startswith(p) for p in CLICKED_PREFIXES)
        if not any(re.search(rf"\.{n}\b", CLICKS) for n in names) and not by_name:
            missing.append(f"button {name} ({', '.join(sorted(names)) or 'no attribute'})")
    assert missing == [], "reach these through user input in a test: " + "; ".join(missing)


def test_the_checklist_can_fail():
    """The checklist's own parsing finds calls, and an unknown entry counts as missing."""
    assert ("File", "Open model") in MENU_PATHS and "Ctrl+T" in KEYS_PRESSED
    assert ".start_button" in CLICKS

    class Fake:
        def shortcuts(self):
            return []

    assert not reached(("File", "No such entry"), Fake())
    # a call with nothing checked after it in its function does not count
    unchecked = "def test_x(window, qtbot):\n    assert window\n    click(qtbot, window.b)\n"
    checked = "def test_x(window, qtbot):\n    click(qtbot, window.b)\n    assert window\n"
    waited = (
        "def test_x(window, qtbot):\n"
        '    with qtbot.waitSignal(window.done):\n        key(qtbot, window, "F5")\n'
    )
    assert checked_calls(unchecked) == []
    assert checked_calls(checked) == ["click(qtbot, window.b)"]
    assert checked_calls(waited) == ['key(qtbot, window, "F5")']


def test_example_buttons_and_the_examples_menu_load_each_sample(window, qtbot):
    for name in window.samples:
        click(qtbot, window.findChild(QtWidgets.QToolButton, f"sample_{name}"))
        digit = name.split("-")[0]
        assert window.state.drawing.source.startswith(f"sample {digit}")
    # File ▸ Examples: triggered(bool) once reached the slot as the sample's name, and
    # nothing loaded. The entries are spelled out so that the checklist above sees them.
    assert sorted(n.split("-")[0] for n in window.samples) == list("0123456789")
    for digit, entry in (
        ("0", lambda: trigger(window, "File", "Examples", "Digit 0")),
        ("1", lambda: trigger(window, "File", "Examples", "Digit 1")),
        ("2", lambda: trigger(window, "File", "Examples", "Digit 2")),
        ("3", lambda: trigger(window, "File", "Examples", "Digit 3")),
        ("4", lambda: trigger(window, "File", "Examples", "Digit 4")),
        ("5", lambda: trigger(window, "File", "Examples", "Digit 5")),
        ("6", lambda: trigger(window, "File", "Examples", "Digit 6")),
        ("8", lambda: trigger(window, "File", "Examples", "Digit 8")),
        ("9", lambda: trigger(window, "File", "Examples", "Digit 9")),
        ("7", lambda: trigger(window, "File", "Examples", "Digit 7")),
    ):
        click(qtbot, window.brush.clear)
        entry()
        assert window.state.drawing.source.startswith(f"sample {digit}")
    assert wait_frame(qtbot, window).panels[1].prediction == 7


@pytest.fixture
def shown_boxes(monkeypatch):
    """Modal message boxes (Help, About, About Qt) recorded instead of blocking."""
    shown = []

    def exec_(box):
        shown.append((box.windowTitle(), box.text()))
        return 0

    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", exec_)
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "aboutQt", staticmethod(lambda *a: shown.append(("Qt", "")))
    )
    return shown


def test_help_about_and_about_qt(window, qtbot, shown_boxes):
    key(qtbot, window, "F1")
    trigger(window, "Help", "About gcnn-viewer")
    trigger(window, "Help", "About Qt")
    titles = [title for title, _ in shown_boxes]
    assert titles == ["What am I looking at?", "About gcnn-viewer", "Qt"]
    assert "Stabilised view" in shown_boxes[0][1] and "Cohen" in shown_boxes[1][1]


def test_view_menu_hides_and_shows_each_dock_and_resets_the_layout(window, qtbot):
    docks = {
        "Input": window.input_dock,
        "Hovered map": window.inspector_dock,
        "Probability vs angle": window.sweep_dock,
        "Train": window.train_dock,
    }
    was = {title: dock.isVisible() for title, dock in docks.items()}
    trigger(window, "View", "Input")
    trigger(window, "View", "Hovered map")
    trigger(window, "View", "Probability vs angle")
    trigger(window, "View", "Train")
    for title, dock in docks.items():
        assert dock.isVisible() != was[title], title
    assert window.train_dock.isVisible()  # the Train tab, shown from the View menu
    window.input_dock.setFloating(True)  # dragged out of the window by its title bar
    trigger(window, "View", "Reset window layout")
    for title in ("Input", "Hovered map", "Probability vs angle"):
        assert docks[title].isVisible() and not docks[title].isFloating(), title
    assert not window.train_dock.isVisible()
    key(qtbot, window, "Ctrl+T")  # back as a tab beside Input
    assert window.dockWidgetArea(window.train_dock) == QtCore.Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.tabifiedDockWidgets(window.input_dock) == [window.train_dock]
    click(qtbot, window.rotation.plus)
    assert wait_frame(qtbot, window).angle == 90

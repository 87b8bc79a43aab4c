"""No field of the export dialog does unbounded work on the GUI thread (issue 19 §3): what a
user types there is parsed as they type, so every size it can name has a bound, said in the
field's tooltip and in a one-line message."""

from __future__ import annotations

from .conftest import key
from .test_export_gui import open_dialog, type_into


def test_a_huge_channel_range_typed_in_the_dialog_is_one_line_at_once(window, qtbot, errors):
    """``0-999999999`` built a billion-entry list on the GUI thread (the window froze, then
    MemoryError); now the field's bound answers as the last key is typed."""
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    assert "0-511" in dialog.channels.toolTip()
    type_into(qtbot, dialog.channels, "0-999999999")
    text = dialog.message.text()
    assert "beyond any model's channels" in text and "0-511" in text and "\n" not in text
    type_into(qtbot, dialog.channels, "9" * 5000)  # int() refuses 5000 digits: no traceback
    assert "beyond any model's channels" in dialog.message.text()
    type_into(qtbot, dialog.channels, "0-2")  # fixed: the line goes
    assert dialog.message.text() == "" and errors == []


def test_more_angles_than_the_bound_are_one_line_in_the_dialog(window, qtbot, errors):
    key(qtbot, window, "Ctrl+E")
    dialog = open_dialog(qtbot, window)
    assert "At most 360 angles" in dialog.angles.toolTip()
    type_into(qtbot, dialog.angles, " ".join(str(a) for a in range(361)))
    assert dialog.message.text().startswith("at most 360 angles in one export, not 361")
    type_into(qtbot, dialog.angles, "0 90")
    assert dialog.message.text() == "" and errors == []

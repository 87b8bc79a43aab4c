"""Screenshots of the app, made by the app itself (``QWidget.grab``), for the manual (docs/).

    python docs/make_screenshots.py            # writes docs/*.png and docs/screenshots/*.png
    python docs/make_screenshots.py --sizes    # only docs/screenshots/window-WxH[-train].png
    DISPLAY=:99 python docs/make_screenshots.py   # under Xvfb (else the offscreen platform)

Uses the shipped models as a user's first launch does, in a 1600×1000 window, with settings
kept in a temporary file (the user's own settings are not touched). The window-size shots
show the window at 1024×768 (a projector) and 1600×1000 in each state a lesson passes
through, reached with the keys, menus and clicks a user would use:

    window-WxH.png               first launch (the overview of every layer)
    window-WxH-focus.png         focus mode (F): P4CNN's and Z2CNN's l1, large
    window-WxH-equivariance.png  View ▸ Equivariance in front
    window-WxH-accuracy.png      View ▸ Accuracy vs angle in front
    window-WxH-filters.png       a click on a P4CNN l2 map: its filter in the Filters tab
    window-WxH-lab.png           View ▸ Lab, input size 29 typed: the pool breaks P4CNN
    window-WxH-group.png         a right click on a P4CNN l2 map ▸ Group view of this
                                 channel…, then ] (+90°): the planes one step round
    window-WxH-train.png         the Train tab (a Z2CNN run started with Start, paused)

and 1920×1080 at first launch and training. The run trains on MNIST-rot when the cache holds
it, else on synthetic digits. Under X (``DISPLAY`` set, e.g. Xvfb at 1920×1200) the pixels
are taken from the screen, as a user sees them; saved with a 256-colour palette.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.gui.style import lookup_table  # noqa: E402
from gcnn_viewer.gui.synthetic_input import hover_at, move_held, press, release  # noqa: E402
from gcnn_viewer.viewer.layout import ColourTables  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (1600, 1000)
WINDOW_SIZES = ((1024, 768), (1600, 1000), (1920, 1080))
EVERY_STATE = ((1024, 768), (1600, 1000))  # the sizes shown in every state
DOCK_STATES = (  # (file suffix, View menu entry)
    ("equivariance", "Equivariance"),
    ("accuracy", "Accuracy vs angle"),
)


def wait(app, condition, timeout=20.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise TimeoutError("the app did not settle")
        app.processEvents()
        time.sleep(0.005)
    for _ in range(30):  # let every plot repaint
        app.processEvents()
        time.sleep(0.005)


def settle(app, window) -> None:
    wait(
        app, lambda: window.last_frame is not None and window.last_frame.seq == window.pending_frame
    )
    wait(
        app,
        lambda: (
            window.last_sweep is not None
            and window.last_sweep.version == window.state.drawing.version
            and window.sweep.status.text() == ""
        ),
    )


def hover(app, window, panel: int, layer: str, channel: int, orientation: int) -> None:
    """Move the mouse (no button) over one map, as a user exploring the maps would."""
    view = window.panels[panel].maps
    plot = view.layers[layer]
    top, left = plot.layout.cell_origin(channel, orientation)
    values = window.last_frame.panels[panel].layers[layer].data[channel, orientation]
    y, x = np.unravel_index(int(np.argmax(values)), values.shape)  # its brightest pixel
    z = plot.layout.zoom
    centre = QtCore.QPointF(left + (x + 0.5) * z, top + (y + 0.5) * z)
    pos = view.mapFromScene(plot.image.item.mapToScene(centre))
    hover_at(view.viewport(), pos)
    wait(app, lambda: True)


def rotate_and_cycle(frames, path: Path, channels=range(5), zoom=3) -> None:
    """P4CNN's first layer for the input at 0° and at 90°, drawn from the frames' data: each
    map rotates by 90° and moves one column to the right (the last wraps to the first)."""
    pad, gap, head = 16, 4, 22
    scale = frames[0][2]
    table = ColourTables.pack(lookup_table(scale))
    size = frames[0][1].shape[-1] * zoom
    cols, rows = 4, len(channels)
    block_w = cols * (size + gap)
    input_side = 28 * zoom
    width = pad + 2 * (block_w + pad)
    height = pad + head + input_side + pad + head + rows * (size + gap) + pad
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(image)
    font = painter.font()
    font.setPointSizeF(10)
    for b, (title, data, _, pixels) in enumerate(frames):
        x0 = pad + b * (block_w + pad)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(
            QtCore.QRectF(x0, pad, block_w, head), QtCore.Qt.AlignmentFlag.AlignCenter, title
        )
        grey = np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8).repeat(zoom, 0).repeat(zoom, 1)
        grey = np.ascontiguousarray(grey)
        qinput = QtGui.QImage(
            grey.data, input_side, input_side, input_side, QtGui.QImage.Format.Format_Grayscale8
        )
        painter.drawImage(int(x0 + (block_w - input_side) / 2), pad + head, qinput)
        top = pad + head + input_side + pad
        font.setBold(False)
        painter.setFont(font)
        for g in range(cols):
            painter.drawText(
                QtCore.QRectF(x0 + g * (size + gap), top, size, head),
                QtCore.Qt.AlignmentFlag.AlignCenter,
                f"{90 * g}°",
            )
        for r, c in enumerate(channels):
            for g in range(cols):
                rgb = table[scale.to_index(data[c, g])].repeat(zoom, 0).repeat(zoom, 1)
                rgb = np.ascontiguousarray(rgb)
                cell = QtGui.QImage(
                    rgb.data, size, size, 4 * size, QtGui.QImage.Format.Format_RGB32
                )
                painter.drawImage(x0 + g * (size + gap), top + head + r * (size + gap), cell)
    painter.end()
    image.save(str(path))


def pump(app, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def save_small(image: QtGui.QImage, path: Path) -> None:
    """A PNG with an adaptive 256-colour palette (a third of the size, no visible loss)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = Path(tempfile.mkdtemp()) / "raw.png"
    image.save(str(raw))
    Image.open(raw).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def shot(app, window) -> QtGui.QImage:
    """The window as on screen (under X: the screen's pixels), after everything repainted."""
    pump(app, 0.3)
    window.statusBar().clearMessage()
    pump(app, 0.3)
    screen = window.screen()
    if os.environ.get("DISPLAY") and screen is not None:
        return screen.grabWindow(window.winId()).toImage()
    return window.grab().toImage()


def view_entry(window, text: str) -> QtGui.QAction:
    """The View menu's entry ``text`` (as a user finds it)."""
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == "View":
            for action in top.menu().actions():
                if action.text().replace("&", "") == text:
                    return action
    raise KeyError(text)


def state_shots(app, window, size: tuple[int, int]) -> list[Path]:
    """Focus mode, each analysis tab in front and the Filters of a clicked map, at ``size``."""
    from PySide6.QtTest import QTest

    out = []

    def save(suffix: str) -> None:
        path = OUT / "screenshots" / f"window-{size[0]}x{size[1]}-{suffix}.png"
        save_small(shot(app, window), path)
        out.append(path)

    view_entry(window, "Focus on one layer").trigger()  # F: l1 of both models
    wait(app, lambda: window.focus.active)
    pump(app, 1.0)
    save("focus")
    view_entry(window, "Focus on one layer").trigger()
    wait(app, lambda: not window.focus.active)
    docks = window.analysis
    for suffix, entry in DOCK_STATES:
        view_entry(window, entry).trigger()
        if suffix == "equivariance":
            wait(app, lambda: docks.equivariance.result is not None, timeout=120)
        pump(app, 1.5)
        save(suffix)
        view_entry(window, "Feature maps in front").trigger()  # M
        pump(app, 0.5)
    view = window.panels[1].maps  # a click on one of P4CNN's l2 maps opens its filter
    plot = view.layers["l2"]
    top, left = plot.layout.cell_origin(3, 1)
    centre = QtCore.QPointF(left + plot.layout.cell / 2, top + plot.layout.cell / 2)
    pos = view.mapFromScene(plot.image.item.mapToScene(centre))
    QTest.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    wait(app, lambda: docks.filters_dock.isVisible(), timeout=10)
    pump(app, 1.5)
    save("filters")
    view_entry(window, "Feature maps in front").trigger()
    pump(app, 0.5)
    out += lab_and_group_shots(app, window, save)
    return out


def lab_and_group_shots(app, window, save) -> list[Path]:
    """The Lab tab with input size 29 typed, and the Group view of a P4CNN l2 channel at 90°
    (reached by a right click on the map); both tabs closed again afterwards."""
    from PySide6.QtTest import QTest

    docks = window.analysis
    lab = docks.lab
    view_entry(window, "Lab").trigger()
    wait(app, lambda: lab.result is not None, timeout=120)
    lab.size.setFocus()
    QTest.keyClick(lab.size, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(lab.size, "29")
    QTest.keyClick(lab.size, QtCore.Qt.Key.Key_Return)
    wait(app, lambda: lab.result.chosen.settings.input_size == 29, timeout=120)
    pump(app, 1.5)
    save("lab")
    QTest.mouseClick(lab.reset, QtCore.Qt.MouseButton.LeftButton)
    wait(app, lambda: lab.result.chosen.settings.input_size == 28, timeout=120)
    view_entry(window, "Feature maps in front").trigger()
    pump(app, 0.5)
    view = window.panels[1].maps  # a right click on P4CNN's l2 channel 3: its context menu
    plot = view.layers["l2"]
    top, left = plot.layout.cell_origin(3, 0)
    centre = QtCore.QPointF(left + plot.layout.cell / 2, top + plot.layout.cell / 2)
    pos = view.mapFromScene(plot.image.item.mapToScene(centre))
    QTest.mouseClick(view.viewport(), QtCore.Qt.MouseButton.RightButton, pos=pos)
    wait(app, lambda: view.context_menu is not None and view.context_menu.isVisible())
    menu = view.context_menu
    [entry] = [a for a in menu.actions() if a.text().startswith("Group view")]
    QTest.mouseClick(
        menu, QtCore.Qt.MouseButton.LeftButton, pos=menu.actionGeometry(entry).center()
    )
    wait(app, lambda: docks.group_dock.isVisible() and docks.group_view.planes is not None)
    window.actions_by_id["rotatePlus"].trigger()  # ] : +90°
    settle(app, window)
    pump(app, 1.5)
    save("group")
    window.actions_by_id["rotateZero"].trigger()
    settle(app, window)
    for dock in (docks.lab_dock, docks.group_dock):
        dock.close()  # the later shots show the tabs a first launch has
    view_entry(window, "Feature maps in front").trigger()
    pump(app, 0.5)
    return []


def window_shots(app) -> list[Path]:
    """The whole window at each size of WINDOW_SIZES, without and with the Train tab, and
    at the sizes of EVERY_STATE in each state of :func:`state_shots`."""
    from PySide6.QtTest import QTest

    from gcnn_viewer.viewer.training import mnist_rot_cached

    settings = QtCore.QSettings(
        str(Path(tempfile.mkdtemp()) / "sizes.ini"), QtCore.QSettings.Format.IniFormat
    )
    window = MainWindow(settings=settings)
    window.resize(*WINDOW_SIZES[0])
    window.move(0, 0)
    window.show()
    settle(app, window)
    panel = window.train_panel
    panel.runs_dir = Path(tempfile.mkdtemp()) / "runs"
    if not mnist_rot_cached():
        sys.path.insert(0, str(OUT.parent / "benchmarks"))
        from bench_training_ui import synthetic

        data = synthetic(2000)
        panel.load_data = lambda _say: data
    panel.model_box.setCurrentIndex(panel.model_box.findData("z2cnn"))
    panel.epochs.setValue(3)
    panel.follow.setChecked(False)  # the right-hand panel keeps the shipped P4CNN
    out = []
    for train in (False, True):
        if train:
            window.show_training()
            QTest.mouseClick(panel.start_button, QtCore.Qt.MouseButton.LeftButton)
            wait(app, lambda: panel.last is not None and panel.last.step >= 60, timeout=300)
            QTest.mouseClick(panel.pause_button, QtCore.Qt.MouseButton.LeftButton)
            wait(app, lambda: "paused" in panel.status.text(), timeout=60)
        for size in WINDOW_SIZES:
            window.resize(*size)
            pump(app, 1.0)
            name = f"window-{size[0]}x{size[1]}{'-train' if train else ''}.png"
            save_small(shot(app, window), OUT / "screenshots" / name)
            out.append(OUT / "screenshots" / name)
            if not train and size in EVERY_STATE:
                out += state_shots(app, window, size)
    window.train_panel.shutdown()
    window.close()
    return out


def main() -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    # closing mid-run asks; the script answers Yes
    QtWidgets.QMessageBox.question = staticmethod(  # type: ignore[method-assign]
        lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes
    )
    shots = window_shots(app)
    if "--sizes" in sys.argv[1:]:
        print("\n".join(str(p) for p in shots))
        return 0
    settings = QtCore.QSettings(
        str(Path(tempfile.mkdtemp()) / "screens.ini"), QtCore.QSettings.Format.IniFormat
    )
    window = MainWindow(settings=settings)
    window.resize(*SIZE)
    window.show()
    settle(app, window)
    window.statusBar().clearMessage()
    window.grab().save(str(OUT / "main-window.png"))

    # rotate-and-cycle: P4CNN's first layer at 0° and at 90°, without stabilisation
    scale = window.panels[1].maps.probe.scales["l1"]
    frames = []
    for title in ("P4CNN l1, input at 0°", "input turned +90°"):
        frame = window.last_frame
        frames.append((title, frame.panels[1].layers["l1"].data, scale, frame.input))
        if not frames[1:]:
            window.actions_by_id["rotatePlus"].trigger()
            settle(app, window)
    rotate_and_cycle(frames, OUT / "rotate-and-cycle.png")

    # the stabilised view at 90°, hovering a map
    window.actions_by_id["stabilisedView"].trigger()
    settle(app, window)
    hover(app, window, 1, "l2", 3, 1)
    window.grab().save(str(OUT / "p4cnn-90-stabilised.png"))

    # a digit drawn by hand, turned to an angle between the exact quarter turns
    window.actions_by_id["stabilisedView"].trigger()
    window.actions_by_id["clear"].trigger()
    canvas = window.canvas
    side = min(canvas.width(), canvas.height())

    def at(x: float, y: float) -> QtCore.QPointF:
        return QtCore.QPointF(
            canvas.width() / 2 + (x - 0.5) * side, canvas.height() / 2 + (y - 0.5) * side
        )

    four = [
        [
            (0.55, 0.15),
            (0.45, 0.3),
            (0.35, 0.45),
            (0.27, 0.6),
            (0.45, 0.6),
            (0.62, 0.6),
            (0.75, 0.6),
        ],
        [(0.6, 0.35), (0.6, 0.5), (0.6, 0.65), (0.6, 0.8), (0.6, 0.88)],
    ]
    for stroke in four:
        press(canvas, at(*stroke[0]))
        for x, y in stroke[1:]:
            move_held(canvas, at(x, y))
        release(canvas, at(*stroke[-1]))
    window.rotation.slider.setValue(135)
    settle(app, window)
    hover(app, window, 0, "l1", 5, 0)
    window.grab().save(str(OUT / "drawn-digit-135.png"))

    # the p4m model: 8 orientation columns, rotations then mirrored rotations
    panel = window.panels[0]
    key = next(e.key for e in window.state.catalog if e.arch == "p4mcnn")
    panel.selector.activated.emit(panel.selector.findData(key))
    window.load_sample(next(n for n in window.samples if n.startswith("2")))
    window.rotation.slider.setValue(90)
    settle(app, window)
    window.grab().save(str(OUT / "p4mcnn-vs-p4cnn.png"))

    window.close()
    print("\n".join(str(p) for p in [*sorted(OUT.glob("*.png")), *shots]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

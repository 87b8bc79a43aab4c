"""Screenshots of the app, made by the app itself (``QWidget.grab``), for the README.

    python docs/make_screenshots.py            # writes docs/*.png
    DISPLAY=:99 python docs/make_screenshots.py   # under Xvfb (else the offscreen platform)

Uses the shipped models as a user's first launch does, in a 1600×1000 window, with settings
kept in a temporary file (the user's own settings are not touched).
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
from gcnn_viewer.viewer.layout import ColourTables  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (1600, 1000)


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
    event = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPointF(pos),
        QtCore.QPointF(view.viewport().mapToGlobal(pos)),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(view.viewport(), event)
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


def main() -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
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
            window.act_plus.trigger()
            settle(app, window)
    rotate_and_cycle(frames, OUT / "rotate-and-cycle.png")

    # the stabilised view at 90°, hovering a map
    window.act_stabilised.trigger()
    settle(app, window)
    hover(app, window, 1, "l2", 3, 1)
    window.grab().save(str(OUT / "p4cnn-90-stabilised.png"))

    # a digit drawn by hand, turned to an angle between the exact quarter turns
    window.act_stabilised.trigger()
    window.act_clear.trigger()
    canvas = window.canvas
    side = min(canvas.width(), canvas.height())
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton

    def send(kind, x, y, button, buttons):
        pos = QtCore.QPointF(
            canvas.width() / 2 + (x - 0.5) * side, canvas.height() / 2 + (y - 0.5) * side
        )
        event = QtGui.QMouseEvent(
            kind,
            pos,
            QtCore.QPointF(canvas.mapToGlobal(pos.toPoint())),
            button,
            buttons,
            QtCore.Qt.KeyboardModifier.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(canvas, event)

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
        send(QtCore.QEvent.Type.MouseButtonPress, *stroke[0], left, left)
        for x, y in stroke[1:]:
            send(QtCore.QEvent.Type.MouseMove, x, y, none, left)
        send(QtCore.QEvent.Type.MouseButtonRelease, *stroke[-1], left, none)
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
    print("\n".join(str(p) for p in sorted(OUT.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

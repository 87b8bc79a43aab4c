"""Texts and small dialogs: errors (one line), About, "What am I looking at?"."""

from __future__ import annotations

import platform

from PySide6 import QtCore, QtWidgets

from gcnn_viewer import __version__

PAPER = (
    "Taco S. Cohen and Max Welling, <i>Group Equivariant Convolutional Networks</i>, "
    "ICML 2016 (arXiv:1602.07576)"
)


def show_error(parent: QtWidgets.QWidget | None, title: str, message: str) -> None:
    """A modal error with one line of text; the app carries on afterwards."""
    line = message.strip().splitlines()[0] if message.strip() else title
    QtWidgets.QMessageBox.critical(parent, title, line)


def about_text() -> str:
    import pyqtgraph
    import torch
    from PySide6 import __version__ as pyside_version

    return (
        f"<h3>gcnn-viewer {__version__}</h3>"
        "<p>See why group-equivariant CNNs work: draw a digit, rotate it, and watch every "
        "layer of a P4CNN rotate <i>and</i> cycle through its orientation channels while a "
        "plain CNN's maps do not.</p>"
        f"<p><b>Models</b> after {PAPER}: Z2CNN, P4CNN and P4CNN-RotationPooling on rotated "
        "MNIST (Table 1), plus a p4m variant.</p>"
        "<p><b>Data</b>: MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, "
        "licensed under <a href='https://creativecommons.org/licenses/by-sa/3.0/'>CC BY-SA "
        "3.0</a>; the sample digits shipped with the app are MNIST test digits. MNIST-rot "
        "follows Larochelle et al. (2007) and is regenerated from MNIST, not the original "
        "files.</p>"
        "<p><b>Code</b>: MIT licence.</p>"
        f"<p style='color:#707070'>Python {platform.python_version()} · PyTorch "
        f"{torch.__version__} · PySide6 {pyside_version} · pyqtgraph "
        f"{pyqtgraph.__version__}</p>"
    )


HELP_TEXT = """
<h3>What am I looking at?</h3>
<p><b>Left:</b> draw a digit (or load one). Beside the canvas is the 28×28 image the models
actually see: your drawing scaled into 20×20 and centred by its centre of mass, as MNIST was
made, then rotated by θ.</p>
<p><b>Middle and right:</b> two models side by side (by default a plain CNN, Z2CNN, and the
rotation-equivariant P4CNN). The bars are each model's class probabilities. Below them,
every layer's feature maps: l1 … l6, the 2×2 max-pool, and the top layer whose maximum over
orientations gives the logits.</p>
<p><b>P4CNN's layers</b> have an orientation axis: every filter exists in four rotated
copies (columns 0°, 90°, 180°, 270°). Turn the input by +90° and each map
<i>rotates</i> by 90° <i>and</i> moves one column to the right (the last wraps to the
first): the layer is <i>equivariant</i>. The top layer is then maxed over orientations, so
the prediction does not change at all.</p>
<p><b>Z2CNN</b> has no orientation axis. Turn its input and its maps change in ways that
are not a rotation, so its prediction can change too.</p>
<p><b>Stabilised view</b> rotates every map back by the input's rotation and undoes the
column shift. P4CNN's maps then stand perfectly still at 0°, 90°, 180°, 270°; Z2CNN's do
not.</p>
<p><b>Between multiples of 90°</b> the rotated input has to be resampled on the pixel grid,
so even P4CNN is only approximately invariant there: the plot at the bottom shows each
model's probability for its predicted class as the input turns through 0–360°.</p>
<p>Hover over any map to enlarge it. Colours use one fixed scale per layer (shown under each
layer), so a change in colour is a change in value.</p>
"""


def show_about(parent: QtWidgets.QWidget | None) -> None:
    box = QtWidgets.QMessageBox(parent)
    box.setWindowTitle("About gcnn-viewer")
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setText(about_text())
    box.setIconPixmap(
        parent.windowIcon().pixmap(64, 64) if parent is not None else box.iconPixmap()
    )
    box.exec()


def show_help(parent: QtWidgets.QWidget | None) -> None:
    box = QtWidgets.QMessageBox(parent)
    box.setWindowTitle("What am I looking at?")
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setText(HELP_TEXT)
    box.exec()


def ask(parent: QtWidgets.QWidget | None, title: str, text: str) -> bool:
    """A Yes/No question (Yes is the default); True for Yes."""
    answer = QtWidgets.QMessageBox.question(
        parent,
        title,
        text,
        QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
        QtWidgets.QMessageBox.StandardButton.Yes,
    )
    return answer == QtWidgets.QMessageBox.StandardButton.Yes

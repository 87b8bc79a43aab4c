"""File ▸ Open model… for a Python file: pick the factory that builds the model, optionally
its weights, a name, the input size and the layers to show (issue 22, "Your own model").

A ``.py`` file is Python: listing its factories ran it, and opening the model runs the factory.
The file dialog's caption says so before the file is chosen, and this dialog says so again.
Choosing nothing new here changes nothing: an error (no such factory, weights that do not
fit, a factory that raises) is one line in the dialog, which stays open with every field as
it was, so the user can fix it and try again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

CODE_WARNING = (
    "⚠ A .py file is a program: listing its factories ran it, and opening the model runs "
    "the factory you pick, with your permissions. Open only files you trust."
)
AUTO_SIZE = 0  # the input-size box's "auto": the model's input_size attribute, else 28
MAX_INPUT_SIZE = 512
SIDES = ("Left panel", "Right panel")
PREFERRED_FACTORIES = ("build", "build_model", "make_model", "create_model", "model", "get_model")


@dataclass(frozen=True)
class UserModelChoice:
    """What the dialog's fields say: ``spec`` is ``FILE.py:FACTORY``."""

    spec: str
    weights: str | None
    name: str | None
    input_size: int | None
    layers: tuple[str, ...] | None
    panel: int


def preferred_factory(factories: Sequence[str]) -> str | None:
    """The factory offered first: one named like a factory (``build``, ``make_model``…), else
    the last one the file defines (a file tends to end with what it is for)."""
    for name in PREFERRED_FACTORIES:
        if name in factories:
            return name
    return factories[-1] if factories else None


def factory_spec(path: Path, factory: str) -> str:
    """``FILE.py:FACTORY`` (the file's absolute path: the app's folder is not the user's)."""
    return f"{Path(path).expanduser().resolve()}:{factory}"


class UserModelDialog(QtWidgets.QDialog):
    """The factory list of ``path`` and the options that go with it.

    ``open_model(choice)`` opens the model and returns "" or a one-line error, which the
    dialog shows in its own error line (it then stays open). ``ask_weights()`` asks for a
    weights file (a file dialog; None when cancelled)."""

    def __init__(
        self,
        parent: QtWidgets.QWidget,
        path: Path,
        factories: Sequence[str],
        open_model: Callable[[UserModelChoice], str],
        ask_weights: Callable[[], Path | None],
        panel: int = 1,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("userModelDialog")
        self.setWindowTitle(f"Open model from {Path(path).name}")
        self.path, self._open_model, self._ask_weights = Path(path), open_model, ask_weights

        self.warning = QtWidgets.QLabel(CODE_WARNING)
        self.warning.setObjectName("codeWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color:#8a4b00")
        self.file_label = QtWidgets.QLabel(str(self.path))
        self.file_label.setObjectName("userModelFile")
        self.file_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.factory = QtWidgets.QComboBox()
        self.factory.setObjectName("factoryBox")
        for factory in factories:
            self.factory.addItem(factory, factory)
        self.factory.setCurrentIndex(max(0, self.factory.findData(preferred_factory(factories))))
        self.factory.setToolTip("The function (or class) in the file that returns the nn.Module")
        self._make_fields(panel)
        self.error = QtWidgets.QLabel("")
        self.error.setObjectName("userModelError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#b3261e")
        self.error.setVisible(False)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.open_button = self.buttons.addButton(
            "Open", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.open_button.setObjectName("openUserModel")
        self.open_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(
            QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.cancel_button.setObjectName("cancelUserModel")
        self.open_button.clicked.connect(self.try_open)
        self.cancel_button.clicked.connect(self.reject)
        self.factory.currentTextChanged.connect(self.name.setPlaceholderText)
        self.name.setPlaceholderText(self.factory.currentText())
        self._layout()

    def _make_fields(self, panel: int) -> None:
        self.weights = QtWidgets.QLineEdit()
        self.weights.setObjectName("weightsPath")
        self.weights.setPlaceholderText("none: the weights the factory gives")
        self.weights.setToolTip(
            "A state_dict saved with torch.save, or a gcnn-viewer checkpoint; read with "
            "weights_only=True"
        )
        self.browse = QtWidgets.QPushButton("Browse…")
        self.browse.setObjectName("browseWeights")
        self.browse.clicked.connect(self._browse)
        self.name = QtWidgets.QLineEdit()
        self.name.setObjectName("modelName")
        self.name.setToolTip("The label in the app, in figures and in data keys")
        self.input_size = QtWidgets.QSpinBox()
        self.input_size.setObjectName("inputSize")
        self.input_size.setRange(AUTO_SIZE, MAX_INPUT_SIZE)
        self.input_size.setSpecialValueText("auto")
        self.input_size.setSuffix(" px")
        self.input_size.setToolTip(
            "The side N of the [B, 1, N, N] input; auto: the model's input_size attribute, else 28"
        )
        self.layers = QtWidgets.QLineEdit()
        self.layers.setObjectName("layerNames")
        self.layers.setPlaceholderText("the model's children")
        self.layers.setToolTip(
            "Module paths whose outputs to show, separated by spaces (e.g. features.1 "
            "features.4); empty: the outputs of the model's children"
        )
        self.panel = QtWidgets.QComboBox()
        self.panel.setObjectName("panelChoice")
        self.panel.addItems(list(SIDES))
        self.panel.setCurrentIndex(panel)

    def _layout(self) -> None:
        weights_row = QtWidgets.QHBoxLayout()
        weights_row.addWidget(self.weights, 1)
        weights_row.addWidget(self.browse)
        form = QtWidgets.QFormLayout()
        form.addRow("File:", self.file_label)
        form.addRow("&Factory:", self.factory)
        weights_label = QtWidgets.QLabel("&Weights:")  # (a row of two: the buddy by hand)
        weights_label.setBuddy(self.weights)
        form.addRow(weights_label, weights_row)
        form.addRow("&Name:", self.name)
        form.addRow("&Input size:", self.input_size)
        form.addRow("&Layers:", self.layers)
        form.addRow("Show in:", self.panel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def _browse(self) -> None:
        path = self._ask_weights()
        if path is not None:
            self.weights.setText(str(path))

    def choice(self) -> UserModelChoice:
        """The fields as they are."""
        weights = self.weights.text().strip()
        name = self.name.text().strip()
        layers = tuple(self.layers.text().replace(",", " ").split())
        size = self.input_size.value()
        return UserModelChoice(
            factory_spec(self.path, self.factory.currentText()),
            weights or None,
            name or None,
            None if size == AUTO_SIZE else size,
            layers or None,
            self.panel.currentIndex(),
        )

    def show_error(self, line: str) -> None:
        self.error.setText(line)
        self.error.setToolTip(line)
        self.error.setVisible(bool(line))

    def try_open(self) -> bool:
        """Open: the model in its panel and the dialog closed, or the error in its line."""
        if not self.factory.currentText():
            self.show_error(f"{self.path.name} defines no factory to choose")
            return False
        self.show_error("")
        error = self._open_model(self.choice())
        if error:
            self.show_error(error)
            return False
        self.accept()
        return True

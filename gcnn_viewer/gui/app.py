"""Launching the desktop app: ``gcnn-viewer`` with no subcommand, ``gcnn-viewer --model SPEC
[SPEC2]`` (your own models in the left and right panels), and :func:`view`, the window on
live module objects from Python (issue 22, "Your own model")."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets  # (no QApplication yet: the display is checked first)

from gcnn_viewer.errors import ConfigError, first_line

if TYPE_CHECKING:
    from gcnn_viewer.viewer.models import ModelCatalog
    from gcnn_viewer.viewer.state import ViewerState

N_PANELS = 2


@dataclass(frozen=True)
class AppModels:
    """The models named at launch, one per panel (left, then right), with the options of
    your own models (``FILE.py:FACTORY`` / ``package.module:FACTORY``): ``weights`` and
    ``names`` one per model, in order (None: none given); ``input_size`` and ``layers`` for
    every such model."""

    texts: tuple[str, ...]
    weights: tuple[str | None, ...] = ()
    names: tuple[str | None, ...] = ()
    input_size: int | None = None
    layers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.texts) <= N_PANELS:
            raise ConfigError(f"--model takes one or two models, not {len(self.texts)}")
        for option, values in (("--weights", self.weights), ("--name", self.names)):
            if len(values) > len(self.texts):
                raise ConfigError(
                    f"{option}: {len(values)} values for {len(self.texts)} model(s); give one "
                    "per model, in the order of --model"
                )

    def option(self, values: tuple[str | None, ...], i: int) -> str | None:
        return values[i] if i < len(values) else None


def open_app_models(catalog: ModelCatalog, models: AppModels) -> list[str]:
    """The catalog keys of ``models.texts``: a shipped model's name, a checkpoint path, or
    your own model (opened into the catalog here: this runs its code). One-line
    :class:`~gcnn_viewer.errors.GcnnViewerError` for anything that cannot be shown."""
    from gcnn_viewer.viewer.models import CHECKPOINT_SUFFIXES

    archs = {e.arch for e in catalog if e.source in ("shipped", "untrained")}
    keys = []
    for i, text in enumerate(models.texts):
        weights, name = models.option(models.weights, i), models.option(models.names, i)
        path = Path(text).expanduser()
        own = _is_model_spec(text)
        if not own and (weights is not None or name is not None):
            raise ConfigError(
                f"{text}: --weights and --name go with your own model (FILE.py:FACTORY); "
                "a shipped model or a checkpoint comes with its weights and name"
            )
        if own:
            entry = catalog.open_user_model(
                text,
                weights=weights,
                name=name,
                input_size=models.input_size,
                layers=models.layers,
            )
        elif text in archs:
            entry = catalog.find(text)
        elif path.is_file() or path.suffix.lower() in CHECKPOINT_SUFFIXES:
            if not path.is_file():
                raise ConfigError(f"{text}: no such checkpoint file")
            entry = catalog.open_checkpoint(path)
        else:
            raise ConfigError(
                f"unknown model {text!r}: give one of {', '.join(sorted(archs))}, a "
                "checkpoint path, or FILE.py:FACTORY / package.module:FACTORY"
            )
        keys.append(entry.key)
    return keys


def _is_model_spec(text: str) -> bool:
    from gcnn_viewer.models.user import is_model_spec

    return is_model_spec(text)


def _application(argv: Sequence[str]) -> QtWidgets.QApplication:
    """The running QApplication, or a new one with the app's names and icon."""
    from gcnn_viewer.gui.identity import APPLICATION, DISPLAY_NAME, ORGANISATION, app_icon

    QtCore.QCoreApplication.setOrganizationName(ORGANISATION)
    QtCore.QCoreApplication.setApplicationName(APPLICATION)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(
        [sys.argv[0] if sys.argv and sys.argv[0] else "gcnn-viewer", *argv]
    )
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(DISPLAY_NAME)
    app.setWindowIcon(app_icon())
    return app


def _display_problem(argv: Sequence[str]) -> str | None:
    """Without a usable display Qt aborts the process inside QApplication(): say why first."""
    from gcnn_viewer.gui.platform_check import display_problem

    return None if QtWidgets.QApplication.instance() else display_problem(argv=list(argv))


def _state_with(catalog: ModelCatalog, keys: Sequence[str]) -> ViewerState:
    from gcnn_viewer.viewer.state import ViewerState

    state = ViewerState(catalog)
    for i, key in enumerate(keys):
        state.set_panel(i, key)
    return state


def run_app(argv: list[str] | None = None, models: AppModels | None = None) -> int:
    """Create the QApplication and the main window; return the exit status.

    The window is on screen before torch is imported: the models load on a thread of their
    own (:mod:`gcnn_viewer.gui.startup`), so there is no splash screen. Models named with
    ``--model`` (``models``) are opened first, so that a spec that cannot be opened is one
    line on stderr and no window; they replace the last session's models in their panels."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    problem = _display_problem(argv or [])
    if problem:
        print(f"gcnn-viewer: error: {problem}", file=sys.stderr)
        return 2
    state = None
    if models is not None:
        from gcnn_viewer.viewer.models import ModelCatalog

        catalog = ModelCatalog()
        state = _state_with(catalog, open_app_models(catalog, models))
    app = _application(argv or [])

    from gcnn_viewer.gui.main_window import MainWindow

    window = MainWindow(state, session_models=state is None)
    return _show(app, window, own_loop=True)


def _show(app: QtWidgets.QApplication, window: Any, own_loop: bool) -> int:
    """Show ``window`` and run until it closes: ``app.exec()`` (``own_loop``), else a local
    event loop inside the application's own (an IPython or notebook session with a Qt loop)."""

    def excepthook(kind, value, tb):
        # An unexpected error in a slot: log it in full, tell the user in one line, carry on.
        traceback.print_exception(kind, value, tb)
        from gcnn_viewer.gui.dialogs import show_error

        show_error(window, "Unexpected error", f"{kind.__name__}: {first_line(value)}")

    previous_hook = sys.excepthook
    sys.excepthook = excepthook
    try:
        window.show()
        if own_loop:
            status = app.exec()
        else:
            loop = QtCore.QEventLoop()
            watch = CloseWatch(window, loop.quit)
            status = loop.exec() if window.isVisible() else 0
            window.removeEventFilter(watch)
    finally:
        sys.excepthook = previous_hook
        window.shutdown()
        window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    return int(status)


class CloseWatch(QtCore.QObject):
    """Calls ``closed()`` once ``window`` has closed (a close it refused, while a model
    trains and the user says no, does not count)."""

    def __init__(self, window: QtWidgets.QWidget, closed: Callable[[], object]) -> None:
        super().__init__(window)
        self.window, self.closed = window, closed
        window.installEventFilter(self)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if obj is self.window and event.type() == QtCore.QEvent.Type.Close:
            QtCore.QTimer.singleShot(0, self, self.check)  # after closeEvent has decided
        return False

    def check(self) -> None:
        if not self.window.isVisible():
            self.closed()


def _add_module(catalog: ModelCatalog, module: Any, name: str | None):
    """A live module's catalog entry (wrapped, frozen), labelled ``name``."""
    from gcnn_viewer.models.user import wrap_model

    return catalog.add_user_model(wrap_model(module, name=name), source="view()")


def _labels(modules: Sequence[Any], names: Sequence[str | None]) -> list[str | None]:
    """Each module's name (given, else its class's); a second one of the same name gets
    ``-2``, so that the two panels show two models."""
    out: list[str | None] = []
    for module, name in zip(modules, names, strict=False):
        label = name if name is not None else getattr(module, "name", type(module).__name__)
        out.append(f"{label}-2" if out and label == out[0] else label)
    return out


def view(model: Any, other: Any = None, *, name: str | Sequence[str] | None = None) -> None:
    """Open the window on live ``nn.Module`` objects and block until it is closed, as
    matplotlib's ``show()`` does. ``model`` goes in the left panel, ``other`` (if given) in
    the right one (else the shipped P4CNN). ``name`` labels ``model`` (a pair of names
    labels both); the default is the module's class name. A QApplication is created if there
    is none, and the running one is used if there is (IPython's ``%gui qt``, a notebook).

    The modules are wrapped, not copied (:func:`gcnn_viewer.models.user.wrap_model`), and
    frozen while shown: put one in training mode only after the window has closed."""
    from gcnn_viewer.viewer.models import ModelCatalog

    names = (name, None) if name is None or isinstance(name, str) else tuple(name)
    if len(names) != N_PANELS:
        raise ConfigError(f"view(): name is one name or a pair, not {len(names)} names")
    modules = [model] if other is None else [model, other]
    # one of ours is frozen for good when shown: show a copy, so the caller's stays trainable
    modules = [m.unfrozen_copy() if _is_ours(m) else m for m in modules]
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    problem = _display_problem([])
    if problem:
        raise ConfigError(f"view(): {problem}")
    app = _application([])
    with _given_back(modules):
        catalog = ModelCatalog()
        keys = [
            _add_module(catalog, module, label).key
            for module, label in zip(modules, _labels(modules, names), strict=True)
        ]
        from gcnn_viewer.gui.main_window import MainWindow

        window = MainWindow(_state_with(catalog, keys), session_models=False)
        _show(app, window, own_loop=False)  # a local loop: also inside a running application


def _is_ours(module: Any) -> bool:
    from gcnn_viewer.models.networks import GCNNModel

    return isinstance(module, GCNNModel) and not module.frozen


@contextmanager
def _given_back(modules: Sequence[Any]) -> Iterator[None]:
    """While the window is open the modules are frozen (eval mode, no gradients: the app's
    threads share them); afterwards each is as it was: its modules' training flags and its
    parameters' ``requires_grad``."""
    torch_modules = [m for m in modules if callable(getattr(m, "modules", None))]
    modes = [(m, m.training) for module in torch_modules for m in module.modules()]
    grads = [(p, p.requires_grad) for module in torch_modules for p in module.parameters()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training
        for p, wanted in grads:
            p.requires_grad_(wanted)

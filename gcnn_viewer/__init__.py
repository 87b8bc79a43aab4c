"""gcnn-viewer: see and teach group-equivariant CNNs (Cohen & Welling, ICML 2016)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "view"]


def view(model: Any, other: Any = None, *, name: str | None = None) -> None:
    """Open the app's window on live ``nn.Module`` objects and block until it is closed, as
    matplotlib's ``show()`` does.

    ``model`` is shown in the left panel and ``other``, if given, in the right one (else the
    shipped P4CNN). Each module takes ``[B, 1, N, N]`` pixels in [0, 1] (N: its
    ``input_size`` attribute, else 28), normalises them itself, and returns ``[B, K]``
    logits; its layers are the outputs of its children (docs: "Your own model"). ``name``
    labels ``model`` in the app, in figures and in data keys (a pair of names labels both);
    by default a module is named by its class. A QApplication is created if there is none;
    a running one (IPython's ``%gui qt``) is used.

    The modules are shown as they are, not copied, and frozen (eval mode, no gradients)
    while the window is open.

    Example::

        import gcnn_viewer
        from examples.p4_plain_torch import build

        gcnn_viewer.view(build(), name="my p4 net")
    """
    # The app is imported when view() is called, never when the package is: `import
    # gcnn_viewer` and the command line stay free of Qt and torch (docs/ARCHITECTURE.md,
    # "Start-up"). By name, with importlib: the core modules import __version__ from this
    # package, and a static import of the GUI here would put the whole package in one import
    # cycle and make every layer "import" Qt (tests/test_architecture.py).
    import importlib

    importlib.import_module("gcnn_viewer.gui.app").view(model, other, name=name)

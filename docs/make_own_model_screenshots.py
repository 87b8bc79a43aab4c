"""Screenshots of your own models in the app, for the manual's "Your own model" page.

One shot per call, of the window opened the way ``gcnn-viewer --model SPEC [SPEC2]`` opens
it (the same :func:`~gcnn_viewer.gui.app.open_app_models`), with settings in a temporary
file (the user's own are not touched), turned to ``--angle`` with the window's own rotation
state and with an analysis tab in front (``--view``, the View menu's entry)::

    DISPLAY=:106 python docs/make_own_model_screenshots.py \\
        docs/screenshots/own-model-p4.png examples/p4_plain_torch.py:build \\
        --weights runs/p4_plain.pt --angle 90

Under X (``DISPLAY`` set, e.g. Xvfb) the pixels are the screen's; else the offscreen
platform's. Saved with a 256-colour palette. The escnn example needs a Python with escnn
(``pip install 'gcnn-viewer[escnn]'``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtWidgets  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import save_small, settle, shot, view_entry, wait  # noqa: E402

from gcnn_viewer.gui.app import AppModels, _state_with, open_app_models  # noqa: E402
from gcnn_viewer.gui.main_window import MainWindow  # noqa: E402
from gcnn_viewer.viewer.models import ModelCatalog  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("models", nargs="+", metavar="MODEL")
    parser.add_argument("--weights", nargs="+", default=())
    parser.add_argument("--name", nargs="+", default=())
    parser.add_argument("--layers", nargs="+")
    parser.add_argument("--input-size", type=int)
    parser.add_argument("--angle", type=float, default=0.0)
    parser.add_argument("--view", help="a View menu entry to bring forward, e.g. Equivariance")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds for a view to fill")
    args = parser.parse_args(argv)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    models = AppModels(
        tuple(args.models),
        tuple(w or None for w in args.weights),
        tuple(args.name),
        args.input_size,
        tuple(args.layers) if args.layers else None,
    )
    catalog = ModelCatalog()
    state = _state_with(catalog, open_app_models(catalog, models))
    folder = Path(tempfile.mkdtemp())
    settings = QtCore.QSettings(str(folder / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(state, settings, session_models=False)
    width, height = (int(n) for n in args.size.split("x"))
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    wait(app, lambda: window.models_ready, timeout=120)
    settle(app, window)
    if args.angle:
        state.angle = args.angle
        settle(app, window)
    if args.view:
        view_entry(window, args.view).trigger()
    end = QtCore.QDeadlineTimer(int(args.wait * 1000))
    wait(app, lambda: end.hasExpired(), timeout=args.wait + 60)
    save_small(shot(app, window), args.out)
    print(args.out)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

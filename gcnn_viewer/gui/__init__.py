"""The desktop app: thin PySide6 / pyqtgraph views over :mod:`gcnn_viewer.viewer`.

The only package that imports Qt. Start it with ``gcnn-viewer`` (no subcommand) or
:func:`gcnn_viewer.gui.app.run_app`.
"""

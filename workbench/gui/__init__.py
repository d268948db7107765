"""The Qt desktop application: the only package that imports PySide6 or pyqtgraph.

``gui.app`` builds the window, ``gui.state`` holds the application state, ``gui.worker`` runs
engine generators in a QThread, ``gui.widgets`` are the reusable views and ``gui.labs`` the
activity pages. See ARCHITECTURE.md, "The GUI".
"""

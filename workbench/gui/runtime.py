"""Application set-up shared by the desktop application (:mod:`workbench.gui.app`), the lab and
widget demos run alone (:mod:`workbench.gui.labs.standalone`) and the smoke test: the one
QApplication, named so that QSettings find the user's settings, with the window icon and the
plot options. Nothing here imports a window or a lab, so any of them may import it."""
from __future__ import annotations

import sys
from typing import Sequence

ORGANIZATION = "Adversarial Workbench"
APPLICATION = "workbench"
DESKTOP_FILE = "adversarial-workbench"  # packaging/linux/adversarial-workbench.desktop, the icon's name


def create_application(argv: Sequence[str] | None = None):
    """The QApplication (created once), named so that QSettings find the user's settings."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(ORGANIZATION)
        QCoreApplication.setApplicationName(APPLICATION)
        app = QApplication([sys.argv[0] if sys.argv else "workbench", *(argv or [])])
    app.setApplicationDisplayName("Adversarial Workbench")
    set_identity(app)
    configure_plots()
    return app


def set_identity(app) -> None:
    """The window icon, and the installed desktop entry the windows belong to (on Wayland)."""
    from PySide6.QtGui import QIcon

    from workbench.core.resources import resource_path

    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(QIcon(str(resource_path("icons", f"{DESKTOP_FILE}.svg"))))


def configure_plots() -> None:
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="k", imageAxisOrder="row-major")

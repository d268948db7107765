"""Every registered lab opens alone for development (``python -m workbench.gui.labs.<lab>``),
with its declared panels docked around it."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from workbench.gui.labs import registered_labs
from workbench.gui.labs.standalone import run_lab_alone


@pytest.mark.parametrize("lab_class", registered_labs(), ids=lambda lab: lab.title)
def test_lab_opens_alone_with_its_panels(qtbot, monkeypatch, lab_class):
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)  # no event loop: look, then close
    assert run_lab_alone(lab_class, f"{lab_class.title} alone") == 0
    window = next(w for w in QApplication.topLevelWidgets()
                  if isinstance(w, QMainWindow) and w.windowTitle() == f"{lab_class.title} alone")
    try:
        lab = window.centralWidget()
        assert isinstance(lab, lab_class)
        names = {dock.objectName() for dock in window.findChildren(QDockWidget)}
        assert names == {spec.name for spec in lab.docks()}
    finally:
        window.close()
        window.deleteLater()

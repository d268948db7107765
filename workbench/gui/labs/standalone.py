"""Run one lab alone, for development: ``python -m workbench.gui.labs.<name>`` opens the lab in
a bare main window, on the built-in ``fashion-cnn`` and its samples, with the lab's panels
docked around it — every lab page can be worked on without the whole application."""
from __future__ import annotations

import sys
from typing import Callable

from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from workbench.gui.state import AppState
from workbench.gui.worker import TaskWorker


def run_lab_alone(lab_class: Callable[[AppState, TaskWorker], QWidget], title: str) -> int:
    """Open ``lab_class`` alone (see the module documentation); returns the event loop's exit code."""
    from workbench.core.datasets import open_data
    from workbench.core.loaders import load_model
    from workbench.core.source import ModelSource
    from workbench.gui.runtime import create_application

    app = create_application(sys.argv[1:])
    state, worker = AppState(), TaskWorker()
    model = load_model("fashion-cnn")
    images = open_data("samples:fashion-mnist", model.spec, model.labels)
    state.set_model(model, ModelSource("fashion-cnn", builtin=True))
    state.set_images(images, model.predict(images.images).numpy())
    window = QMainWindow()
    lab = lab_class(state, worker)
    window.setCentralWidget(lab)
    for spec in lab.docks():  # in their areas, without the window's layout and sizes
        dock = QDockWidget(spec.title, window)
        dock.setObjectName(spec.name)
        dock.setWidget(spec.widget)
        window.addDockWidget(spec.area, dock)
        dock.setHidden(spec.hidden)
    lab.message.connect(lambda text, kind: window.statusBar().showMessage(text, 8000))
    app.aboutToQuit.connect(worker.shutdown)
    window.setWindowTitle(title)
    window.resize(1400, 900)
    window.show()
    return app.exec()

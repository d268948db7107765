"""The main window: the lab switcher, dock panels, menus, status bar, loading and errors.

It opens with the built-in ``fashion-cnn`` and its samples loaded and the first image selected.
Tabs, docks and menus are built from the registered labs' declarations
(:mod:`workbench.gui.labs.base`); the window knows no lab by name. Panels are dock widgets
that can be moved, floated and tabbed; their layout, the recent files and the shared run
settings are kept with QSettings. Errors never leave the window: they appear in a message bar
and the status bar, and what was loaded before stays loaded. The parts live in
:mod:`workbench.gui.shell`, one concern per module.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.dialogs import MessageBar
from workbench.gui.labs import registered_labs
from workbench.gui.labs.base import LEFT, RIGHT, DockSpec
from workbench.gui.shell.docks import DockLayout
from workbench.gui.shell.drops import FileDrops
from workbench.gui.shell.loading import Loader
from workbench.gui.shell.menus import Menus
from workbench.gui.shell.recent import RecentFiles
from workbench.gui.shell.settings import LAYOUT_VERSION, restore_window, save_window
from workbench.gui.shell.status import RunStatusBar
from workbench.gui.state import AppState, ModelSource
from workbench.gui.widgets.gallery import Gallery
from workbench.gui.widgets.model_panel import ModelPanel
from workbench.gui.widgets.run_list import RunList
from workbench.gui.worker import TaskWorker

log = logging.getLogger(__name__)

CANVAS_SHARE, PRESENTATION_CANVAS_SHARE = 0.42, 0.34  # of a lab page's width, for its main view


class MainWindow(QMainWindow):
    """The workbench window. ``settings`` defaults to the user's QSettings; tests pass their own.
    ``model`` and ``data`` choose what opens first (default: ``fashion-cnn`` and its samples)."""

    def __init__(self, *, settings: QSettings | None = None, model: str | None = None, data: str | None = None,
                 device: str | None = None, restore_layout: bool = True) -> None:
        super().__init__()
        self.setObjectName("workbenchMainWindow")
        self.setWindowTitle("Adversarial Workbench")
        self.settings = settings if settings is not None else QSettings()
        self.state = AppState(self)
        self.worker = TaskWorker(self)
        self._normal_state = None  # the layout before presentation mode, while in it
        self._sized = False

        # central area: message bar above the lab switcher
        self.message_bar = MessageBar()
        self.labs_tabs = QTabWidget()
        self.labs_tabs.setObjectName("labSwitcher")
        self.labs_tabs.setDocumentMode(True)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.labs_tabs, 1)
        self.setCentralWidget(central)

        # the window's panels, then each lab's
        self.model_panel = ModelPanel(self.state)
        self.gallery = Gallery()
        self.gallery.setObjectName("gallery")
        self.run_list = RunList()
        self.run_list.setObjectName("runList")
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockNestingEnabled(True)
        self.layout_ = DockLayout(self)
        for spec in (DockSpec("modelDock", "Model", self.model_panel, LEFT, 0, size=0.18, stretch=0.27,
                              presentation_hidden=True),
                     DockSpec("galleryDock", "Images", self.gallery, LEFT, 10, stretch=0.6, presentation_size=0.13),
                     DockSpec("runsDock", "Runs", self.run_list, RIGHT, 100, stretch=0.2, presentation_hidden=True)):
            self.layout_.add(spec)
        self.docks: dict[str, QDockWidget] = self.layout_.docks
        self.run_status = RunStatusBar(self.statusBar())  # the current lab's run counters
        self.worker.statusChanged.connect(self.run_status.report)
        self.status_iteration, self.status_rate, self.status_elapsed, self.status_device = self.run_status.labels()

        self.labs = []
        for lab_class in registered_labs():
            lab = lab_class(self.state, self.worker, settings=self.settings)  # its settings in the window's store
            self.labs_tabs.addTab(lab, lab.title)
            self.labs.append(lab)
            for spec in lab.docks():
                self.layout_.add(spec, lab)
            lab.message.connect(self.show_message)
            lab.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
            lab.dockWanted.connect(lambda name, visible, lab=lab: lab is self.current_lab()
                                   and self.layout_.want(lab, name, visible))
        self.layout_.arrange()
        self.labs_tabs.currentChanged.connect(self._lab_switched)

        self.loader = Loader(self.state, self, self.settings, device=device, show_message=self.show_message,
                             show_error=self.show_error, remember=lambda *a: self.recent_files.remember(*a),
                             model_shown=lambda: self.model_panel._show_model(self.state.model),
                             notice=lambda text: self.statusBar().showMessage(text, 5000))
        self.menus = Menus(self, {
            "open_model": self.open_model_dialog, "open_images": self.loader.open_images_dialog,
            "open_folder": self.loader.open_folder_dialog, "quit": self.close, "presentation": self.set_presentation,
            "reset_layout": self.reset_layout, "run": self.run_current, "pause": self._toggle_pause,
            "stop": self.stop_current}, self.labs, self.docks.values())
        self.presentation_action, self.run_action = self.menus.presentation, self.menus.run
        self.pause_action, self.stop_action, self.recent_menu = self.menus.pause, self.menus.stop, self.menus.recent
        self.recent_files = RecentFiles(self.settings, self.recent_menu, open_model=self.load_model,
                                        open_data=self.open_data, show_error=self.show_error)
        self._bind()
        self.drops = FileDrops(self, lambda: self.state.busy, self.loader.open_paths)
        self.resize(1600, 1000)
        self._lab_switched(self.labs_tabs.currentIndex())
        self._size_docks()
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._layout_restored = restore_layout and restore_window(self, self.settings, self.state)
        self._lab_switched(self.labs_tabs.currentIndex())
        self.loader.load_initial(model, data)

    def _bind(self) -> None:
        state = self.state
        self.gallery.currentChanged.connect(state.set_current_index)
        state.currentIndexChanged.connect(lambda index: index >= 0 and self.gallery.set_current(index))
        state.imagesChanged.connect(lambda _images: self._fill_gallery())
        state.predictionsChanged.connect(lambda _p: self._fill_gallery())
        self.gallery.filesDropped.connect(self.loader.open_paths)
        self.model_panel.builtinRequested.connect(lambda model_id: self.load_model(ModelSource(model_id, builtin=True)))
        self.model_panel.openModelRequested.connect(self.open_model_dialog)
        self.run_list.runSelected.connect(state.set_selected_run)
        self.run_list.printableRequested.connect(lambda run_id: self.current_lab() and self.current_lab().print_run(run_id))
        state.runAdded.connect(self._run_added)
        state.selectedRunChanged.connect(self._run_selected)
        state.busyChanged.connect(self._busy_changed)
        state.presentationChanged.connect(self._presentation_changed)
        state.modelChanged.connect(lambda _model: self.run_status.clear())  # its runs are gone
        state.runsCleared.connect(self.run_list.clear_runs)
        self.worker.pausedChanged.connect(self.menus.set_paused)
        self._busy_changed(False)

    # -- loading (gui/shell/loading.py) and recent files (gui/shell/recent.py) ---------------------------
    def load_model(self, source: ModelSource, *, data: str | None = None, remember: bool = True) -> bool:
        return self.loader.load_model(source, data=data, remember=remember)

    def open_data(self, source: str, *, remember: bool = True) -> bool:
        return self.loader.open_data(source, remember=remember)

    def open_image_files(self, paths: Sequence[str]) -> bool:
        return self.loader.open_image_files(paths)

    def open_paths(self, paths: Sequence[str]) -> None:
        self.loader.open_paths(paths)

    def open_model_dialog(self, path: str | None = None) -> bool:
        return self.loader.open_model_dialog(path)

    def default_data(self) -> str:
        return self.loader.default_data()

    def recent(self) -> list[dict]:
        return self.recent_files.entries()

    # -- running -------------------------------------------------------------------------------------
    def current_lab(self):
        widget = self.labs_tabs.currentWidget()
        return widget if widget in self.labs else None

    def run_current(self) -> bool:
        lab = self.current_lab()
        return bool(lab is not None and lab.run())

    def stop_current(self) -> None:
        lab = self.current_lab()
        if lab is not None:
            lab.stop()

    def _toggle_pause(self, checked: bool) -> None:
        lab = self.current_lab()
        if lab is not None:
            lab.set_paused(checked)

    # -- state reactions --------------------------------------------------------------------------
    def _fill_gallery(self) -> None:
        images = self.state.images
        if images is None:
            self.gallery.set_items(np.zeros((0, 1, 1, 1), np.float32), [], None)
            return
        names = list(images.class_names)
        labels = images.labels.numpy()
        true_labels = [names[i] if 0 <= i < len(names) else None for i in labels]
        predictions, model, predicted = self.state.predictions, self.state.model, None
        if predictions is not None and len(predictions) == len(labels) and model is not None:
            best = predictions.argmax(axis=1)
            predicted = [(model.labels[int(k)], float(predictions[i, k])) for i, k in enumerate(best)]
        self.gallery.set_items(images.images.numpy(), true_labels, predicted)
        if self.state.current_index >= 0:
            self.gallery.set_current(self.state.current_index)

    def _run_added(self, run_id: int) -> None:
        run = self.state.run(run_id)
        if run is not None:
            self.run_list.add_run(run.title, run_id, success=run.success)

    def _run_selected(self, run_id: int) -> None:
        if run_id > 0:
            self.run_list.select_run(run_id)
        else:
            self.run_list.clearSelection()
            self.run_list.setCurrentItem(None)

    def _busy_changed(self, busy: bool) -> None:
        self.menus.set_busy(busy)
        if busy:  # a new run: the previous run's notice is old news
            if self.message_bar.kind != "error":
                self.message_bar.dismiss()
            self.statusBar().clearMessage()
        self.gallery.setAcceptDrops(not busy)

    def _lab_switched(self, index: int) -> None:
        """The current lab's docks, menu entries and run counters."""
        lab = self.labs[index] if 0 <= index < len(self.labs) else None
        self.run_status.set_current(lab)
        self.menus.switch_to(lab)
        self.layout_.switch_to(lab)

    # -- messages ------------------------------------------------------------------------------------
    def show_message(self, text: str, kind: str = "info") -> None:
        """A message in the message bar and the status bar ("error", "warning" or "info")."""
        self.message_bar.show_message(text, kind)
        self.statusBar().showMessage(text, 10000 if kind != "error" else 20000)

    def show_error(self, text: str, error: BaseException | None = None) -> None:
        if error is not None and not isinstance(error, WorkbenchError):
            log.warning("%s", text, exc_info=error)
        self.show_message(text, "error")

    # -- presentation mode and layout --------------------------------------------------------------
    def set_presentation(self, enabled: bool) -> None:
        self.state.set_presentation(bool(enabled))

    def _presentation_changed(self, enabled: bool) -> None:
        if enabled:
            with self._on_first_lab():  # the layout as the window opens, whatever lab is shown
                self._normal_state = self.saveState(LAYOUT_VERSION)
        theme.apply_presentation(enabled)
        self.menus.set_presentation(enabled)
        font = theme.font()
        for label in self.run_status.labels():
            label.setFont(font)
        self.labs_tabs.setFont(theme.font(theme.style().title_pt, bold=True))
        for dock in self.docks.values():
            dock.setFont(theme.font(theme.style().font_pt, bold=enabled))
            dock.widget().setFont(font)
        self.message_bar.label.setFont(font)
        if enabled:
            self.layout_.hide_for_presentation()
            self._size_docks(presentation=True)
        elif self._normal_state is not None:
            with self._on_first_lab():  # then the current lab hides what it hides again
                self.restoreState(self._normal_state, LAYOUT_VERSION)
            self._normal_state = None
            self._lab_switched(self.labs_tabs.currentIndex())
        if self.state.current_index >= 0:
            self.gallery.set_current(self.state.current_index)  # keep it in sight

    @contextmanager
    def _on_first_lab(self) -> Iterator[None]:
        """Show the first lab meanwhile: the other labs hide its panels (and lend their room),
        and a layout saved or restored there would keep them hidden."""
        current = self.labs_tabs.currentIndex()
        self.labs_tabs.setCurrentIndex(0)
        try:
            yield
        finally:
            self.labs_tabs.setCurrentIndex(current)

    def _size_docks(self, presentation: bool = False) -> None:
        """The declared proportions of the window's and the current lab's panels."""
        self.layout_.size(self.current_lab(), presentation)
        QApplication.processEvents()  # let the docks take their sizes first
        for lab in self.labs:
            lab.set_canvas_share(PRESENTATION_CANVAS_SHARE if presentation else CANVAS_SHARE)

    def reset_layout(self) -> None:
        if self.state.presentation:
            self.set_presentation(False)
        self.layout_.reset()
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._lab_switched(self.labs_tabs.currentIndex())
        self._size_docks()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._layout_restored and not self._sized:
            self._sized = True
            self._size_docks()  # proportions need the real window size

    # -- settings and closing (gui/shell/settings.py) ---------------------------------------------------
    def save_settings(self) -> None:
        # The window opens on the first lab: save the layout as that lab shows it (another lab's
        # switch hides the first lab's panels, which would come back hidden).
        self.labs_tabs.setCurrentIndex(0)
        layout = self._normal_state if self._normal_state is not None else self.saveState(LAYOUT_VERSION)
        save_window(self, self.settings, self.state, layout)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Save the layout and settings; stop a running task and wait for its thread."""
        try:
            self.save_settings()
        except Exception:  # noqa: BLE001 - closing must not fail
            log.warning("could not save the settings", exc_info=True)
        if self.worker.is_running():
            self.worker.shutdown()
            self.state.set_busy(False)
        if self.state.presentation:
            theme.apply_presentation(False)
        super().closeEvent(event)

"""The main window: lab switcher, dock panels, menus, status bar, loading and errors.

It opens with the built-in ``fashion-cnn`` and its samples loaded and the first image selected.
Panels are dock widgets (model, gallery, runs; and each lab's attack panel and live views) that
can be moved, floated and tabbed; their layout, the recent files and the attack settings are
kept with QSettings. Errors never leave the window: they appear in a message bar and the
status bar, and what was loaded before stays loaded.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.mask_policy import effective_mask, mask_rectangle
from workbench.gui import theme
from workbench.gui.dialogs import IMAGE_FILE_FILTER, MODEL_FILE_FILTER, MessageBar, OpenModelDialog, PrintableDialog
from workbench.gui.labs import registered_labs
from workbench.gui.shell.model_switch import check_image_source, default_data_for, images_after_switch, input_mismatch
from workbench.gui.shell.status import RunStatusBar
from workbench.gui.state import AppState, ModelSource
from workbench.gui.widgets.gallery import Gallery
from workbench.gui.widgets.model_panel import ModelPanel
from workbench.gui.widgets.run_list import RunList
from workbench.gui.worker import TaskWorker, describe_error

log = logging.getLogger(__name__)

DEFAULT_MODEL = "fashion-cnn"
IMAGE_LIMIT = 500  # images opened at once (the gallery and clean predictions stay quick)
RECENT_LIMIT = 10
LAYOUT_VERSION = 1
MODEL_SUFFIXES = {".pt", ".pt2", ".pth", ".ts", ".jit", ".safetensors", ".bin", ".ckpt"}


class MainWindow(QMainWindow):
    """The workbench window. ``settings`` defaults to the user's QSettings; tests pass their own.
    ``model`` and ``data`` choose what opens first (default: ``fashion-cnn`` and its samples)."""

    def __init__(
        self,
        *,
        settings: QSettings | None = None,
        model: str | None = None,
        data: str | None = None,
        device: str | None = None,
        restore_layout: bool = True,
    ) -> None:
        super().__init__()
        self.setObjectName("workbenchMainWindow")
        self.setWindowTitle("Adversarial Workbench")
        self.settings = settings if settings is not None else QSettings()
        self.device = device
        self.state = AppState(self)
        self.worker = TaskWorker(self)
        self._closing = False

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

        # shared panels
        self.model_panel = ModelPanel(self.state)
        self.gallery = Gallery()
        self.gallery.setObjectName("gallery")
        self.run_list = RunList()
        self.run_list.setObjectName("runList")
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QDockWidget] = {}
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self._add_dock("modelDock", "Model", self.model_panel, left)
        self._add_dock("galleryDock", "Images", self.gallery, left)
        runs_dock = self._add_dock("runsDock", "Runs", self.run_list, Qt.DockWidgetArea.RightDockWidgetArea)
        self.run_status = RunStatusBar(self.statusBar())  # the current lab's run counters
        self.worker.statusChanged.connect(self.run_status.report)
        self.status_iteration, self.status_rate, self.status_elapsed, self.status_device = self.run_status.labels()

        # labs
        self.labs = []
        self._lab_docks: dict[int, list[QDockWidget]] = {}
        self._hidden_for_lab: list[QDockWidget] = []
        self._lab_actions: list[tuple[QAction, Any]] = []  # (menu action, the lab's LabAction)
        for lab_class in registered_labs():
            lab = lab_class(self.state, self.worker, settings=self.settings)  # its settings in the window's store
            index = self.labs_tabs.addTab(lab, lab.title)
            self.labs.append(lab)
            self._lab_docks[index] = [self._add_dock(*spec) for spec in lab.docks()]
            if "attackDock" in self.docks:  # the run list goes under the attack panel
                self.splitDockWidget(self.docks["attackDock"], runs_dock, Qt.Orientation.Vertical)
            lab.message.connect(self.show_message)
            lab.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
            lab.dockWanted.connect(lambda name, visible, lab=lab: self._want_dock(lab, name, visible))
        self.labs_tabs.currentChanged.connect(self._lab_switched)
        self._arrange_default_docks()

        self._build_actions()
        self._build_menus()
        self._bind()
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._layout_restored = False
        if restore_layout:
            self._layout_restored = self._restore_settings()
        self._lab_switched(self.labs_tabs.currentIndex())
        self._load_initial(model, data)

    # -- building ------------------------------------------------------------------------------------
    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _arrange_default_docks(self) -> None:
        """The default layout: model and images on the left; attack, top classes and runs on
        the right; curves and the decision boundary under the lab page."""
        docks = self.docks
        if "attackDock" in docks:
            self.splitDockWidget(docks["attackDock"], docks["topkDock"], Qt.Orientation.Vertical)
            self.splitDockWidget(docks["topkDock"], docks["runsDock"], Qt.Orientation.Vertical)
        if "curvesDock" in docks:
            self.splitDockWidget(docks["curvesDock"], docks["boundaryDock"], Qt.Orientation.Horizontal)
        # Panels that the lab shows when they apply (no tabs: Qt 6.11 leaves a stray copy of the
        # tab bar of a second tabbed group on screen): the attacker's view under the top
        # classes, and the batch results with their histogram of queries in place of the curves
        # and the decision boundary.
        if "oracleDock" in docks:
            self.splitDockWidget(docks["topkDock"], docks["oracleDock"], Qt.Orientation.Vertical)
        if "batchDock" in docks:
            self.splitDockWidget(docks["boundaryDock"], docks["batchDock"], Qt.Orientation.Horizontal)
            self.splitDockWidget(docks["batchDock"], docks["queryDock"], Qt.Orientation.Horizontal)
        for name in ("oracleDock", "batchDock", "queryDock"):
            if name in docks:
                docks[name].hide()
        self._size_default_docks()

    def _size_default_docks(self) -> None:
        docks = self.docks
        width = max(self.width(), 1200)
        height = max(self.height(), 800)
        self.resizeDocks([docks["modelDock"]], [int(width * 0.18)], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["modelDock"], docks["galleryDock"]], [int(height * 0.27), int(height * 0.6)], Qt.Orientation.Vertical)
        if "attackDock" in docks:
            self.resizeDocks([docks["attackDock"]], [int(width * 0.2)], Qt.Orientation.Horizontal)
            self.resizeDocks(
                [docks["attackDock"], docks["topkDock"], docks["runsDock"]],
                [int(height * 0.45), int(height * 0.25), int(height * 0.2)], Qt.Orientation.Vertical,
            )
        if "curvesDock" in docks:
            self.resizeDocks([docks["curvesDock"], docks["boundaryDock"]], [55, 45], Qt.Orientation.Horizontal)
            self.resizeDocks([docks["curvesDock"]], [int(height * 0.45)], Qt.Orientation.Vertical)
        self._split_labs(0.42)

    def _split_labs(self, canvas_share: float) -> None:
        QApplication.processEvents()  # let the docks take their sizes first
        for lab in self.labs:
            lab.set_canvas_share(canvas_share)

    def _action(self, text: str, slot, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        self.open_model_action = self._action("Open &model…", self.open_model_dialog, QKeySequence.StandardKey.Open,
                                              "Open a TorchScript, torch.export or weights file")
        self.open_images_action = self._action("Open &images…", self.open_images_dialog, "Ctrl+I", "Open image files")
        self.open_folder_action = self._action("Open &folder…", self.open_folder_dialog, "Ctrl+Shift+O",
                                               "Open a folder of images (one sub-folder per class)")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.presentation_action = self._action("&Presentation mode", self.set_presentation, "F11",
                                                "Large fonts, thick lines, high contrast; advanced controls hidden")
        self.presentation_action.setCheckable(True)
        self.reset_layout_action = self._action("&Reset layout", self.reset_layout, None, "Put every panel back in its place")
        self.run_action = self._action("&Run", self.run_current, ["Ctrl+R", "F5"], "Run the attack on the current image")
        self.pause_action = self._action("&Pause", self._toggle_pause, "F6", "Pause or resume the running attack")
        self.pause_action.setCheckable(True)
        self.stop_action = self._action("&Stop", self.stop_current, "Esc", "Stop the running attack")

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.open_model_action, self.open_images_action, self.open_folder_action):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("&Recent")
        file_menu.addSeparator()
        lab_file = file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.presentation_action)
        view_menu.addAction(self.reset_layout_action)
        view_menu.addSeparator()
        panels = view_menu.addMenu("Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        run_menu = menu.addMenu("&Run")
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.pause_action)
        run_menu.addAction(self.stop_action)
        run_menu.addSeparator()
        menus = {"File": (file_menu, lab_file), "Run": (run_menu, None), "View": (view_menu, None)}
        for lab in self.labs:  # each lab's own entries, present while it is current
            for declared in lab.actions():
                action = self._action(declared.text, declared.slot, declared.shortcut, declared.tip)
                action.setProperty("lab", id(lab))
                where, before = menus[declared.menu]
                where.insertAction(before, action) if before is not None else where.addAction(action)
                self._lab_actions.append((action, declared))
        self._rebuild_recent_menu()

    def _bind(self) -> None:
        state = self.state
        self.gallery.currentChanged.connect(state.set_current_index)
        state.currentIndexChanged.connect(self._current_changed)
        state.imagesChanged.connect(lambda _images: self._fill_gallery())
        state.predictionsChanged.connect(lambda _p: self._fill_gallery())
        self.gallery.filesDropped.connect(self.open_paths)
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
        self.worker.pausedChanged.connect(self._paused_changed)
        self._busy_changed(False)

    # -- initial content ---------------------------------------------------------------------------
    def _load_initial(self, model: str | None, data: str | None) -> None:
        source = model or DEFAULT_MODEL
        builtin = not Path(source).is_file()
        if self.load_model(ModelSource(source, builtin=builtin), data=data or None, remember=False):
            if data is None and self.state.images is None:
                self.open_data(self.default_data(), remember=False)
        elif model is not None and model != DEFAULT_MODEL:
            self.load_model(ModelSource(DEFAULT_MODEL, builtin=True), remember=False)

    def default_data(self) -> str:
        """The sample set that goes with the current model (its card's data set)."""
        return default_data_for(self.state.model) or "samples:fashion-mnist"

    # -- loading -------------------------------------------------------------------------------------
    def load_model(self, source: ModelSource, *, data: str | None = None, remember: bool = True) -> bool:
        """Load a model; on failure show why and keep the previous model and images. The images
        shown are kept, converted to the new model's input, unless they were the previous model's
        own samples and the new model has its own (:mod:`workbench.gui.shell.model_switch`)."""
        if self.state.busy:
            self.show_error("Stop the running attack before opening another model.")
            self.model_panel._show_model(self.state.model)
            return False
        previous_model, previous_images = self.state.model, self.state.images
        try:
            with _busy_cursor():
                model = source.load(device=self.device)
        except Exception as error:  # noqa: BLE001 - shown to the user, never raised
            shape = (source.channels or 3, *source.input_size) if source.input_size and not source.builtin else None
            why = (shape and input_mismatch(source.source, shape, source.trust_pickle)) or describe_error(error)
            self.show_error(f"Could not open the model: {why}", error)
            self.model_panel._show_model(self.state.model)  # the picker goes back
            return False
        if data is None:  # the images shown, converted, unless the new model has its own samples
            data = images_after_switch(previous_model, previous_images, model)
        images = None
        if data is not None:
            try:
                images = self._open_image_set(data, model)
            except Exception as error:  # noqa: BLE001
                if previous_images is not None and data != previous_images.source:
                    data = previous_images.source
                    try:
                        images = self._open_image_set(data, model)
                    except Exception:  # noqa: BLE001
                        images = None
                if images is None:
                    self.show_error(f"Opened the model, but not its images: {describe_error(error)}", error)
        self.state.set_model(model, source)
        if images is not None:
            self._set_images(images, model)
        elif previous_images is not None:
            self.state.set_images(None)
            if data is None:  # nothing to convert (an error says so otherwise)
                self.show_message(f"Open images for {model.model_id}: File ▸ Open images… or Open folder…, or "
                                  "drop them on the Images panel.", "info")
        if remember and not source.builtin:
            self._remember("model", source.source, source)
        self.statusBar().showMessage(f"Model {model.model_id} on {model.device}", 5000)
        return True

    def open_data(self, source: str, *, remember: bool = True) -> bool:
        """Open images (``samples:<set>``, a folder, an image or IDX file) for the current model;
        on failure show why and keep the previous images."""
        model = self.state.model
        if model is None:
            self.show_error("Load a model before opening images.")
            return False
        if self.state.busy:
            self.show_error("Stop the running attack before opening other images.")
            return False
        try:
            images = self._open_image_set(source, model)
        except Exception as error:  # noqa: BLE001
            self.show_error(f"Could not open the images: {describe_error(error)}", error)
            return False
        self._set_images(images, model)
        if remember and not source.startswith("samples:"):
            self._remember("folder" if Path(source).is_dir() else "images", source)
        return True

    def open_image_files(self, paths: Sequence[str]) -> bool:
        """Open several image files as one set (corrupt ones are skipped and listed)."""
        from workbench.core.datasets import ImageSet

        model = self.state.model
        if model is None:
            self.show_error("Load a model before opening images.")
            return False
        if self.state.busy:
            self.show_error("Stop the running attack before opening other images.")
            return False
        paths = [str(p) for p in paths]
        if len(paths) == 1:
            return self.open_data(paths[0])
        sets, skipped = [], []
        with _busy_cursor():
            for path in paths:
                try:
                    sets.append(self._open_image_set(path, model, predict=False))
                except Exception as error:  # noqa: BLE001
                    skipped.append((Path(path).name, describe_error(error)))
        if not sets:
            reasons = "; ".join(f"{name}: {why}" for name, why in skipped[:3])
            self.show_error(f"Could not open the images: none could be read ({reasons}).")
            return False
        import torch

        parent = str(Path(paths[0]).parent)
        combined = ImageSet(
            images=torch.cat([s.images for s in sets]), labels=torch.cat([s.labels for s in sets]),
            names=[Path(s.source).name for s in sets], class_names=list(model.labels), source=parent,
            skipped=skipped + [item for s in sets for item in s.skipped],
        )
        self._set_images(combined, model)
        for path in paths:
            self._remember("images", path)
        return True

    def _open_image_set(self, source: str, model, predict: bool = True):
        from workbench.core.datasets import open_data

        with _busy_cursor():
            return open_data(check_image_source(source), model.spec, model.labels, limit=IMAGE_LIMIT)

    def _set_images(self, images, model) -> None:
        with _busy_cursor():
            predictions = model.predict(images.images).numpy()
        self.state.set_images(images, predictions, current=_first_correct(images, predictions))
        if images.skipped:
            names = ", ".join(f"{name} ({why})" for name, why in images.skipped[:3])
            more = f" and {len(images.skipped) - 3} more" if len(images.skipped) > 3 else ""
            self.show_message(f"Skipped {len(images.skipped)} file(s) that could not be read: {names}{more}.", "warning")

    def open_paths(self, paths: Sequence[str]) -> None:
        """Open dropped files or folders: a model file opens the model dialog, a folder opens
        as images, image files open together."""
        paths = [str(p) for p in paths if p]
        if not paths:
            return
        models = [p for p in paths if Path(p).suffix.lower() in MODEL_SUFFIXES]
        if models:
            self.open_model_dialog(models[0])
            return
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:
            self.open_data(folders[0])
            return
        self.open_image_files(paths)

    # -- file dialogs ------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        return str(self.settings.value("paths/last", str(Path.home())))

    def _note_dir(self, path: str) -> None:
        self.settings.setValue("paths/last", str(Path(path).parent if Path(path).is_file() else path))

    def open_model_dialog(self, path: str | None = None) -> bool:
        if path is None or isinstance(path, bool):
            path, _ = QFileDialog.getOpenFileName(self, "Open model", self._start_dir(), MODEL_FILE_FILTER)
            if not path:
                return False
        self._note_dir(path)
        dialog = OpenModelDialog(path, self)
        if dialog.exec() != OpenModelDialog.DialogCode.Accepted:
            return False
        return self.load_model(dialog.model_source())

    def open_images_dialog(self) -> bool:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", self._start_dir(), IMAGE_FILE_FILTER)
        if not paths:
            return False
        self._note_dir(paths[0])
        return self.open_image_files(paths)

    def open_folder_dialog(self) -> bool:
        folder = QFileDialog.getExistingDirectory(self, "Open folder of images", self._start_dir())
        if not folder:
            return False
        self._note_dir(folder)
        return self.open_data(folder)

    # -- running -------------------------------------------------------------------------------------
    def current_lab(self):
        widget = self.labs_tabs.currentWidget()
        return widget if widget in self.labs else None

    def run_current(self) -> bool:
        lab = self.current_lab()
        return bool(lab is not None and lab.run())

    def _want_dock(self, lab, name: str, visible: bool) -> None:
        """A lab shows or hides one of its panels while it is current (the user may change it
        again in View ▸ Panels)."""
        dock = self.docks.get(name)
        if lab is not self.current_lab() or dock is None or dock.isFloating() or dock.isHidden() != visible:
            return
        dock.setVisible(visible)
        if visible and name in ("batchDock", "queryDock", "oracleDock"):
            QTimer.singleShot(0, self._size_shown_docks)  # once the layout has taken them in

    def _size_shown_docks(self) -> None:
        """Room for the panels a lab just showed: the batch table twice as wide as its histogram,
        the attacker's view taller than the run list."""
        docks = self.docks
        if not docks["oracleDock"].isHidden():
            total = docks["oracleDock"].height() + docks["runsDock"].height()
            self.resizeDocks([docks["oracleDock"], docks["runsDock"]], [int(total * 0.7), int(total * 0.3)],
                             Qt.Orientation.Vertical)
        if not docks["batchDock"].isHidden() and not docks["queryDock"].isHidden():
            total = docks["batchDock"].width() + docks["queryDock"].width()
            self.resizeDocks([docks["batchDock"], docks["queryDock"]], [int(total * 0.68), int(total * 0.32)],
                             Qt.Orientation.Horizontal)

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
        predictions = self.state.predictions
        model = self.state.model
        predicted = None
        if predictions is not None and len(predictions) == len(labels) and model is not None:
            best = predictions.argmax(axis=1)
            predicted = [(model.labels[int(k)], float(predictions[i, k])) for i, k in enumerate(best)]
        self.gallery.set_items(images.images.numpy(), true_labels, predicted)
        if self.state.current_index >= 0:
            self.gallery.set_current(self.state.current_index)

    def _current_changed(self, index: int) -> None:
        if index >= 0:
            self.gallery.set_current(index)

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
        self.run_action.setEnabled(not busy)
        for action, lab_action in self._lab_actions:
            if lab_action.idle_only:
                action.setEnabled(not busy)
        self.pause_action.setEnabled(busy)
        self.stop_action.setEnabled(busy)
        for action in (self.open_model_action, self.open_images_action, self.open_folder_action, self.recent_menu.menuAction()):
            action.setEnabled(not busy)
        if not busy:
            self.pause_action.setChecked(False)
        else:  # a new run: the previous run's notice is old news
            if self.message_bar.kind != "error":
                self.message_bar.dismiss()
            self.statusBar().clearMessage()
        self.gallery.setAcceptDrops(not busy)

    def _paused_changed(self, paused: bool) -> None:
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        self.pause_action.setText("&Resume" if paused else "&Pause")

    def _lab_switched(self, index: int) -> None:
        """Show the current lab's docks (except those the user closed), hide the others', and
        the current lab's run counters."""
        lab = self.labs[index] if 0 <= index < len(self.labs) else None
        self.run_status.set_current(lab)
        for action, _declared in self._lab_actions:
            action.setVisible(action.property("lab") == id(lab))
        for dock in self._hidden_for_lab:  # the window's panels that the previous lab had no use for
            dock.show()
        self._hidden_for_lab = []
        for name in lab.hides_shell_docks if lab is not None else ():
            dock = self.docks.get(name)
            if dock is not None and dock.isVisible() and not dock.isFloating():
                dock.hide()
                self._hidden_for_lab.append(dock)
        for lab_index, docks in self._lab_docks.items():
            for dock in docks:
                if lab_index == index:
                    dock.toggleViewAction().setEnabled(True)
                    if dock.property("hiddenBySwitch"):
                        dock.setProperty("hiddenBySwitch", False)
                        dock.show()
                elif not dock.isHidden():
                    dock.setProperty("hiddenBySwitch", True)
                    dock.hide()
                    dock.toggleViewAction().setEnabled(False)

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

    # Panels hidden in presentation mode: details that nobody at the back of a hall can read.
    PRESENTATION_HIDDEN = ("modelDock", "runsDock")

    def _presentation_changed(self, enabled: bool) -> None:
        if enabled:
            with self._on_first_lab():  # the layout as the window opens, whatever lab is shown
                self._normal_state = self.saveState(LAYOUT_VERSION)
        theme.apply_presentation(enabled)
        self.presentation_action.blockSignals(True)
        self.presentation_action.setChecked(enabled)
        self.presentation_action.blockSignals(False)
        font = theme.font()
        for label in self.run_status.labels():
            label.setFont(font)
        self.labs_tabs.setFont(theme.font(theme.style().title_pt, bold=True))
        for dock in self.docks.values():
            dock.setFont(theme.font(theme.style().font_pt, bold=enabled))
            dock.widget().setFont(font)
        self.message_bar.label.setFont(font)
        if enabled:
            for name in self.PRESENTATION_HIDDEN:
                self.docks[name].hide()
            self._size_presentation_docks()
        elif getattr(self, "_normal_state", None) is not None:
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

    def _size_presentation_docks(self) -> None:
        docks = self.docks
        width, height = max(self.width(), 1200), max(self.height(), 700)
        self.resizeDocks([docks["galleryDock"]], [int(width * 0.13)], Qt.Orientation.Horizontal)
        if "attackDock" in docks:
            self.resizeDocks([docks["attackDock"]], [int(width * 0.23)], Qt.Orientation.Horizontal)
            self.resizeDocks([docks["attackDock"], docks["topkDock"]], [int(height * 0.55), int(height * 0.4)], Qt.Orientation.Vertical)
        if "curvesDock" in docks:
            self.resizeDocks([docks["curvesDock"], docks["boundaryDock"]], [58, 42], Qt.Orientation.Horizontal)
            self.resizeDocks([docks["curvesDock"]], [int(height * 0.5)], Qt.Orientation.Vertical)
        self._split_labs(0.34)

    def reset_layout(self) -> None:
        if self.state.presentation:
            self.set_presentation(False)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.setProperty("hiddenBySwitch", False)
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self._size_default_docks()
        self._lab_switched(self.labs_tabs.currentIndex())

    # -- settings --------------------------------------------------------------------------------
    def _restore_settings(self) -> bool:
        """Restore geometry, layout and attack settings; True if a saved layout was restored."""
        settings = self.settings
        restored = False
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        layout = settings.value("window/state")
        if isinstance(layout, QByteArray) and not layout.isEmpty():
            restored = bool(self.restoreState(layout, LAYOUT_VERSION))
        attack = settings.value("attack/id")
        if isinstance(attack, str) and attack:
            from workbench.attacks import ATTACKS

            if attack in ATTACKS:
                stored = _json(settings.value(f"attack/params/{attack}"))
                if isinstance(stored, dict):
                    self.state.set_attack_params(stored, attack)
                self.state.set_attack(attack)
        oracle = _json(settings.value("attack/oracle"))
        if isinstance(oracle, dict):
            self.state.set_oracle_params(oracle)
        seed = settings.value("attack/seed")
        try:
            if seed is not None:
                self.state.set_seed(int(seed))
        except (TypeError, ValueError):
            pass
        return restored

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._layout_restored and not getattr(self, "_sized", False):
            self._sized = True
            self._size_default_docks()  # proportions need the real window size

    def save_settings(self) -> None:
        settings = self.settings
        settings.setValue("window/geometry", self.saveGeometry())
        # The window opens on the first lab: save the layout as that lab shows it (another lab's
        # switch hides the first lab's panels, which would come back hidden).
        self.labs_tabs.setCurrentIndex(0)
        normal = getattr(self, "_normal_state", None)  # in presentation mode: the layout before it
        settings.setValue("window/state", normal if normal is not None else self.saveState(LAYOUT_VERSION))
        if self.state.attack_id:
            settings.setValue("attack/id", self.state.attack_id)
            settings.setValue(f"attack/params/{self.state.attack_id}", json.dumps(self.state.attack_params()))
        settings.setValue("attack/seed", self.state.seed)
        settings.setValue("attack/oracle", json.dumps(self.state.oracle_params))
        settings.sync()

    def recent(self) -> list[dict]:
        items = _json(self.settings.value("recent"))
        return [item for item in items if isinstance(item, dict) and "path" in item] if isinstance(items, list) else []

    def _remember(self, kind: str, path: str, source: ModelSource | None = None) -> None:
        entry: dict[str, Any] = {"kind": kind, "path": str(path)}
        if source is not None:
            entry["source"] = {
                "arch": source.arch, "input_size": list(source.input_size) if source.input_size else None,
                "channels": source.channels, "mean": list(source.mean) if source.mean else None,
                "std": list(source.std) if source.std else None, "labels_file": source.labels_file,
            }
        items = [item for item in self.recent() if not (item["path"] == entry["path"] and item.get("kind") == kind)]
        items.insert(0, entry)
        self.settings.setValue("recent", json.dumps(items[:RECENT_LIMIT]))
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent()
        for item in items:
            label = {"model": "Model", "folder": "Folder", "images": "Image"}.get(item.get("kind"), "File")
            action = self.recent_menu.addAction(f"{label}: {item['path']}")
            action.triggered.connect(lambda _checked=False, entry=item: self._open_recent(entry))
        if not items:
            empty = self.recent_menu.addAction("(nothing opened yet)")
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.remove("recent")
        self._rebuild_recent_menu()

    def _open_recent(self, entry: dict) -> None:
        path, kind = entry["path"], entry.get("kind")
        if not Path(path).exists():
            self.show_error(f"{path} no longer exists.")
            return
        if kind == "model":
            extra = entry.get("source") or {}
            size = extra.get("input_size")
            source = ModelSource(
                path, arch=extra.get("arch"), input_size=tuple(size) if size else None,
                channels=extra.get("channels"), mean=tuple(extra["mean"]) if extra.get("mean") else None,
                std=tuple(extra["std"]) if extra.get("std") else None, labels_file=extra.get("labels_file"),
            )
            self.load_model(source)
        else:
            self.open_data(path)

    # -- drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls() and not self.state.busy and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        event.acceptProposedAction()
        # after the drop returns, so that the source application is not kept waiting
        QTimer.singleShot(0, lambda: self.open_paths(paths))

    # -- closing ------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Save the layout and settings; stop a running task and wait for its thread."""
        self._closing = True
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


# -- helpers -------------------------------------------------------------------------------------------


def _first_correct(images, predictions: np.ndarray | None) -> int:
    """The first image the model classifies correctly (a good one to attack), else 0."""
    if predictions is None or len(predictions) == 0:
        return 0
    labels = images.labels.numpy()
    correct = np.flatnonzero((labels >= 0) & (predictions.argmax(axis=1) == labels))
    return int(correct[0]) if correct.size else 0


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class _busy_cursor:
    """Shows the wait cursor while loading (a few hundred milliseconds at most)."""

    def __enter__(self):
        app = QApplication.instance()
        if app is not None:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        return self

    def __exit__(self, *exc) -> None:
        if QApplication.instance() is not None:
            QApplication.restoreOverrideCursor()

"""The window's actions and menus: File (open, recent, the current lab's files, quit), View
(presentation, layout, panels) and Run (run, pause, stop, the current lab's runs), with each
lab's declared :class:`~workbench.gui.labs.base.LabAction` entries present only while that lab
is current. Actions live on the window, so that their shortcuts work with the menu bar hidden."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow


def make_action(window: QMainWindow, text: str, slot: Callable, shortcut: Any = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even while the menu bar is hidden
    return action


class Menus:
    """The window's actions (``open_model``, ``open_images``, ``open_folder``, ``quit``,
    ``presentation``, ``reset_layout``, ``run``, ``pause``, ``stop``), its menus, the Recent
    menu (``recent``) and the labs' entries. ``slots`` maps each action's name to its slot."""

    def __init__(self, window: QMainWindow, slots: dict[str, Callable], labs: Iterable, docks: Iterable[QDockWidget]) -> None:
        def act(name, text, shortcut=None, tip=""):
            return make_action(window, text, slots[name], shortcut, tip)

        self.open_model = act("open_model", "Open &model…", QKeySequence.StandardKey.Open,
                              "Open a TorchScript, torch.export or weights file")
        self.open_images = act("open_images", "Open &images…", "Ctrl+I", "Open image files")
        self.open_folder = act("open_folder", "Open &folder…", "Ctrl+Shift+O", "Open a folder of images (one sub-folder per class)")
        self.quit = act("quit", "&Quit", QKeySequence.StandardKey.Quit)
        self.presentation = act("presentation", "&Presentation mode", "F11",
                                "Large fonts, thick lines, high contrast; advanced controls hidden")
        self.presentation.setCheckable(True)
        self.reset_layout = act("reset_layout", "&Reset layout", None, "Put every panel back in its place")
        self.run = act("run", "&Run", ["Ctrl+R", "F5"], "Run the attack on the current image")
        self.pause = act("pause", "&Pause", "F6", "Pause or resume the running attack")
        self.pause.setCheckable(True)
        self.stop = act("stop", "&Stop", "Esc", "Stop the running attack")

        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.open_model, self.open_images, self.open_folder):
            file_menu.addAction(action)
        self.recent = file_menu.addMenu("&Recent")
        file_menu.addSeparator()
        lab_file = file_menu.addSeparator()
        file_menu.addAction(self.quit)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.presentation)
        view_menu.addAction(self.reset_layout)
        view_menu.addSeparator()
        panels = view_menu.addMenu("Panels")
        for dock in docks:
            panels.addAction(dock.toggleViewAction())
        run_menu = bar.addMenu("&Run")
        for action in (self.run, self.pause, self.stop):
            run_menu.addAction(action)
        run_menu.addSeparator()
        menus = {"File": (file_menu, lab_file), "Run": (run_menu, None), "View": (view_menu, None)}
        self.lab_actions: list[tuple[QAction, Any, Any]] = []  # (menu action, its LabAction, the lab)
        for lab in labs:  # each lab's own entries, present while it is current
            for declared in lab.actions():
                action = make_action(window, declared.text, declared.slot, declared.shortcut, declared.tip)
                where, before = menus[declared.menu]
                where.insertAction(before, action) if before is not None else where.addAction(action)
                self.lab_actions.append((action, declared, lab))

    def switch_to(self, lab) -> None:
        """Only ``lab``'s entries are shown (and their shortcuts active)."""
        for action, _declared, owner in self.lab_actions:
            action.setVisible(owner is lab)

    def set_busy(self, busy: bool) -> None:
        """While a run is in progress: Pause and Stop; no Run, opening or idle-only lab entries."""
        self.run.setEnabled(not busy)
        for action, declared, _lab in self.lab_actions:
            if declared.idle_only:
                action.setEnabled(not busy)
        self.pause.setEnabled(busy)
        self.stop.setEnabled(busy)
        for action in (self.open_model, self.open_images, self.open_folder, self.recent.menuAction()):
            action.setEnabled(not busy)
        if not busy:
            self.pause.setChecked(False)

    def set_paused(self, paused: bool) -> None:
        self.pause.blockSignals(True)
        self.pause.setChecked(paused)
        self.pause.blockSignals(False)
        self.pause.setText("&Resume" if paused else "&Pause")

    def set_presentation(self, enabled: bool) -> None:
        self.presentation.blockSignals(True)
        self.presentation.setChecked(enabled)
        self.presentation.blockSignals(False)

"""The window's dock layout, built from declarations (:class:`~workbench.gui.labs.base.DockSpec`).

The window's own panels and every lab's are declared the same way; this module knows no
panel by name. Each area's docks form one line ordered by priority (a column on the left
and right, a row at the bottom); the default and presentation sizes come from the declared
proportions of the docks of the window and of the current lab. Switching labs hides the
previous lab's panels and shows the current one's (except those the user closed).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

from workbench.gui.labs.base import DockSpec

_STACKED = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


class DockLayout:
    """The dock widgets of ``window``: ``docks`` by object name, their declarations and owners
    (a lab, or None for the window's own)."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.docks: dict[str, QDockWidget] = {}
        self.specs: dict[str, DockSpec] = {}
        self.owners: dict[str, object] = {}
        self._hidden_for_lab: list[QDockWidget] = []
        self._shown: list[str] = []

    def add(self, spec: DockSpec, owner: object = None) -> QDockWidget:
        dock = QDockWidget(spec.title, self.window)
        dock.setObjectName(spec.name)
        dock.setWidget(spec.widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.window.addDockWidget(spec.area, dock)
        self.docks[spec.name] = dock
        self.specs[spec.name] = spec
        self.owners[spec.name] = owner
        return dock

    def lines(self, owner: object = ..., visible_only: bool = False) -> dict[Qt.DockWidgetArea, list[str]]:
        """Each area's dock names in their order; only the window's and ``owner``'s when given."""
        lines: dict[Qt.DockWidgetArea, list[str]] = {}
        for name, spec in sorted(self.specs.items(), key=lambda item: item[1].priority):  # stable: declaration order
            if owner is not ... and self.owners[name] not in (None, owner):
                continue
            if visible_only and (self.docks[name].isHidden() or self.docks[name].isFloating()):
                continue
            lines.setdefault(spec.area, []).append(name)
        return lines

    def arrange(self) -> None:
        """Put every dock in its place in its area's line; declared-hidden docks start hidden."""
        for area, names in self.lines().items():
            orientation = Qt.Orientation.Vertical if area in _STACKED else Qt.Orientation.Horizontal
            for before, after in zip(names, names[1:]):
                self.window.splitDockWidget(self.docks[before], self.docks[after], orientation)
        for name, spec in self.specs.items():
            if spec.hidden:
                self.docks[name].hide()

    def size(self, lab: object, presentation: bool = False) -> None:
        """The declared proportions of the window's and ``lab``'s visible docks."""
        window = self.window
        width = max(window.width(), 1200)
        height = max(window.height(), 700 if presentation else 800)
        for area, names in self.lines(lab, visible_only=True).items():
            stacked = area in _STACKED
            across, along = (width, height) if stacked else (height, width)
            specs = [self.specs[name] for name in names]
            docks = [self.docks[name] for name in names]
            depth = _pick(specs[0].size, specs[0].presentation_size, presentation)
            if depth:
                window.resizeDocks(docks[:1], [int(across * depth)],
                                   Qt.Orientation.Horizontal if stacked else Qt.Orientation.Vertical)
            stretches = [_pick(spec.stretch, spec.presentation_stretch, presentation) for spec in specs]
            if len(docks) > 1 and all(stretches):
                window.resizeDocks(docks, [int(along * s) for s in stretches],
                                   Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal)

    def hide_for_presentation(self) -> None:
        for name, spec in self.specs.items():
            if spec.presentation_hidden:
                self.docks[name].hide()

    def switch_to(self, lab) -> None:
        """Show ``lab``'s docks (except those the user closed), hide the other labs', and hide
        the window's panels that ``lab`` has no use for while it is current."""
        for dock in self._hidden_for_lab:
            dock.show()
        self._hidden_for_lab = []
        for name in lab.hides_shell_docks if lab is not None else ():
            dock = self.docks.get(name)
            if dock is not None and self.owners[name] is None and dock.isVisible() and not dock.isFloating():
                dock.hide()
                self._hidden_for_lab.append(dock)
        for name, owner in self.owners.items():
            if owner is None:
                continue
            dock = self.docks[name]
            if owner is lab:
                dock.toggleViewAction().setEnabled(True)
                if dock.property("hiddenBySwitch"):
                    dock.setProperty("hiddenBySwitch", False)
                    dock.show()
            elif not dock.isHidden():
                dock.setProperty("hiddenBySwitch", True)
                dock.hide()
                dock.toggleViewAction().setEnabled(False)

    def reset(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.setProperty("hiddenBySwitch", False)

    def want(self, lab, name: str, visible: bool) -> None:
        """``lab`` (the current one) shows or hides one of its panels; the user may change it
        again in View ▸ Panels. A panel shown shares the room with the visible ones after it."""
        dock = self.docks.get(name)
        if dock is None or self.owners.get(name) is not lab or dock.isFloating() or dock.isHidden() != visible:
            return
        dock.setVisible(visible)
        if visible:
            if not self._shown:
                QTimer.singleShot(0, self._size_shown)  # once the layout has taken them in
            self._shown.append(name)

    def _size_shown(self) -> None:
        shown, self._shown = self._shown, []
        for names in self.lines(visible_only=True).values():
            first = next((i for i, name in enumerate(names) if name in shown), None)
            if first is None or len(names) - first < 2:
                continue
            group = names[first:]
            stretches = [self.specs[name].stretch for name in group]
            if not all(stretches):
                continue
            stacked = self.specs[group[0]].area in _STACKED
            docks = [self.docks[name] for name in group]
            total = sum(d.height() if stacked else d.width() for d in docks)
            self.window.resizeDocks(docks, [int(total * s / sum(stretches)) for s in stretches],
                                    Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal)


def _pick(normal: float | None, presentation: float | None, in_presentation: bool) -> float | None:
    return presentation if in_presentation and presentation is not None else normal

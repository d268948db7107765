"""The lab protocol: how a lab declares itself to the window, and the registry of labs.

**Adding a lab.** Write the engine first (a generator of typed events, see
:mod:`workbench.gui.tasks` for events), then a lab package under ``workbench/gui/labs/``::

    from workbench.gui.labs.base import DockSpec, Lab, LabAction, register_lab

    @register_lab
    class PrivacyLab(Lab):
        title = "Privacy"                          # the lab switcher's tab

        def __init__(self, state, worker, parent=None, *, settings=None):
            super().__init__(state, worker, parent, settings=settings)
            self.page = MyPage(self)               # settings, Run/Stop, progress, result
            ...                                    # lay the page out in self (the central area)

        def docks(self):                           # panels around the page, shown while current
            return [DockSpec("privacyDock", "Leaks", self.leaks, RIGHT, size=0.25, stretch=0.6)]

        def actions(self):                         # menu entries, present only with this lab
            return [LabAction("Export &leaks CSV…", self.export_csv, menu="File", role="export")]

        def run(self): return self.page.run()      # the window's Run, Stop and Pause
        def stop(self): self.page.stop()
        def set_paused(self, paused): self.page.set_paused(paused)

and import the package from :mod:`workbench.gui.labs` (the registration order is the tab
order). The window builds the tab, the dock widgets, the menus and the status bar from these
declarations; it knows no lab by name, and a lab never reaches into the window: it asks through
its signals (``message`` for the message bar, ``dockWanted`` to show or hide one of its panels)
and its declarations (``hides_shell_docks`` for the window's own panels it has no use for).

**Adding a page.** A page that runs something starts its generator with
``worker.start(source, on={EventType: slot}, on_result=…, on_end=…, owner=lab)`` and gets only
its own run's events back (:mod:`workbench.gui.tasks`); the status bar shows the run's status
by itself. (A shared ``RunPage`` base is still to come: issue 13, item 3.)

**Settings.** ``save_settings``/``restore_settings`` are called with the window's QSettings
(``self.settings``) when the window closes and when the lab is created; store under the lab's
own group.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QWidget

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea


@dataclass(frozen=True)
class DockSpec:
    """One panel of a lab (or of the window). The window lays out the docks of each ``area`` in
    one line, ordered by ``priority`` (lower first; the window's run list has 100, so it ends
    the right column): stacked for the left and right areas, side by side for the bottom one.

    Proportions, as fractions of the window: ``size`` is the area's depth (the column's width
    for left/right, the row's height for bottom), taken from the first visible dock of the
    area; ``stretch`` is the dock's share along its area among the visible docks. The
    ``presentation_*`` values replace them in presentation mode (None: as in normal mode);
    ``presentation_hidden`` docks are hidden there. ``hidden`` docks start hidden: the lab
    shows them when they apply (``dockWanted``), and they then share the room with the visible
    docks after them in their area by ``stretch``."""

    name: str
    title: str
    widget: QWidget
    area: Qt.DockWidgetArea = RIGHT
    priority: int = 0
    size: float | None = None
    stretch: float | None = None
    presentation_size: float | None = None
    presentation_stretch: float | None = None
    hidden: bool = False
    presentation_hidden: bool = False


@dataclass(frozen=True)
class LabAction:
    """A menu entry of a lab, present (and its shortcut active) only while the lab is current.
    ``menu`` is "File", "Run" or "View"; ``role`` says what it is ("batch", "export", "mask",
    "command", "report"); ``idle_only`` disables it while a run is in progress."""

    text: str
    slot: Callable[[], Any]
    shortcut: Any = None
    tip: str = ""
    menu: str = "Run"
    role: str = ""
    idle_only: bool = True


class Lab(QWidget):
    """The base of every lab (see the module docstring). Signals: ``message(str, str)`` — text
    and kind ("error", "warning", "info") for the window's message bar; ``notice(str)`` — a
    passing note for the status bar; ``dockWanted(str,
    bool)`` — one of the lab's panels applies now or no longer does."""

    title: ClassVar[str] = "Lab"
    hides_shell_docks: ClassVar[tuple[str, ...]] = ()  # window panels hidden while the lab is shown
    message = Signal(str, str)
    notice = Signal(str)  # a passing note for the status bar only ("Saved … to …")
    dockWanted = Signal(str, bool)

    def __init__(self, state, worker, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker = worker
        self.settings = settings if settings is not None else QSettings()

    # -- declarations -----------------------------------------------------------------------------
    def docks(self) -> list[DockSpec]:
        """The lab's panels (none by default)."""
        return []

    def actions(self) -> list[LabAction]:
        """The lab's own menu entries, beyond Run, Pause and Stop (none by default)."""
        return []

    def key_figure(self) -> QWidget | None:
        """What presentation mode shows large: the figure that tells the lab's story."""
        return None

    def set_canvas_share(self, fraction: float) -> None:
        """Share of the page's width for its main view, after the docks took their sizes
        (``fraction`` is smaller in presentation mode); nothing by default."""

    # -- running ----------------------------------------------------------------------------------
    def print_run(self, run_id: int) -> bool:
        """The run list's "Export printable…" on one of the lab's runs; False where it has none."""
        return False

    def run(self) -> bool:
        """The window's Run: start the current page's run; False (with a message) if it cannot."""
        return False

    def stop(self) -> None:
        """The window's Stop."""

    def set_paused(self, paused: bool) -> None:
        """The window's Pause."""

    # -- settings -----------------------------------------------------------------------------------
    def save_settings(self) -> None:
        """Store what the user set into ``self.settings``."""

    def restore_settings(self) -> None:
        """Back to what :meth:`save_settings` stored; never fails on stale values."""


_REGISTRY: list[type[Lab]] = []


def register_lab(lab_class: type[Lab]) -> type[Lab]:
    """Add a lab to the window (a class decorator); labs appear in registration order."""
    if lab_class not in _REGISTRY:
        _REGISTRY.append(lab_class)
    return lab_class


def unregister_lab(lab_class: type[Lab]) -> None:
    """Remove a lab (tests that register a throwaway one)."""
    if lab_class in _REGISTRY:
        _REGISTRY.remove(lab_class)


def registered_labs() -> tuple[type[Lab], ...]:
    """The labs the window shows, in order."""
    return tuple(_REGISTRY)

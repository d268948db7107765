"""The lab protocol: how a lab declares itself to the window, and the registry of labs.

**Adding a lab.** Write the engine first (a generator of typed events, see
:mod:`workbench.gui.tasks` for events), then a lab package ``workbench/gui/labs/<lab>/`` whose
``__init__`` defines and registers the lab::

    from workbench.gui.labs.base import RIGHT, DockSpec, Lab, LabAction, register_lab

    @register_lab
    class PrivacyLab(Lab):
        title = "Privacy"                          # the lab switcher's tab
        settings_group = "privacy"                 # QSettings group of its pages' settings

        def __init__(self, state, worker, parent=None, *, settings=None):
            super().__init__(state, worker, parent, settings=settings)
            self.leaks = LeakHistogram()           # a view shown in a dock
            self.use_pages([MembershipPage(self), InversionPage(self)])   # RunPages, as tabs

        def docks(self):                           # panels around the pages, shown while current
            return [DockSpec("privacyDock", "Leaks", self.leaks, RIGHT, priority=5, size=0.25, stretch=0.6)]

        def actions(self):                         # menu entries, present only with this lab
            return [LabAction("Export &leaks CSV…", self.export_csv, menu="File", role="export")]

and import the package from :mod:`workbench.gui.labs` (the registration order is the tab
order). With :meth:`Lab.use_pages`, the window's Run, Stop and Pause go to the current page
and the pages' settings are saved (when the lab hides) and restored by the base; a lab with
another layout overrides :meth:`Lab.run`, :meth:`Lab.stop`, :meth:`Lab.set_paused` and the
settings methods. The window builds the tab, the dock widgets (laid out and sized from the
``DockSpec`` proportions), the menus and the status bar from these declarations; nothing in
``gui/shell/`` changes for a new lab. It knows no lab by name, and a lab never reaches into
the window: it asks through its signals (``message`` for the message bar, ``notice`` for the
status bar, ``dockWanted`` to show or hide one of its panels) and its declarations
(``hides_shell_docks`` for the window's own panels it has no use for).

**Adding a page.** Subclass :class:`~workbench.gui.labs.run_page.RunPage` (its docstring is
the guide): declare its ``Params``, supply the generator (``source``), the routing of its
events (``routes``) and what to do with the result (``show_result``). The base builds the
settings column, Run/Stop, progress and the result and report areas, runs it on the worker
(``worker.start(source, on={EventType: slot}, …)``, :mod:`workbench.gui.tasks`) and
persists its settings.

**Adding an event**: :mod:`workbench.gui.tasks`. **Adding a command**: a module in
:mod:`workbench.cli` (one per command) that runs the same engine generator with the shared
options and progress printer; a test checks that the command and the page agree.

**Settings.** ``save_settings``/``restore_settings`` are called with the window's QSettings
(``self.settings``) when the window closes and when the lab is created; store under the lab's
own group.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

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
    settings_group: ClassVar[str] = ""  # QSettings group of the pages' settings (default: the title)
    hides_shell_docks: ClassVar[tuple[str, ...]] = ()  # window panels hidden while the lab is shown
    message = Signal(str, str)
    notice = Signal(str)  # a passing note for the status bar only ("Saved … to …")
    dockWanted = Signal(str, bool)

    def __init__(self, state, worker, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker = worker
        self.settings = settings if settings is not None else QSettings()
        self.run_pages: tuple = ()  # the lab's RunPages (see use_pages)
        self.pages: QTabWidget | None = None

    def use_pages(self, pages) -> QTabWidget:
        """Lay ``pages`` (:class:`~workbench.gui.labs.run_page.RunPage`) out as tabs that fill
        the lab, restore their stored settings; Run, Stop, Pause and the settings then go to
        them (the page shown is kept too)."""
        self.run_pages = tuple(pages)
        self.pages = QTabWidget()
        for page in self.run_pages:
            self.pages.addTab(page, page.title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self.restore_settings()
        for page in self.run_pages:
            page.apply_advanced()
        return self.pages

    def current_page(self):
        return self.run_pages[self.pages.currentIndex()] if self.run_pages else None

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        if self.run_pages:
            self.save_settings()  # the user leaves the lab, or closes the window

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

    def is_running(self) -> bool:
        return any(page.is_running() for page in self.run_pages)

    def run(self) -> bool:
        """The window's Run: start the current page's run; False (with a message) if it cannot."""
        page = self.current_page()
        return bool(page is not None and page.run())

    def stop(self) -> None:
        """The window's Stop."""
        for page in self.run_pages:
            page.stop()

    def set_paused(self, paused: bool) -> None:
        """The window's Pause."""
        for page in self.run_pages:
            page.set_paused(paused)

    # -- settings -----------------------------------------------------------------------------------
    def _group(self) -> str:
        return self.settings_group or self.title.lower()

    def save_settings(self) -> None:
        """Store what the user set into ``self.settings`` (by default: every page's settings
        and the page shown, under the lab's group)."""
        for page in self.run_pages:
            page.save_settings(self.settings, self._group())
        if self.run_pages:
            self.settings.setValue(f"{self._group()}/page", self.pages.currentIndex())

    def restore_settings(self) -> None:
        """Back to what :meth:`save_settings` stored; never fails on stale values."""
        for page in self.run_pages:
            page.restore_settings(self.settings, self._group())
        shown = self.settings.value(f"{self._group()}/page") if self.run_pages else None
        if isinstance(shown, (int, str)) and str(shown).isdigit() and int(shown) < self.pages.count():
            self.pages.setCurrentIndex(int(shown))


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

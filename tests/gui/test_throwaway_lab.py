"""A lab registered from this test module, with no edit to the shell: it appears as a tab with
its dock, its menu entries (only while it is current), progress in the status bar and its
result, and its pages' settings are kept (issue 13, "Done when")."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QLabel

from workbench.core.events import ProgressReport
from workbench.core.params import param
from workbench.gui.labs.base import RIGHT, DockSpec, Lab, LabAction, register_lab, unregister_lab
from workbench.gui.labs.run_page import RunPage

# ---- the throwaway lab: an engine, two pages and the lab (what a new lab's author writes) ----


@dataclass(frozen=True)
class Tick:
    done: int
    total: int

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.done, self.total, "step")


@dataclass(frozen=True)
class Counted:
    total: int


def count(steps: int):
    for i in range(1, steps + 1):
        time.sleep(0.01)
        yield Tick(i, steps)
    yield Counted(steps)


@dataclass
class CountParams:
    steps: int = param(5, title="Steps", description="How far to count", low=1, high=1000)
    slow: bool = param(False, title="Slow", description="Take a rest between steps", advanced=True)


class CountPage(RunPage):
    key, title, params, factor = "count", "Count", CountParams, 1

    def __init__(self, lab):
        super().__init__(lab)
        self.last = QLabel()
        self.results.addWidget(self.last)

    def source(self):
        steps = self.form.values()["steps"] * self.factor
        return lambda: count(steps)

    def routes(self):
        return {Tick: lambda tick: self.last.setText(f"tick {tick.done}")}

    def show_result(self, result):
        self.report.setText(f"Counted to {result.total}.")


class DoublePage(CountPage):
    key, title, factor = "double", "Double", 2


class ThrowawayLab(Lab):
    title = "Throwaway"

    def __init__(self, state, worker, parent=None, *, settings=None):
        super().__init__(state, worker, parent, settings=settings)
        self.tally, self.exported = QLabel("tally"), []
        self.use_pages([CountPage(self), DoublePage(self)])

    def docks(self):
        return [DockSpec("throwawayDock", "Tally", self.tally, RIGHT, priority=50, stretch=0.3)]

    def actions(self):
        return [LabAction("Export &tally…", lambda: self.exported.append(True), menu="File", role="export")]

# ---- the test ----------------------------------------------------------------------------------


@pytest.fixture
def throwaway():
    register_lab(ThrowawayLab)
    yield ThrowawayLab
    unregister_lab(ThrowawayLab)


def menu_action(win, text):
    return next(a for menu in win.menuBar().actions() for a in menu.menu().actions() if a.text() == text)


def test_a_lab_registered_from_a_test_module_runs_in_the_window(qtbot, settings, throwaway):
    from workbench.gui.main_window import MainWindow

    win = MainWindow(settings=settings, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    tabs = [win.labs_tabs.tabText(i) for i in range(win.labs_tabs.count())]
    assert tabs[-1] == "Throwaway"
    lab = win.labs[-1]
    export = menu_action(win, "Export &tally…")
    assert not win.docks["throwawayDock"].isVisible() and not export.isVisible()  # not current yet

    win.labs_tabs.setCurrentWidget(lab)
    assert win.docks["throwawayDock"].isVisible() and export.isVisible()
    export.trigger()
    assert lab.exported == [True]

    page = lab.run_pages[1]
    lab.pages.setCurrentWidget(page)
    page.form.set_values({"steps": 4})
    with qtbot.waitSignal(page.runEnded, timeout=10_000) as ended:
        assert win.run_current()  # the window's Run goes to the current page
    assert ended.args == ["finished"]
    assert page.report.text() == "Counted to 8." and page.last.text() == "tick 8"
    assert win.status_iteration.text() == "Iteration 8/8"  # the status bar, from the run status
    assert page.progress.value() == page.progress.maximum() and not win.state.busy

    win.labs_tabs.setCurrentIndex(0)  # the lab hides: its dock and entries go, its settings are kept
    assert not win.docks["throwawayDock"].isVisible() and not export.isVisible()
    assert settings.value("throwaway/double") == '{"steps": 4, "slow": false}'
    win.set_presentation(True)  # advanced parameters hidden by the base, on every page
    assert page.form.editor("slow").isHidden() and not page.form.editor("steps").isHidden()
    win.set_presentation(False)
    win.close()
    again = MainWindow(settings=settings, restore_layout=True)
    qtbot.addWidget(again)
    assert again.labs[-1].run_pages[1].form.values()["steps"] == 4
    again.close()

"""The dock layout comes from the declarations (``DockSpec``): each area's docks in one line by
priority, sized by the declared proportions, with presentation's own; the shell names no lab's
dock."""
from __future__ import annotations

from pathlib import Path

import pytest

import workbench.gui.main_window as main_window
from workbench.gui import shell


@pytest.fixture
def win(qtbot, settings):
    from workbench.gui.main_window import MainWindow

    window = MainWindow(settings=settings, restore_layout=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def test_docks_follow_their_declared_order_and_proportions(win, qtbot):
    docks, specs = win.docks, win.layout_.specs
    column = ("attackDock", "topkDock", "runsDock")
    tops = [docks[name].geometry().top() for name in column]
    assert tops == sorted(tops)  # the run list (priority 100) ends the right column
    assert docks["curvesDock"].geometry().left() < docks["boundaryDock"].geometry().left()
    widths = docks["curvesDock"].width(), docks["boundaryDock"].width()
    share = specs["curvesDock"].stretch / (specs["curvesDock"].stretch + specs["boundaryDock"].stretch)
    assert widths[0] / sum(widths) == pytest.approx(share, abs=0.05)
    assert all(docks[name].isHidden() for name, spec in specs.items() if spec.hidden)

    win.set_presentation(True)
    qtbot.wait(50)
    assert all(docks[name].isHidden() for name, spec in specs.items() if spec.presentation_hidden)
    heights = docks["attackDock"].height(), docks["topkDock"].height()
    attack, topk = specs["attackDock"].presentation_stretch, specs["topkDock"].presentation_stretch
    assert heights[0] / sum(heights) == pytest.approx(attack / (attack + topk), abs=0.05)
    win.set_presentation(False)
    assert docks["runsDock"].isVisible() and docks["modelDock"].isVisible()


def test_the_shell_names_no_lab_dock():
    names = ("attackDock", "topkDock", "oracleDock", "curvesDock", "boundaryDock", "batchDock", "queryDock")
    files = [Path(main_window.__file__), *Path(shell.__file__).parent.glob("*.py")]
    for path in files:
        text = path.read_text()
        assert not [name for name in names if name in text], path
        assert "hasattr(" not in text and "findChild" not in text, path

"""Helpers of the Defenses lab's GUI tests: the lab on the shipped model and its samples
(fixtures: import them into the test module), typing into fields and waiting on runs as a user
would."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.gui.labs.defenses import DefensesLab
from workbench.gui.state import AppState, ModelSource
from workbench.gui.worker import TaskWorker


@pytest.fixture
def lab_state(fashion_model, fashion_samples):
    """The window's state with ``fashion-cnn`` and its samples open."""
    state = AppState()
    state.set_model(fashion_model, ModelSource("fashion-cnn", builtin=True))
    state.set_images(fashion_samples)
    return state


@pytest.fixture
def lab(qtbot, lab_state):
    """A shown Defenses lab on :func:`lab_state`, with its own worker."""
    worker = TaskWorker()
    page = DefensesLab(lab_state, worker)
    qtbot.addWidget(page)
    page.resize(1400, 850)
    page.show()
    qtbot.waitExposed(page)
    yield page
    worker.shutdown()


def type_into(qtbot, editor, text: str) -> None:
    """Replace a spin box's or line edit's text by typing, as a user does."""
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Tab)


def fill_form(qtbot, form, values: dict) -> None:
    """Set a parameter form's fields: click check boxes, type into the others."""
    for name, value in values.items():
        editor = form.editor(name)
        if hasattr(editor, "setChecked"):
            if editor.isChecked() != value:
                qtbot.mouseClick(editor, Qt.MouseButton.LeftButton)
        else:
            type_into(qtbot, editor, str(value))


def click_and_wait(qtbot, lab, button, timeout=60_000) -> None:
    """Click a page's run button and wait until the lab's run has finished."""
    with qtbot.waitSignal(lab.taskFinished, timeout=timeout) as finished:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert finished.args == ["finished"]
    assert not lab.state.busy and not lab.worker.is_running()

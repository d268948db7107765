"""The Defenses lab on a colour model (issue 12, item 4): in the main window, the user picks the
built-in traffic-sign model, then runs the Trade-off page with JPEG at its defaults and the
Naive-vs-adaptive page with JPEG in the stack. Both used to fail with "preserve memory format is
unsupported by the contiguous operator"; now both finish and show their results, and no error
reaches the message bar."""
from __future__ import annotations

import numpy as np
from defenses_lab_helpers import click_and_wait, type_into
from PySide6.QtCore import Qt
from batch_helpers import window  # noqa: F401  (window: a fixture)
from window_helpers import choose

from workbench.gui.labs.defenses import DefensesLab

COLOUR_MODEL, COLOUR_DATA = "signs-cnn", "samples:signs"


def pick(qtbot, combo, data) -> None:
    """Choose the item of ``combo`` whose data is ``data`` with the keyboard."""
    row = combo.findData(data)
    assert row >= 0, f"{data} is not offered"
    choose(qtbot, combo, combo.itemText(row))
    assert combo.currentData() == data


def click_tab(qtbot, tabs, title: str) -> None:
    """Click the tab of a QTabWidget titled ``title``."""
    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def defenses_lab_on_the_colour_model(qtbot, win) -> DefensesLab:
    """Switch the window to the Defenses lab and the colour model (its samples follow)."""
    click_tab(qtbot, win.labs_tabs, "Defenses")
    lab = win.labs_tabs.currentWidget()
    assert isinstance(lab, DefensesLab)
    pick(qtbot, win.model_panel.picker, COLOUR_MODEL)
    state = win.state
    qtbot.waitUntil(lambda: state.model.model_id == COLOUR_MODEL and state.images is not None
                    and state.images.source == COLOUR_DATA, timeout=30_000)
    assert state.model.input_shape[0] == 3 and state.images.images.shape[1] == 3
    return lab


def test_colour_model_runs_the_tradeoff_and_the_comparison_with_jpeg(qtbot, window):  # noqa: F811
    errors = []
    lab = defenses_lab_on_the_colour_model(qtbot, window)
    lab.message.connect(lambda text, kind: errors.append(text) if kind == "error" else None)
    window.worker.failed.connect(errors.append)

    # Trade-off: JPEG, every other setting at its default
    view = lab.tradeoff
    click_tab(qtbot, lab.pages, "Trade-off")
    pick(qtbot, view.defense, "jpeg")
    strengths = view.strength_values()
    assert len(strengths) > 1 and view.images.value() > 1

    click_and_wait(qtbot, lab, view.run_button, timeout=120_000)

    assert errors == []
    result = view.result()
    assert result is not None and result.defense == "jpeg" and result.settings["model_id"] == COLOUR_MODEL
    series = view.series()
    assert list(series["clean_accuracy"][0]) == strengths
    for key in ("clean_accuracy", "robust_naive", "robust_adaptive"):
        accuracy = series[key][1]
        assert len(accuracy) == len(strengths) and np.all((accuracy >= 0) & (accuracy <= 1))
    assert "Swept" in view.status.text()

    # Naive vs adaptive: JPEG in place of the default stack, the attack at its defaults
    view = lab.compare
    click_tab(qtbot, lab.pages, "Naive vs adaptive")
    stack = view.stack
    while stack.stack():
        stack.list.setCurrentRow(0)
        qtbot.mouseClick(stack.remove_button, Qt.MouseButton.LeftButton)
    pick(qtbot, stack.picker, "jpeg")
    qtbot.mouseClick(stack.add_button, Qt.MouseButton.LeftButton)
    assert [defense_id for defense_id, _ in stack.stack()] == ["jpeg"]
    assert view.bpda.isChecked() and not view.eot.isChecked()  # JPEG has no gradient and no randomness
    type_into(qtbot, view.images, "8")
    type_into(qtbot, view.black_box_queries, "100")

    click_and_wait(qtbot, lab, view.run_button, timeout=120_000)

    assert errors == []
    for stage in ("reference", "naive", "adaptive", "black-box"):
        card = view.cards[stage]
        assert card.clean_accuracy() is not None and card.robust_accuracy() is not None, stage
    assert len(view.cards["adaptive"].examples.captions()) > 0
    assert "adaptive attack (BPDA)" in view.verdict.text()
    assert window.message_bar.text() == "" or window.message_bar.kind != "error"

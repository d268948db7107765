"""The status bar and the curves after runs end, clicked through in the window: the counters
show the final event (16/16 iterations, every strength, every query), belong to the lab that
is shown, and a black-box run leaves the curve titles (their legends) drawn."""
from __future__ import annotations

import pytest
from defenses_lab_helpers import click_and_wait, fill_form, type_into
from PySide6.QtCore import Qt
from batch_helpers import window  # noqa: F401  (window: a fixture)
from window_helpers import run_and_wait


def show_lab(qtbot, win, index: int) -> None:
    """Click a lab's tab."""
    bar = win.labs_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert win.labs_tabs.currentIndex() == index


def title_ink(curves, title) -> int:
    """Dark pixels painted where a plot's title is."""
    image = curves.view.grab().toImage()
    rect = curves.view.mapFromScene(title.sceneBoundingRect()).boundingRect()
    return sum(image.pixelColor(x, y).lightness() < 128
               for x in range(max(rect.left(), 0), min(rect.right(), image.width()))
               for y in range(max(rect.top(), 0), min(rect.bottom(), image.height())))


def test_a_finished_run_says_16_of_16(qtbot, window):  # noqa: F811
    window.state.set_attack("pgd")
    window.labs[0].attack_panel.form.set_values({"eps": 0.01, "steps": 16, "step_size": 0.001, "early_stop": False})
    run = run_and_wait(qtbot, window)
    assert run.iterations == 16
    assert window.status_iteration.text() == "Iteration 16/16"


def test_after_a_black_box_run_the_curve_titles_are_drawn_and_the_queries_counted(qtbot, window):  # noqa: F811
    lab = window.labs[0]
    window.state.set_attack("square")
    lab.attack_panel.form.set_values({"eps": 0.05, "max_queries": 120})
    run = run_and_wait(qtbot, window)
    assert lab.curves.x_series() == "queries"
    for title in lab.curves.titles:
        assert title.text() and title.isVisible()
        assert title_ink(lab.curves, title) > 20, title.item.toPlainText()
    assert window.status_iteration.text() == f"Iteration {run.iterations}/120 · {run.queries:,} queries"


def test_defenses_counters_end_on_the_final_event_and_stay_with_their_lab(qtbot, window):  # noqa: F811
    window.state.set_attack("pgd")
    window.labs[0].attack_panel.form.set_values({"eps": 0.01, "steps": 4, "step_size": 0.001, "early_stop": False})
    run_and_wait(qtbot, window)
    evasion_status = window.status_iteration.text()
    assert evasion_status == "Iteration 4/4"
    lab = window.labs[1]
    show_lab(qtbot, window, 1)
    assert window.status_iteration.text() == ""  # nothing run here yet

    view = lab.compare  # naive vs adaptive, white-box stages only
    qtbot.mouseClick(view.black_box, Qt.MouseButton.LeftButton)
    view.attack.form.set_values({"eps": 0.1, "steps": 16, "early_stop": False})  # all 16 iterations
    type_into(qtbot, view.images, "4")
    click_and_wait(qtbot, lab, view.run_button)
    assert window.status_iteration.text() == "Iteration 16/16"

    view = lab.tradeoff
    lab.show_page(view)
    view.defense.setCurrentIndex(view.defense.findData("bit-depth"))
    type_into(qtbot, view.strengths, "2, 3, 4, 5, 6")
    fill_form(qtbot, view.attack.form, {"eps": 0.1, "steps": 2})
    type_into(qtbot, view.images, "2")
    click_and_wait(qtbot, lab, view.run_button)
    assert window.status_iteration.text() == "Strength 5/5"
    assert "strengths/s" in window.status_rate.text()

    show_lab(qtbot, window, 0)  # the Evasion lab shows its own run, not the Defenses lab's rate
    assert window.status_iteration.text() == evasion_status
    assert "it/s" in window.status_rate.text() and "strengths" not in window.status_rate.text()


@pytest.mark.parametrize("queries", [500])
def test_the_monitor_counts_every_query(qtbot, window, queries):  # noqa: F811
    lab = window.labs[1]
    show_lab(qtbot, window, 1)
    view = lab.monitor
    lab.show_page(view)
    type_into(qtbot, view.calibration, "300")
    fill_form(qtbot, view.attack.form, {"eps": 0.05, "max_queries": queries})
    with qtbot.waitSignal(window.worker.finished, timeout=60_000) as final:
        qtbot.mouseClick(view.attack_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.state.busy, timeout=5_000)
    spent = final.args[0].queries
    assert window.status_iteration.text() == f"Query {spent}"
    assert view.queries() == spent

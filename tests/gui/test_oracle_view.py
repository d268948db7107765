"""What the black-box attacker sees (issue 5 in the window): the oracle's last answer with its
rounding, queries against the budget, curves over queries, the switch between white-box and API
access, and the histogram of queries to success of a batch run."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from batch_helpers import few_samples, run_batch_and_wait, window  # noqa: F401  (window: a fixture)
from workbench.gui.widgets.oracle_view import OracleView
from workbench.gui.widgets.query_histogram import QueryHistogram, query_bins

LABELS = [f"class {k}" for k in range(10)]


def is_rounded(value: float, decimals: int) -> bool:
    return abs(value * 10**decimals - round(value * 10**decimals)) < 1e-4


def run_and_wait(qtbot, win, timeout=60_000):
    panel = win.labs[0].attack_panel
    with qtbot.waitSignal(win.worker.finished, timeout=timeout):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.state.busy, timeout=5_000)
    return win.state.run(win.state.selected_run)


def test_oracle_view_shows_the_answer_as_given(qtbot):
    view = OracleView()
    qtbot.addWidget(view)
    view.set_oracle({"top_k": 3, "decimals": 2, "budget": 50}, LABELS)
    assert "top 3 of 10" in view.rules.text() and "2 decimals" in view.rules.text() and "50" in view.rules.text()
    view.set_answer(np.array([4, 6, 2]), np.array([0.61, 0.27, 0.08]), 12)
    assert view.answer_rows() == [("class 4", 0.61), ("class 6", 0.27), ("class 2", 0.08)]
    assert "0.61" in view.answer.text() and "38" in view.queries_text()  # 50 − 12 left
    assert view.budget_bar.isVisibleTo(view) and view.budget_bar.value() == 12
    view.set_oracle({"label_only": True, "top_k": 1}, LABELS)
    view.set_answer(np.array([7]), None, 3)
    assert view.answer_rows() == [("class 7", None)] and "labels only" in view.rules.text()
    assert not view.budget_bar.isVisibleTo(view) and "no budget" in view.queries_text()
    view.set_white_box()
    assert "White-box" in view.rules.text() and not view.answer.isVisibleTo(view)


def test_query_histogram_counts_the_fooled_images(qtbot):
    histogram = QueryHistogram()
    qtbot.addWidget(histogram)
    queries = np.array([3, 7, 7, 40, 120, -1, 55, -1, 980])
    histogram.set_queries(queries, budget=1000)
    edges, counts = histogram.counts()
    assert counts.sum() == 7 and edges[0] == 0 and edges[-1] > 980
    assert np.allclose(np.diff(edges), np.diff(edges)[0]) and np.diff(edges)[0] in (50.0, 100.0)
    assert histogram.median() == 40
    assert "7 of 9 images fooled" in histogram.title.text()
    assert list(query_bins(np.array([0.0]))) == [0.0, 1.0]


def test_black_box_run_shows_what_the_attacker_sees(qtbot, window):  # noqa: F811
    lab, state = window.labs[0], window.state
    state.set_attack("square")
    state.set_attack_params({"eps": 0.1, "max_queries": 150})
    lab.attack_panel.oracle_form.set_values({"top_k": 3, "decimals": 1, "budget": 120})
    # black-box: the attacker's view takes the place of the model's top classes
    assert window.docks["oracleDock"].isVisible() and not window.docks["topkDock"].isVisible()

    run = run_and_wait(qtbot, window)

    rows = lab.oracle_view.answer_rows()
    assert len(rows) == 3 and all(is_rounded(score, 1) for _name, score in rows)
    assert rows[0][0] == run.labels[run.predicted_adv]  # the last answer: on the final image
    queries = run.history["queries"]
    assert queries[-1] == run.queries <= 120 and np.all(np.diff(queries) >= 0)
    assert f"{int(run.queries):,}</b> of 120" in lab.oracle_view.queries_text()
    # the curves run over queries
    assert lab.curves.x_series() == "queries"
    x, _ = lab.curves.curve_data("p_true")
    assert np.array_equal(x, queries)
    assert "queries" in window.status_iteration.text()
    # a white-box attack again: the top classes come back, the curves go over iterations
    state.set_attack("pgd")
    assert window.docks["topkDock"].isVisible() and not window.docks["oracleDock"].isVisible()
    lab.attack_panel.form.set_values({"eps": 0.3, "steps": 6, "step_size": 0.05})
    run_and_wait(qtbot, window)
    assert lab.curves.x_series() == "iteration"


def test_access_switch_runs_pgd_through_the_api(qtbot, window):  # noqa: F811
    lab, state = window.labs[0], window.state
    panel = lab.attack_panel
    state.set_attack("pgd")
    panel.form.set_values({"eps": 0.2, "steps": 4, "step_size": 0.05, "random_start": False, "early_stop": True})
    combo = panel.access.combo
    assert panel.access.choices() == ["white", "nes", "transfer"]
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the user picks "through the API (NES)"
    assert state.attack_id == "nes"
    values = panel.values()
    assert values["eps"] == 0.2 and values["step_size"] == 0.05
    assert values["max_queries"] == 4 * (2 * values["samples"] + 1)  # the same four steps
    assert "Through the API" in window.message_bar.text()

    run = run_and_wait(qtbot, window)
    assert run.attack_id == "nes" and run.queries > 0 and lab.curves.x_series() == "queries"

    qtbot.keyClick(panel.access.combo, Qt.Key.Key_Down)  # and back to the model's gradients
    assert state.attack_id == "pgd" and panel.values()["steps"] == 4 and panel.values()["eps"] == 0.2
    panel.access.choose("transfer")
    assert state.attack_id == "transfer"
    assert panel.values()["white_box"] == "pgd" and "eps=0.2" in panel.values()["white_box_params"]
    assert panel.values()["surrogate"] == "fashion-cnn"
    panel.access.choose("white")
    assert state.attack_id == "pgd" and panel.values()["eps"] == 0.2 and panel.values()["steps"] == 4
    state.set_attack("square")
    assert not panel.access.combo.isEnabled()  # no white-box form


def test_black_box_batch_shows_the_histogram_of_queries(qtbot, window, tmp_path):  # noqa: F811
    assert window.open_data(str(few_samples(tmp_path / "few")))
    lab, state = window.labs[0], window.state
    state.set_attack("square")
    state.set_attack_params({"eps": 0.1, "max_queries": 80})
    lab.attack_panel.oracle_form.set_values({"top_k": 3, "decimals": 2, "budget": 60})

    evaluation = run_batch_and_wait(qtbot, window)

    assert window.docks["queryDock"].isVisible() and window.docks["oracleDock"].isVisible()
    to_success = np.asarray(evaluation.queries_to_success)
    _edges, counts = lab.query_histogram.counts()
    assert counts.sum() == int((to_success >= 0).sum()) == int(np.sum(evaluation.success))
    assert lab.query_histogram.median() == evaluation.summary["queries_median"]
    table = lab.results
    assert not table.view.isColumnHidden(8)
    assert [r.queries for r in table.rows()] == [int(q) for q in evaluation.queries_per_image]
    assert all(r.queries <= 60 for r in table.rows())
    assert table.summary()["queries"][0] == evaluation.summary["queries_median"]
    # the attacker's view answers for the selected row: top 3, rounded to 2 decimals
    rows = lab.oracle_view.answer_rows()
    assert len(rows) == 3 and all(is_rounded(score, 2) for _name, score in rows)
    assert state.images.names[state.current_index] in lab.oracle_view.answer.text()

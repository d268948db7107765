"""The Defenses lab end to end with real clicks and typing: a defense stack attacked naive and
adaptive, a tiny certification, a two-point trade-off exported as CSV and PNG, and the stateful
monitor flagging a Square attack (and a Sybil attack slipping through). Budgets are tiny: the
point is the wiring from the widgets through the worker to the views, not the numbers (the
engine's own tests check those)."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from defenses_lab_helpers import click_and_wait, fill_form, lab, lab_state, type_into  # noqa: F401  (lab, lab_state: fixtures)
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from workbench.gui.labs.defenses import DefensesLab

TINY_PGD = {"eps": 0.1, "steps": 5}


def test_defenses_lab_is_a_tab_of_the_window_that_borrows_the_run_list_room(qtbot, settings):
    from workbench.gui.main_window import MainWindow

    win = MainWindow(settings=settings, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    titles = [win.labs_tabs.tabText(i) for i in range(win.labs_tabs.count())]
    assert titles == ["Evasion", "Defenses"]
    runs = win.docks["runsDock"]
    assert runs.isVisible()
    win.labs_tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not runs.isVisible(), timeout=2_000)
    win.labs_tabs.setCurrentIndex(0)
    qtbot.waitUntil(runs.isVisible, timeout=2_000)
    # closed on the Defenses lab, the window still opens with the Evasion lab's panels shown
    win.labs_tabs.setCurrentIndex(1)
    win.close()
    again = MainWindow(settings=settings, restore_layout=True)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.labs_tabs.currentIndex() == 0
    assert all(again.docks[name].isVisible() for name in ("attackDock", "curvesDock", "runsDock"))
    again.close()


def test_naive_attack_fails_on_bit_depth_and_bpda_breaks_it(qtbot, lab):  # noqa: F811
    view = lab.compare
    stack = view.stack
    # build the stack with the buttons: remove the default, add bit-depth with 2 bits
    stack.list.setCurrentRow(0)
    qtbot.mouseClick(stack.remove_button, Qt.MouseButton.LeftButton)
    assert stack.stack() == []
    stack.picker.setCurrentIndex(stack.picker.findData("bit-depth"))
    qtbot.mouseClick(stack.add_button, Qt.MouseButton.LeftButton)
    fill_form(qtbot, stack.form, {"bits": 2})
    assert stack.stack() == [("bit-depth", {"bits": 2})]
    # the adaptive switches follow the stack: bit-depth has no gradient, so BPDA, and no EOT
    assert view.bpda.isChecked() and not view.eot.isChecked()
    fill_form(qtbot, view.attack.form, TINY_PGD)
    type_into(qtbot, view.images, "8")

    click_and_wait(qtbot, lab, view.run_button)

    cards = view.cards
    reference, naive, adaptive = (cards[s].robust_accuracy() for s in ("reference", "naive", "adaptive"))
    assert all(card.clean_accuracy() is not None for card in cards.values())
    assert naive is not None and adaptive is not None and reference is not None
    assert naive >= adaptive + 0.25  # the gradient-less defense stops the naive attack, BPDA does not
    assert any("BPDA" in w for w in cards["naive"].warnings())
    assert cards["naive"].banner.isVisible()
    assert cards["adaptive"].warnings() == []
    assert "undefended model" in cards["naive"].reference.text()
    assert len(cards["adaptive"].examples.captions()) == 6
    assert "adaptive attack (BPDA)" in view.verdict.text()


def test_empty_stack_is_refused_with_a_message(qtbot, lab):  # noqa: F811
    view = lab.compare
    view.stack.list.setCurrentRow(0)
    qtbot.mouseClick(view.stack.remove_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(lab.message) as message:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert message.args[1] == "error" and "Add a defense" in message.args[0]
    assert not lab.worker.is_running()


def test_tiny_certification_draws_the_certified_accuracy_curve(qtbot, lab):  # noqa: F811
    view = lab.certify
    lab.show_page(view)
    fill_form(qtbot, view.form, {"sigma": 0.12, "n0": 10, "n": 50, "batch_size": 50})
    type_into(qtbot, view.images, "4")
    votes_seen = []
    lab.worker.progress.connect(  # the final result may come through progress too (the latest event wins)
        lambda event: votes_seen.append(int(np.asarray(event.counts).sum())) if hasattr(event, "counts") else None)

    click_and_wait(qtbot, lab, view.run_button)

    result = view.result()
    assert result is not None and len(result.predictions) == 4
    radii, accuracy = view.curve_points()
    assert radii[0] == 0.0 and len(radii) == len(accuracy) > 10
    assert np.all(np.diff(accuracy) <= 1e-12)  # certified accuracy never rises with the radius
    assert accuracy[0] == pytest.approx(result.certified_accuracy(0.0))
    assert view.table.rowCount() == 4
    assert "abstained on" in view.summary.text()
    assert votes_seen and max(votes_seen) <= 50  # the class counts filled up live


def test_two_point_tradeoff_fills_in_and_exports(qtbot, lab, tmp_path, monkeypatch):  # noqa: F811
    view = lab.tradeoff
    lab.show_page(view)
    view.defense.setCurrentIndex(view.defense.findData("gaussian-noise"))
    type_into(qtbot, view.strengths, "0, 0.1")
    fill_form(qtbot, view.attack.form, {"eps": 0.1, "steps": 3})
    fill_form(qtbot, view.smoothing, {"n0": 10, "n": 50, "batch_size": 50})
    type_into(qtbot, view.eot, "2")
    type_into(qtbot, view.images, "4")
    points = []
    lab.worker.progress.connect(lambda event: points.append(event) if hasattr(event, "robust_naive") else None)

    click_and_wait(qtbot, lab, view.run_button)

    assert len(points) >= 1  # drawn point by point, before the sweep ended
    series = view.series()
    assert list(series["clean_accuracy"][0]) == [0.0, 0.1]
    assert np.isnan(series["certified"][1][0]) and np.isfinite(series["certified"][1][1])  # σ = 0 certifies nothing
    assert any("EOT" in w for w in view.banner.warnings())

    csv_path, png_path = tmp_path / "tradeoff.csv", tmp_path / "tradeoff.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(csv_path), "CSV (*.csv)"))
    qtbot.mouseClick(view.export_csv_button, Qt.MouseButton.LeftButton)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(png_path), "PNG image (*.png)"))
    qtbot.mouseClick(view.export_png_button, Qt.MouseButton.LeftButton)

    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["sigma"]) for r in rows] == [0.0, 0.1]
    assert set(rows[0]) == {"sigma", "clean_accuracy", "robust_naive", "robust_adaptive", "certified_accuracy"}
    assert rows[0]["certified_accuracy"] == "" and 0.0 <= float(rows[1]["certified_accuracy"]) <= 1.0
    image = QImage(str(png_path))
    assert not image.isNull() and image.width() > 200


def test_bad_strengths_are_flagged_inline_and_refused(qtbot, lab):  # noqa: F811
    view = lab.tradeoff
    lab.show_page(view)
    view.defense.setCurrentIndex(view.defense.findData("bit-depth"))
    type_into(qtbot, view.strengths, "3, 12")
    assert view.strengths_message.isVisible() and "12" in view.strengths_message.text()
    with qtbot.waitSignal(lab.message) as message:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert message.args[1] == "error"
    assert not lab.worker.is_running()


def test_monitor_flags_square_misses_the_sybil_attacker_and_lets_benign_users_be(qtbot, lab):  # noqa: F811
    view = lab.monitor
    lab.show_page(view)
    type_into(qtbot, view.calibration, "300")
    fill_form(qtbot, view.attack.form, {"eps": 0.05, "max_queries": 300})

    click_and_wait(qtbot, lab, view.attack_button)

    assert view.light_state() == "alarm"
    account, number = view.first_alarm()
    assert account == "mallory" and number < 1000
    assert f"flagged at query {number + 1}" in view.verdict.text()
    xs, ys = view.curve_data()["mallory"]
    assert len(xs) == view.queries() and np.nanmin(ys) < view.threshold()

    # spread over 100 accounts switching every 10 queries: no account has k = 50 queries yet
    type_into(qtbot, view.accounts, "100")
    type_into(qtbot, view.switch_every, "10")
    click_and_wait(qtbot, lab, view.attack_button)
    assert view.light_state() == "quiet" and view.first_alarm() is None
    assert len(view.curve_data()) > 1

    type_into(qtbot, view.benign, "80")
    click_and_wait(qtbot, lab, view.benign_button)
    assert view.queries() == 80 and view.light_state() == "quiet"
    assert "False-positive rate on 80 benign queries: <b>0.00%</b>" in view.counters.text()


def test_stop_ends_a_long_comparison_and_frees_the_worker(qtbot, lab):  # noqa: F811
    view = lab.compare
    fill_form(qtbot, view.attack.form, {"steps": 10_000, "early_stop": False})
    type_into(qtbot, view.images, "4")
    with qtbot.waitSignal(lab.worker.progress, timeout=30_000):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert not view.run_button.isEnabled() and lab.state.busy
    with qtbot.waitSignal(lab.taskFinished, timeout=30_000) as finished:
        qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    assert view.run_button.isEnabled() and not lab.state.busy
    assert view.cards["adaptive"].progress.format() == "stopped"


def test_noise_trained_models_are_offered_for_certification(qtbot, lab, monkeypatch):  # noqa: F811
    import workbench.core.loaders as loaders

    shipped = [lab.certify.model.itemData(i)[0] for i in range(lab.certify.model.count())]
    assert shipped == ["fashion-cnn", "fashion-cnn-noise-0.12", "fashion-cnn-noise-0.25", "fashion-cnn-noise-0.5"]
    assert lab.certify.model_id() == "fashion-cnn-noise-0.25" and lab.certify.params()["sigma"] == 0.25
    cards = [{"id": "fashion-cnn"},  # noise-trained variants are found from their cards' noise_sigma and base model
             {"id": "fashion-cnn-noise-0.3", "noise_sigma": 0.3, "base_model": "fashion-cnn"},
             {"id": "fashion-cnn-noise-0.7", "noise_sigma": 0.7, "base_model": "fashion-cnn"},
             {"id": "other-noise-0.25", "noise_sigma": 0.25, "base_model": "other"}]
    monkeypatch.setattr(loaders, "builtin_models", lambda: cards)
    fresh = DefensesLab(lab.state, lab.worker)  # a window opened with these models installed
    qtbot.addWidget(fresh)
    view = fresh.certify
    offered = [view.model.itemData(i)[0] for i in range(view.model.count())]
    assert offered == ["fashion-cnn", "fashion-cnn-noise-0.3", "fashion-cnn-noise-0.7"]
    assert view.model_id() == "fashion-cnn-noise-0.3"  # the nearest σ to the form's default 0.25
    assert view.params()["sigma"] == 0.3  # σ follows the model's training noise
    view.model.setCurrentIndex(2)
    assert view.params()["sigma"] == 0.7
    assert fresh.tradeoff.noise_models.isEnabled()
    # these models are not really there: the run fails with a message, and the page recovers
    messages = []
    fresh.message.connect(lambda text, kind: messages.append((kind, text)))
    with qtbot.waitSignal(fresh.taskFinished, timeout=30_000) as finished:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["failed"]
    assert any(kind == "error" and "fashion-cnn-noise-0.7" in text for kind, text in messages)
    assert view.run_button.isEnabled() and not fresh.state.busy

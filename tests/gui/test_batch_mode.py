"""Batch mode of the Evasion lab: "Run on all images" end to end, the results table against the
engine's own evaluation, row selection, CSV export, cancelling mid-batch, and the table widget."""
from __future__ import annotations

import csv

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt

from batch_helpers import few_samples, run_batch_and_wait, window  # noqa: F401  (window: a fixture)
from workbench.attacks import ATTACKS
from workbench.attacks.evaluate import evaluate_attack
from workbench.gui.labs import evasion_batch
from workbench.gui.widgets.results_table import ResultsTable, demo_rows, summarize_rows

TINY_PGD = {"eps": 0.08, "steps": 5, "step_size": 0.03, "random_start": False, "early_stop": True}


def test_batch_run_matches_the_engine(qtbot, window, tmp_path):  # noqa: F811
    assert window.open_data(str(few_samples(tmp_path / "few")))
    lab, state = window.labs[0], window.state
    state.set_attack("pgd")
    lab.attack_panel.form.set_values(TINY_PGD)
    mask = np.zeros((28, 28), np.float32)
    mask[4:24, 4:24] = 1.0  # the current image's mask applies to every image
    state.set_mask(state.current_index, mask)

    evaluation = run_batch_and_wait(qtbot, window)

    n = len(state.images)
    table = lab.results
    assert window.docks["batchDock"].isVisible() and not window.docks["curvesDock"].isVisible()
    assert table.row_count() == n == 8
    # the same attack, seed and mask through the engine directly: the same outcome
    reference = list(evaluate_attack(
        ATTACKS.get("pgd")(**TINY_PGD), state.model, state.images.images, state.images.labels,
        mask=torch.from_numpy(mask), seed=state.seed, batch_size=evasion_batch.BATCH_SIZE,
    ))[-1]
    assert torch.equal(torch.as_tensor(evaluation.x_adv), reference.x_adv)
    assert np.array_equal(evaluation.success, reference.success.numpy())
    outside = np.broadcast_to(mask == 0, evaluation.x.shape)
    assert np.array_equal(evaluation.x_adv[outside], evaluation.x[outside])
    # each row is the engine's per-image outcome
    for row in table.rows():
        i = row.index
        assert row.name == state.images.names[i]
        assert row.success == bool(evaluation.success[i])
        assert row.adv_class == int(evaluation.adv_pred[i])
        assert row.clean_class == int(evaluation.clean_pred[i])
        assert np.isclose(row.linf, np.abs(evaluation.x_adv[i].astype(np.float64) - evaluation.x[i]).max())
        assert row.queries is None
    # the summary line agrees with the engine's summary
    summary, engine = table.summary(), evaluation.summary
    assert summary["clean_accuracy"] == engine["clean_accuracy"]
    assert summary["robust_accuracy"] == engine["adversarial_accuracy"]
    assert summary["success_rate"] == engine["success_rate"]
    fooled = evaluation.success.astype(bool)
    l2 = np.sqrt(((evaluation.x_adv - evaluation.x).reshape(n, -1).astype(np.float64) ** 2).sum(axis=1))
    assert np.isclose(summary["l2"][0], torch.from_numpy(l2[fooled]).median().item(), rtol=1e-5)
    assert f"{100 * engine['success_rate']:.1f} %" in table.summary_label.text()
    assert "fooled the model on" in window.message_bar.text()

    # clicking a row shows that image and its adversarial
    view_row = 5
    target = next(r for r in table.rows() if r.name == table.displayed_cells(view_row)[0])
    qtbot.mouseClick(table.view.viewport(), Qt.MouseButton.LeftButton, pos=table.view_rect(view_row).center())
    assert state.current_index == target.index
    shown = lab.triptych.adversarial_array()
    assert np.allclose(shown, np.squeeze(np.transpose(evaluation.x_adv[target.index], (1, 2, 0))))

    # CSV export: one line per image, the same outcomes
    path = tmp_path / "results.csv"
    table.export_csv(path)
    with path.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert [int(line["index"]) for line in lines] == list(range(n))
    assert [int(line["success"]) for line in lines] == [int(s) for s in evaluation.success]


def test_sorting_by_a_column_header(qtbot):
    table = ResultsTable()
    qtbot.addWidget(table)
    table.start([f"class {k}" for k in range(10)], 12, black_box=False)
    table.add_rows(demo_rows(12))
    table.show()
    header = table.view.horizontalHeader()
    l2_column = 6
    position = header.sectionViewportPosition(l2_column) + header.sectionSize(l2_column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(position, 5))
    shown = [float(table.displayed_cells(r)[l2_column]) for r in range(12)]
    assert shown == sorted(shown) or shown == sorted(shown, reverse=True)
    assert not table.view.isColumnHidden(0) and table.view.isColumnHidden(8)  # white-box: no queries
    with qtbot.waitSignal(table.imageActivated) as activated:
        qtbot.mouseClick(table.view.viewport(), Qt.MouseButton.LeftButton, pos=table.view_rect(0).center())
    first_shown = table.displayed_cells(0)[0]
    assert table.rows()[activated.args[0]].name == first_shown


def test_summary_of_rows():
    rows = demo_rows(40, seed=3)
    summary = summarize_rows(rows)
    known = [r for r in rows if r.true_class >= 0]
    assert summary["n"] == 40
    assert summary["robust_accuracy"] == sum(r.adv_class == r.true_class for r in known) / len(known)
    won = [r for r in rows if r.success]
    assert summary["success_rate"] == len(won) / 40
    assert summary["l0"] == (torch.tensor([r.l0 for r in won]).median().item(), np.mean([r.l0 for r in won]))
    assert summary["queries"][0] == torch.tensor([r.queries_to_success for r in won]).median().item()
    assert summarize_rows([])["success_rate"] is None


def test_cancelling_mid_batch_keeps_the_rows_and_the_window_usable(qtbot, window, monkeypatch):  # noqa: F811
    monkeypatch.setattr(evasion_batch, "BATCH_SIZE", 5)
    lab, state = window.labs[0], window.state
    state.set_attack("pgd")
    lab.attack_panel.form.set_values({"eps": 0.01, "steps": 120, "step_size": 0.0001, "early_stop": False})
    qtbot.mouseClick(lab.attack_panel.batch_button, Qt.MouseButton.LeftButton)
    assert state.busy and not lab.attack_panel.batch_button.isEnabled()
    qtbot.waitUntil(lambda: lab.results.row_count() >= 5, timeout=120_000)
    with qtbot.waitSignal(window.worker.cancelled, timeout=30_000):
        qtbot.mouseClick(lab.attack_panel.stop_button, Qt.MouseButton.LeftButton)
    done = lab.results.row_count()
    assert 5 <= done < len(state.images) and done % 5 == 0  # whole batches only
    assert not state.busy and lab.attack_panel.batch_button.isEnabled()
    assert "Stopped" in window.message_bar.text() and f"after {done} of" in window.message_bar.text()
    assert f"{done} of {len(state.images)} images" in lab.results.summary_label.text()
    # the window goes on: a single run works
    lab.attack_panel.form.set_values({"eps": 0.3, "steps": 10, "step_size": 0.05, "early_stop": True})
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        qtbot.mouseClick(lab.attack_panel.run_button, Qt.MouseButton.LeftButton)
    assert window.run_list.count() == 1 and window.docks["curvesDock"].isVisible()

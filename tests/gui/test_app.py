"""The main window end to end: start-up, mask drawing, running, stopping, pausing, closing
mid-run, undo/redo, bad files, form validation, run list, exports, presentation mode."""
from __future__ import annotations

import shlex
import sys

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QSpinBox

from workbench.attacks import ATTACKS
from workbench.core.params import describe
from workbench.gui import app as gui_app
from workbench.gui.main_window import MainWindow
from workbench.gui.state import ModelSource

# Small budgets keep every run well under a second on two cores.
QUICK_PGD = {"eps": 0.3, "steps": 12, "step_size": 0.05, "random_start": False, "early_stop": True}
ENDLESS_PGD = {"eps": 0.01, "steps": 10_000, "step_size": 0.0001, "early_stop": False}


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings=settings, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.worker.is_running():
        win.worker.shutdown()
    win.close()


def lab_of(win):
    return win.labs[0]


def drag_rectangle(qtbot, canvas, x0, y0, x1, y1):
    """Draw with the rectangle tool from model pixel (x0, y0) to (x1, y1) with real mouse
    press, move and release events on the canvas viewport."""
    canvas.set_tool("rectangle")
    viewport = canvas.viewport()
    start, end = canvas.model_to_viewport(x0, y0), canvas.model_to_viewport(x1, y1)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for t in (0.25, 0.5, 0.75, 1.0):
        point = QPoint(round(start.x() + t * (end.x() - start.x())), round(start.y() + t * (end.y() - start.y())))
        qtbot.mouseMove(viewport, pos=point)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def run_and_wait(qtbot, win, timeout=60_000):
    panel = lab_of(win).attack_panel
    assert panel.run_button.isEnabled(), panel.run_blocker()
    with qtbot.waitSignal(win.worker.finished, timeout=timeout):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.state.busy, timeout=5_000)
    return win.state.run(win.state.selected_run)


# -- start-up ---------------------------------------------------------------------------------------


def test_window_starts_with_the_default_model_and_images(window):
    state = window.state
    assert state.model is not None and state.model.model_id == "fashion-cnn"
    assert state.images is not None and state.images.source == "samples:fashion-mnist"
    assert len(state.images) >= 10
    assert 0 <= state.current_index < len(state.images)
    assert window.gallery.count() == len(state.images)
    assert window.gallery.current() == state.current_index
    # the first image is one the model gets right: a fair target
    assert int(state.predictions[state.current_index].argmax()) == state.current_label()
    card = window.model_panel.card.text()
    assert "28×28" in card and "%" in card and "10:" in card
    lab = lab_of(window)
    assert lab.attack_panel.run_button.isEnabled()
    assert lab.canvas.has_image()
    assert window.labs_tabs.tabText(0) == "Evasion"  # the first lab, where the window opens
    assert window.message_bar.text() == "" or window.message_bar.kind != "error"


def test_menus_hold_the_documented_actions(window):
    titles = {a.text().replace("&", "") for a in window.menuBar().actions()}
    assert {"File", "View", "Run"} <= titles
    assert window.run_action.shortcuts()[0].toString() == "Ctrl+R"
    assert window.stop_action.shortcut().toString() == "Esc"
    assert window.presentation_action.shortcut().toString() == "F11"


# -- drawing and running ----------------------------------------------------------------------------


def test_rectangle_mask_then_pgd_from_the_panel(qtbot, window):
    lab, state = lab_of(window), window.state
    index = state.current_index
    drag_rectangle(qtbot, lab.canvas, 6, 6, 22, 22)
    mask = state.mask(index)
    assert mask is not None and mask.shape == (28, 28)
    assert mask.sum() > 100 and mask[0, 0] == 0 and mask[14, 14] == 1
    state.set_attack("pgd")
    lab.attack_panel.form.set_values(QUICK_PGD)
    clean_prediction = int(state.predictions[index].argmax())

    run = run_and_wait(qtbot, window)

    assert run is not None and run.image_index == index
    # one curve point per iteration
    assert lab.curves.point_count() == run.iterations == len(run.history["iteration"])
    assert run.iterations >= 1
    # the attack changed the prediction…
    assert run.success and run.predicted_adv != clean_prediction
    # …and nothing outside the mask
    outside = np.broadcast_to(mask == 0, run.x.shape)
    assert np.array_equal(run.x_adv[outside], run.x[outside])
    assert np.abs(run.x_adv - run.x).max() <= QUICK_PGD["eps"] + 1e-6
    # the views show the final state; the run joined the list
    assert window.run_list.run_ids() == [run.run_id]
    assert np.allclose(lab.triptych.adversarial_array(), np.transpose(run.x_adv, (1, 2, 0)).squeeze())
    assert window.status_iteration.text().startswith(f"Iteration {run.iterations}")
    assert "it/s" in window.status_rate.text() and window.status_device.text()


def test_stop_mid_run(qtbot, window):
    lab, state = lab_of(window), window.state
    lab.attack_panel.form.set_values(ENDLESS_PGD)
    with qtbot.waitSignal(window.worker.progress, timeout=30_000):
        qtbot.mouseClick(lab.attack_panel.run_button, Qt.MouseButton.LeftButton)
    assert state.busy and lab.attack_panel.stop_button.isEnabled()
    assert not lab.attack_panel.run_button.isEnabled()
    with qtbot.waitSignal(window.worker.cancelled, timeout=30_000):
        qtbot.mouseClick(lab.attack_panel.stop_button, Qt.MouseButton.LeftButton)
    assert not state.busy and not window.worker.is_running()
    assert window.run_list.count() == 0
    assert "Stopped" in window.message_bar.text()
    assert lab.attack_panel.run_button.isEnabled()


def test_escape_stops_the_run(qtbot, window):
    lab = lab_of(window)
    lab.attack_panel.form.set_values(ENDLESS_PGD)
    with qtbot.waitSignal(window.worker.progress, timeout=30_000):
        window.run_action.trigger()
    with qtbot.waitSignal(window.worker.cancelled, timeout=30_000):
        window.stop_action.trigger()
    assert not window.state.busy


def test_pause_and_resume(qtbot, window):
    lab = lab_of(window)
    panel = lab.attack_panel
    panel.form.set_values(ENDLESS_PGD)
    with qtbot.waitSignal(window.worker.progress, timeout=30_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert window.worker.is_paused() and panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # pending events arrive; then nothing moves
    frozen = lab.live_run().iteration
    qtbot.wait(400)
    assert lab.live_run().iteration == frozen
    assert "paused" in window.status_rate.text()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert not window.worker.is_paused() and panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: lab.live_run().iteration > frozen, timeout=30_000)
    with qtbot.waitSignal(window.worker.cancelled, timeout=30_000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)


def test_closing_the_window_mid_run_stops_the_worker(qtbot, settings):
    win = MainWindow(settings=settings, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    lab = lab_of(win)
    lab.attack_panel.form.set_values(ENDLESS_PGD)
    with qtbot.waitSignal(win.worker.progress, timeout=30_000):
        lab.run()
    win.close()
    assert not win.worker.is_running()
    # the thread fixture checks that no thread is left running


def test_undo_and_redo_a_mask_edit(qtbot, window):
    lab, state = lab_of(window), window.state
    index = state.current_index
    drag_rectangle(qtbot, lab.canvas, 4, 4, 12, 12)
    first = state.mask(index).copy()
    drag_rectangle(qtbot, lab.canvas, 16, 16, 24, 24)
    both = state.mask(index).copy()
    assert both.sum() > first.sum()
    lab.canvas.setFocus()
    qtbot.keyClick(lab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(state.mask(index), first)
    qtbot.keyClick(lab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(state.mask(index), both)


def test_each_image_keeps_its_own_mask(qtbot, window):
    lab, state = lab_of(window), window.state
    first = state.current_index
    drag_rectangle(qtbot, lab.canvas, 2, 2, 10, 10)
    drawn = state.mask(first).copy()
    other = (first + 1) % len(state.images)
    window.gallery.set_current(other)
    assert state.current_index == other
    assert state.mask(other) is None
    assert not lab.canvas.model_mask().any()
    window.gallery.set_current(first)
    assert np.array_equal(lab.canvas.model_mask(), drawn)


# -- bad files --------------------------------------------------------------------------------------


def test_corrupt_image_shows_a_message_and_keeps_the_images(qtbot, window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    images, model = window.state.images, window.state.model
    assert not window.open_data(str(bad))
    assert window.message_bar.kind == "error"
    text = window.message_bar.text()
    assert "broken.png" in text and "Traceback" not in text
    assert window.state.images is images and window.state.model is model
    assert window.gallery.count() == len(images)


def test_corrupt_image_among_good_ones_is_skipped(qtbot, window, tmp_path):
    from workbench.core.images import save_png

    good = tmp_path / "good.png"
    save_png(good, np.full((1, 28, 28), 0.5, np.float32))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    assert window.open_image_files([str(good), str(bad)])
    assert len(window.state.images) == 1
    assert "bad.png" in window.message_bar.text()


def test_corrupt_model_shows_a_message_and_keeps_model_and_images(qtbot, window, tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"broken\": tru")
    images, model = window.state.images, window.state.model
    source = ModelSource(str(bad), arch="small-cnn", input_size=(28, 28), channels=1)
    assert not window.load_model(source)
    assert window.message_bar.kind == "error"
    assert "model.safetensors" in window.message_bar.text()
    assert "Traceback" not in window.message_bar.text()
    assert window.state.model is model and window.state.images is images
    assert window.model_panel.picker.currentData() == "fashion-cnn"


def test_not_a_model_file(qtbot, window, tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("these are my notes, not a model")
    model = window.state.model
    assert not window.load_model(ModelSource(str(bad)))
    assert "not a model" in window.message_bar.text()
    assert window.state.model is model


def test_open_model_dialog_collects_the_input_spec(qtbot, tmp_path):
    from workbench.gui.dialogs import OpenModelDialog

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    dialog = OpenModelDialog(str(weights), architectures=["small-cnn", "resnet18"])
    qtbot.addWidget(dialog)
    dialog.arch_combo.setCurrentText("small-cnn")
    dialog.preset_combo.setCurrentText("MNIST / Fashion-MNIST (28×28 grey)")
    source = dialog.model_source()
    assert source.arch == "small-cnn" and source.input_size == (28, 28) and source.channels == 1
    dialog.mean_edit.setText("a, b")
    assert "mean and std" in dialog.problem().lower()


# -- the attack panel -------------------------------------------------------------------------------


def test_every_out_of_range_field_shows_a_message_and_disables_run(qtbot, window):
    panel = lab_of(window).attack_panel
    checked = 0
    for attack in ATTACKS:
        panel.picker.setCurrentIndex(panel.picker.findData(attack.id))
        assert window.state.attack_id == attack.id
        for info in describe(attack.Params):
            if info.kind not in (int, float) or info.high is None:
                continue
            editor = panel.form.editor(info.name)
            assert isinstance(editor, (QSpinBox, QDoubleSpinBox))
            line = editor.lineEdit()
            line.setFocus()
            line.selectAll()
            too_big = info.high * 2 + 1
            qtbot.keyClicks(line, str(int(too_big)) if info.kind is int else f"{too_big:g}")
            assert "above its maximum" in panel.form.message(info.name), (attack.id, info.name)
            assert panel.form.message_label(info.name).isVisible()
            assert not panel.run_button.isEnabled()
            assert info.title in panel.reason.text()
            window.run_action.trigger()  # the menu cannot start it either
            assert not window.worker.is_running()
            line.selectAll()
            qtbot.keyClicks(line, str(info.default))
            assert panel.form.message(info.name) == "", (attack.id, info.name)
            assert panel.run_button.isEnabled()
            checked += 1
    assert checked >= 3


def test_targeted_attack_reaches_the_target(qtbot, window):
    lab, state = lab_of(window), window.state
    true = state.current_label()
    target = (true + 1) % state.model.num_classes
    panel = lab.attack_panel
    panel.targeted_check.setChecked(True)
    panel.target_combo.setCurrentIndex(target)
    assert state.targeted and state.target_class == target
    panel.form.set_values({"eps": 0.5, "steps": 40, "step_size": 0.05, "early_stop": True})
    run = run_and_wait(qtbot, window)
    assert run.target_class == target
    assert "p_target" in run.history
    assert run.success == (run.predicted_adv == target)


def test_copy_as_command(qtbot, window):
    from workbench.cli import build_parser

    lab = lab_of(window)
    drag_rectangle(qtbot, lab.canvas, 6, 8, 20, 22)
    lab.attack_panel.form.set_values({"eps": 0.1, "steps": 20})
    window.state.set_seed(7)
    qtbot.mouseClick(lab.attack_panel.copy_button, Qt.MouseButton.LeftButton)
    command = QGuiApplication.clipboard().text()
    assert command.startswith("workbench attack --model fashion-cnn --data ")
    assert "--attack pgd" in command and "--param eps=0.1" in command and "--param steps=20" in command
    assert "--seed 7" in command
    mask = window.state.mask()
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    expected = f"--mask-rect {cols[0]},{rows[0]},{cols[-1] - cols[0] + 1},{rows[-1] - rows[0] + 1}"
    assert expected in command
    args = build_parser().parse_args(shlex.split(command)[1:])  # the CLI accepts it
    assert args.attack == "pgd" and args.seed == 7


def test_copy_as_command_with_a_drawn_mask_file(qtbot, window):
    lab = lab_of(window)
    lab.canvas.set_tool("ellipse")
    viewport = lab.canvas.viewport()
    start, end = lab.canvas.model_to_viewport(5, 5), lab.canvas.model_to_viewport(23, 23)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    command = window.labs[0].files.copy_command()
    assert "--mask " in command
    path = shlex.split(command)[shlex.split(command).index("--mask") + 1]
    from workbench.core.masks import load_mask_png

    loaded = load_mask_png(path, (28, 28))[0, 0].numpy()
    assert np.array_equal(loaded > 0, window.state.mask() > 0)


# -- runs, exports, presentation, settings --------------------------------------------------------


def test_past_runs_show_their_final_views_and_export(qtbot, window, tmp_path):
    from workbench.core.images import load_image

    lab, state = lab_of(window), window.state
    lab.attack_panel.form.set_values(QUICK_PGD)
    first = run_and_wait(qtbot, window)
    window.gallery.set_current((state.current_index + 3) % len(state.images))
    second = run_and_wait(qtbot, window)
    assert window.run_list.run_ids() == [first.run_id, second.run_id]
    window.run_list.select_run(first.run_id)
    assert state.selected_run == first.run_id
    shown = lab.triptych.adversarial_array()
    assert np.allclose(shown, np.transpose(first.x_adv, (1, 2, 0)).squeeze())
    assert lab.curves.point_count() == first.iterations
    adv_png, pert_png = tmp_path / "adv.png", tmp_path / "pert.png"
    assert window.labs[0].files.export_adversarial(str(adv_png))
    assert window.labs[0].files.export_perturbation(str(pert_png))
    loaded = load_image(adv_png).numpy()
    assert loaded.shape[-2:] == (28, 28)
    assert np.abs(loaded.reshape(first.x_adv.shape) - first.x_adv).max() <= 0.5 / 255 + 1e-6
    assert pert_png.stat().st_size > 0


def test_presentation_mode_hides_advanced_controls(qtbot, window):
    panel = lab_of(window).attack_panel
    assert panel.seed_spin.isVisible() and panel.copy_button.isVisible()
    window.presentation_action.trigger()
    assert window.state.presentation
    assert not panel.seed_spin.isVisible() and not panel.copy_button.isVisible()
    assert QApplication.font().pointSizeF() >= 16
    assert not window.docks["runsDock"].isVisible()
    window.presentation_action.trigger()
    assert not window.state.presentation
    assert panel.seed_spin.isVisible()
    from workbench.gui import theme

    assert QApplication.font().pointSizeF() == theme.NORMAL.font_pt
    assert window.docks["runsDock"].isVisible()


def test_layout_and_attack_settings_persist(qtbot, settings):
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.show()
    first.state.set_attack("fgsm")
    first.state.set_attack_params({"eps": 0.2})
    first.state.set_seed(5)
    first.docks["boundaryDock"].hide()
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    second.show()
    assert second.state.attack_id == "fgsm"
    assert lab_of(second).attack_panel.values()["eps"] == 0.2
    assert second.state.seed == 5
    assert not second.docks["boundaryDock"].isVisible()
    second.reset_layout()
    assert second.docks["boundaryDock"].isVisible()
    second.close()


def test_dropping_a_folder_opens_it(qtbot, window, tmp_path):
    from workbench.core.images import save_png

    folder = tmp_path / "mine"
    (folder / "Coat").mkdir(parents=True)
    for i in range(3):
        save_png(folder / "Coat" / f"{i}.png", np.full((1, 28, 28), i / 4, np.float32))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    assert QApplication.sendEvent(window, enter) and enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.state.images is not None and len(window.state.images) == 3, timeout=5_000)
    assert window.state.images.labels.tolist() == [4, 4, 4]
    assert window.recent()[0]["path"] == str(folder)


# -- the application entry point -----------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is for X11/Wayland")
def test_main_without_a_display_points_to_the_command_line(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert gui_app.main([]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "workbench attack --help" in err


def test_copied_command_repeats_the_run_on_the_same_image(qtbot, window):
    """The command names the current image's file and the CLI can read it."""
    from workbench.core.datasets import open_data

    command = window.labs[0].files.copy_command()
    args = shlex.split(command)
    data = args[args.index("--data") + 1]
    model = window.state.model
    single = open_data(data, model.spec, model.labels)
    assert len(single) == 1
    assert np.allclose(single.images[0].numpy(), window.state.current_image(), atol=1 / 255)


def test_target_equal_to_the_true_class_is_refused(qtbot, window):
    panel = lab_of(window).attack_panel
    panel.targeted_check.setChecked(True)
    panel.target_combo.setCurrentIndex(window.state.current_label())
    assert not lab_of(window).run()
    assert "own class" in window.message_bar.text() and not window.worker.is_running()


SMALL_BUDGETS = {"max_queries": 100, "initial_evals": 10, "max_evals": 50, "steps": 8, "samples": 10,
                 "surrogate": "fashion-cnn", "white_box_params": "eps=0.2,steps=5"}


def test_every_registered_attack_runs_from_the_panel(qtbot, window):
    """Each attack of the registry runs end to end from the window with a small budget (black-box
    ones through an oracle), and its curves hold one point per iteration."""
    lab, state = lab_of(window), window.state
    for attack in ATTACKS:
        state.set_attack(attack.id)
        names = {p.name for p in attack.parameters()}
        state.set_attack_params({k: v for k, v in SMALL_BUDGETS.items() if k in names})
        assert lab.attack_panel.oracle_box.isVisibleTo(lab.attack_panel) == (attack.access != "white-box")
        run = run_and_wait(qtbot, window)
        assert run is not None and run.attack_id == attack.id, window.message_bar.text()
        assert lab.curves.point_count() == run.iterations == len(run.history.get("iteration", ()))
    assert window.run_list.count() == len(ATTACKS)


def test_oracle_settings_reach_the_attack_and_the_command(qtbot, window):
    lab, state = lab_of(window), window.state
    state.set_attack("square")
    panel = lab.attack_panel
    panel.oracle_form.set_values({"top_k": 3, "decimals": 2, "budget": 50})
    assert state.oracle_params == {"top_k": 3, "decimals": 2, "budget": 50}
    command = window.labs[0].files.copy_command()
    assert "--top-k 3" in command and "--round 2" in command and "--budget 50" in command
    state.set_attack_params({"max_queries": 200})
    run = run_and_wait(qtbot, window)
    assert 0 < run.queries <= 50  # the budget held
    panel.oracle_form.set_values({"label_only": True})  # a score-based attack cannot work so
    with qtbot.waitSignal(window.worker.failed, timeout=10_000):
        assert lab.run()
    assert not window.state.busy and window.message_bar.kind == "error"
    assert "labels only" in window.message_bar.text()

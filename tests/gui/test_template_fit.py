"""Mask templates fitted to an image's landmarks (eyeglass frames on faces), placed by hand
where there are none, fitted to every image for a batch run, and exported for the printer."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from batch_helpers import run_batch_and_wait, window  # noqa: F401  (window: a fixture)
from workbench.core.images import read_image_array, save_png
from workbench.core.printable import print_size_pixels, read_resolution
from workbench.core.resources import resource_path
from workbench.gui.dialogs import PrintableDialog
from workbench.gui.state import ModelSource

TINY_PGD = {"eps": 0.3, "steps": 5, "step_size": 0.1, "random_start": False, "early_stop": True}


def face_folder(folder, n=4, seed=11):
    """Synthetic face photos in class folders with their eyes in ``landmarks.json``."""
    from workbench.zoo.faces import FACE_LABELS, render_faces

    images, labels, annotations = render_faces(n, seed)
    marks = {}
    for i, (image, label, eyes) in enumerate(zip(images, labels, annotations)):
        name = f"{FACE_LABELS[label]}/{i}.png"
        (folder / FACE_LABELS[label]).mkdir(parents=True, exist_ok=True)
        save_png(folder / name, np.transpose(image, (2, 0, 1)).astype(np.float32) / 255.0)
        marks[name] = eyes
    (folder / "landmarks.json").write_text(json.dumps(marks))
    return folder, marks


def eyes_in_model_pixels(marks, name, size):
    """The eyes of ``name`` in the model's pixels (the 64×64 photo resized to ``size``)."""
    scale = size / 64.0
    return [(np.asarray(marks[name][key]) + 0.5) * scale - 0.5 for key in ("left_eye", "right_eye")]


def assert_frames_the_eyes(mask, eyes):
    """The fitted frame surrounds both eyes: mask pixels close to each eye on its left and right
    (the rims), all of it in a band around the eye line, and at most 10 % of the image."""
    rows, cols = np.nonzero(mask > 0)
    assert rows.size and mask.mean() <= 0.10
    (lx, ly), (rx, ry) = eyes
    spacing = rx - lx
    for x, y in eyes:
        near = np.hypot(cols - x, rows - y) <= 0.75 * spacing
        assert (near & (cols < x)).any() and (near & (cols > x)).any()
    assert rows.min() >= min(ly, ry) - spacing and rows.max() <= max(ly, ry) + spacing
    assert cols.min() >= lx - 1.1 * spacing and cols.max() <= rx + 1.1 * spacing


def test_eyeglasses_fit_the_eyes_of_a_face(qtbot, window, tmp_path):  # noqa: F811
    folder, marks = face_folder(tmp_path / "faces")
    assert window.open_data(str(folder))
    lab, state = window.labs[0], window.state
    size = state.images.images.shape[-1]
    index = state.current_index
    assert state.mask(index) is None

    lab.toolbar.action("template:eyeglasses").trigger()  # the user picks the eyeglass frame

    mask = state.mask(index)
    assert mask is not None and not lab.canvas.has_template()
    assert_frames_the_eyes(mask, eyes_in_model_pixels(marks, state.images.names[index], size))
    assert "Fitted the eyeglass frame to the sample set's landmarks" in window.message_bar.text()
    lab.canvas.setFocus()
    qtbot.keyClick(lab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.mask(index) is None or not state.mask(index).any()
    qtbot.mouseClick(lab.toolbar.buttons["fit"], Qt.MouseButton.LeftButton)  # "Fit to image" again
    assert np.array_equal(state.mask(index), mask)

    # every image its own frame, then a batch run attacks each inside its own
    lab.toolbar.action("fit_all").trigger()
    masks = [state.mask(i) for i in range(len(state.images))]
    assert all(m is not None and m.any() for m in masks)
    assert not all(np.array_equal(masks[0], m) for m in masks[1:])
    assert f"to {len(state.images)} images" in window.message_bar.text()
    state.set_attack("pgd")
    lab.attack_panel.form.set_values(TINY_PGD)
    evaluation = run_batch_and_wait(qtbot, window)
    for i, m in enumerate(masks):
        changed = np.any(evaluation.x_adv[i] != evaluation.x[i], axis=0)
        assert not (changed & (m == 0)).any()


def test_without_landmarks_the_template_is_placed_by_hand(qtbot, window):  # noqa: F811
    lab = window.labs[0]
    lab.toolbar.action("template:eyeglasses").trigger()  # a fashion sample: no eyes to fit to
    assert lab.canvas.has_template() and window.state.mask() is None
    assert "Place the eyeglass frame by hand" in window.message_bar.text()
    lab.canvas.setFocus()
    qtbot.keyClick(lab.canvas, Qt.Key.Key_Return)  # stamps it where it was placed
    assert window.state.mask() is not None and window.state.mask().any()
    lab.toolbar.action("template:sticker-square").trigger()  # no anchors at all: by hand too
    assert lab.canvas.has_template() and "square sticker by hand" in window.message_bar.text()


def test_printable_export_from_the_run_list(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    folder, _marks = face_folder(tmp_path / "faces", n=2)
    assert window.open_data(str(folder))
    lab, state = window.labs[0], window.state
    lab.toolbar.action("template:eyeglasses").trigger()
    mask = state.mask()
    lab.attack_panel.form.set_values(TINY_PGD)
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        qtbot.mouseClick(lab.attack_panel.run_button, Qt.MouseButton.LeftButton)
    run = state.run(state.selected_run)
    path = tmp_path / "frame.png"
    monkeypatch.setattr(PrintableDialog, "exec", lambda self: PrintableDialog.DialogCode.Accepted)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), "PNG (*.png)"))

    window.run_list.context_menu(run.run_id).actions()[0].trigger()  # "Export printable…"

    rows, cols = np.nonzero(mask)
    box_w, box_h = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
    pixels = read_image_array(path, keep_alpha=True)
    assert (pixels.shape[1], pixels.shape[0]) == print_size_pixels(140.0, 300, box_h / box_w)
    assert read_resolution(path) == pytest.approx(300, abs=1)
    assert pixels[..., 3].min() == 0 and pixels[..., 3].max() == 255  # transparent off the frame
    assert "print it at 100 %" in window.statusBar().currentMessage()


def test_printable_dialog_shows_the_size_it_gives(qtbot):
    dialog = PrintableDialog((40, 10))
    qtbot.addWidget(dialog)
    dialog.width_spin.setValue(100.0)
    dialog.dpi_spin.setValue(254)
    assert "1000×250 pixels" in dialog.result.text()
    dialog.width_spin.setValue(2000.0)
    dialog.dpi_spin.setValue(4800)
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


@pytest.mark.skipif(not resource_path("samples", "faces", "landmarks.json").is_file(), reason="samples:faces not shipped")
def test_eyeglasses_fit_the_shipped_face_samples(qtbot, window):  # noqa: F811
    assert window.load_model(ModelSource("faces-cnn", builtin=True), data="samples:faces")
    lab, state = window.labs[0], window.state
    from workbench.core.landmarks import landmarks_for

    lab.toolbar.action("template:eyeglasses").trigger()
    eyes = landmarks_for(state.images, state.current_index)
    assert_frames_the_eyes(state.mask(), [np.asarray(eyes["left_eye"]), np.asarray(eyes["right_eye"])])

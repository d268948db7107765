"""Switching model in the window, clicked through the Open-model dialog: the images shown are
kept (converted to the new input) and the working directory is never opened as an image set;
a torch.export archive opens with the input it records; the previous model's run leaves every
view."""
from __future__ import annotations

import json

import numpy as np
import pytest
from batch_helpers import run_batch_and_wait, window  # noqa: F401  (window: a fixture)
from window_helpers import choose, open_model_with_dialog, run_and_wait, save_export, save_torchscript

from workbench.core.images import save_png

QUICK_PGD = {"eps": 0.3, "steps": 12, "step_size": 0.05, "random_start": False, "early_stop": True}


@pytest.fixture
def working_directory(tmp_path, monkeypatch):
    """The process's working directory: a folder with images of its own (one in a class folder)."""
    folder = tmp_path / "cwd"
    (folder / "Shirt").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("holiday-1.png", "holiday-2.png", "Shirt/not-a-sample.png"):
        save_png(folder / name, rng.random((3, 40, 40)).astype(np.float32))
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("channels, size, preset", [
    (1, 28, "MNIST / Fashion-MNIST (28×28 grey)"),
    (3, 32, "CIFAR-10 (32×32 RGB)"),
])
def test_a_user_model_keeps_the_samples_converted_and_never_opens_the_working_directory(
        qtbot, window, working_directory, tmp_path, channels, size, preset):  # noqa: F811
    state = window.state
    before = list(state.images.names)
    model_file = save_torchscript(tmp_path / "mine.ts", channels, size)

    assert open_model_with_dialog(qtbot, window, model_file, lambda dialog: choose(qtbot, dialog.preset_combo, preset))

    assert state.model.model_id == "mine.ts"
    images = state.images
    assert images is not None and images.source == "samples:fashion-mnist"  # the samples shown, kept
    assert sorted(images.names) == sorted(before)  # in class order: the new model names other classes
    assert not any("holiday" in name or "not-a-sample" in name for name in images.names)
    assert tuple(images.images.shape[1:]) == (channels, size, size)  # converted to the new input
    assert window.gallery.count() == len(before)
    assert window.message_bar.kind != "error", window.message_bar.text()


def test_an_empty_image_source_is_refused_not_read_as_the_working_directory(qtbot, window, working_directory):  # noqa: F811
    before = list(window.state.images.names)
    assert not window.open_data("")
    assert window.message_bar.kind == "error" and "no images chosen" in window.message_bar.text()
    assert list(window.state.images.names) == before


def test_a_user_model_without_images_to_convert_shows_an_empty_gallery_and_a_hint(
        qtbot, window, working_directory, tmp_path):  # noqa: F811
    window.state.images.source = ""  # images that name no source (nothing could reopen them)
    model_file = save_torchscript(tmp_path / "mine.ts")

    assert open_model_with_dialog(qtbot, window, model_file,
                                  lambda dialog: choose(qtbot, dialog.preset_combo, "MNIST / Fashion-MNIST (28×28 grey)"))

    assert window.state.images is None and window.gallery.count() == 0
    assert "Open images for mine.ts" in window.message_bar.text()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A genuine torch.export archive of a tiny CNN exported for 1×28×28 input."""
    return save_export(tmp_path_factory.mktemp("export") / "tiny.pt2")


def test_an_export_archive_opens_with_the_dialog_defaults(qtbot, window, exported):  # noqa: F811
    seen = {}

    def look(dialog):  # the dialog as it comes, untouched: the archive's input is filled in and locked
        seen.update(size=(dialog.height_spin.value(), dialog.width_spin.value()), channels=dialog.channels(),
                    locked=not dialog.height_spin.isEnabled() and not dialog.channels_combo.isEnabled(),
                    note=dialog.recorded_label.text())

    assert open_model_with_dialog(qtbot, window, exported, look)

    assert seen["size"] == (28, 28) and seen["channels"] == 1 and seen["locked"]
    assert "1×28×28" in seen["note"]
    model = window.state.model
    assert model.model_id == "tiny.pt2" and model.spec.shape == (1, 28, 28)
    assert window.message_bar.kind != "error", window.message_bar.text()
    assert window.state.images is not None and len(window.state.images) > 0


def test_an_export_archive_refuses_another_shape_and_names_the_one_it_expects(qtbot, window, exported):  # noqa: F811
    entry = {"kind": "model", "path": str(exported),
             "source": {"input_size": [224, 224], "channels": 3, "mean": [0.5], "std": [0.25]}}
    window.settings.setValue("recent", json.dumps([entry]))
    window.recent_files.rebuild_menu()
    action = next(a for a in window.recent_menu.actions() if str(exported) in a.text())

    action.trigger()  # File ▸ Recent ▸ the archive, remembered with a size it was not exported for

    text = window.message_bar.text()
    assert window.message_bar.kind == "error"
    assert "expects input 1×28×28" in text and "not 3×224×224" in text
    assert window.state.model.model_id == "fashion-cnn"  # the previous model stays


def test_switching_model_clears_the_previous_models_run_from_every_view(qtbot, window, tmp_path):  # noqa: F811
    lab, state = window.labs[0], window.state
    state.set_attack("pgd")
    lab.attack_panel.form.set_values(QUICK_PGD)
    run_batch_and_wait(qtbot, window)  # on all images: a table of results
    assert lab.results.row_count() == len(state.images)
    run = run_and_wait(qtbot, window)  # then on one: its curves in place of the table
    assert run is not None and window.run_list.count() == 1
    assert lab.curves.point_count() > 0 and lab.triptych.adversarial_array() is not None
    assert window.status_iteration.text()
    old_labels = set(run.labels)

    model_file = save_torchscript(tmp_path / "mine.ts")
    assert open_model_with_dialog(qtbot, window, model_file,
                                  lambda dialog: choose(qtbot, dialog.preset_combo, "MNIST / Fashion-MNIST (28×28 grey)"))

    assert state.model.model_id == "mine.ts"
    assert state.runs() == [] and state.selected_run == -1
    assert window.run_list.count() == 0
    assert lab.triptych.adversarial_array() is None and lab.triptych.perturbation_array() is None
    assert lab.triptych.original_array() is not None  # the current image, as the new model sees it
    assert lab.curves.point_count() == 0
    assert lab.boundary.current_slice() is None
    shown = {label for label, _p in lab.topk.rows()}
    assert shown and not shown & old_labels  # the new model's classes
    assert all(label.text() == "" for label in window.run_status.labels())
    assert lab.results.row_count() == 0 and lab.batch.last() is None
    assert not window.docks["batchDock"].isVisible() and window.docks["curvesDock"].isVisible()

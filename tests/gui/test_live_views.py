"""The Evasion lab's live views (issue 12, item 15): a new run starts from clean views, the
views redraw only what changed, and the worker leaves a CPU core to the window."""
from __future__ import annotations

import numpy as np
from batch_helpers import window  # noqa: F401  (window: a fixture)
from PySide6.QtCore import Qt

QUICK_PGD = {"eps": 0.3, "steps": 12, "step_size": 0.05, "random_start": False, "early_stop": False}


def run_pgd(qtbot, win):
    lab = win.labs[0]
    lab.attack_panel.form.set_values(QUICK_PGD)
    with qtbot.waitSignal(win.worker.finished, timeout=60_000):
        qtbot.mouseClick(lab.attack_panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.state.busy, timeout=5_000)
    return win.state.run(win.state.selected_run)


def test_a_new_run_clears_the_previous_runs_decision_boundary(qtbot, window):
    win, lab = window, window.labs[0]
    win.state.set_attack("pgd")
    first = run_pgd(qtbot, win)
    assert first.boundary is not None and first.boundary.final
    assert lab.boundary.current_slice() is first.boundary

    shown: list = []  # what the boundary view was given from the click on
    set_slice, clear = lab.boundary.set_slice, lab.boundary.clear
    lab.boundary.set_slice = lambda data: (shown.append(data), set_slice(data))[1]
    lab.boundary.clear = lambda: (shown.append(None), clear())[1]
    second = run_pgd(qtbot, win)

    assert shown and shown[0] is None  # cleared before the new run's first slice
    assert all(data is not first.boundary for data in shown)
    assert second.boundary is not None and second.boundary.final
    assert lab.boundary.current_slice() is second.boundary  # the final state is exact
    assert lab.curves.point_count() == QUICK_PGD["steps"]


def test_the_triptych_converts_the_unchanged_original_once(qtbot):
    from workbench.gui.widgets.image_triptych import ImageTriptych, demo_images

    view = ImageTriptych()
    qtbot.addWidget(view)
    original, adversarial = demo_images()
    view.set_images(original, adversarial, ("Original: Coat 97 %", "Adversarial: Shirt 64 %"))
    image = view.original_panel.image
    strip = view.perturbation_panel.colorbar_strip()
    view.set_images(original.copy(), np.clip(adversarial + 0.01, 0, 1), ("Original: Coat 97 %", "Adversarial: Shirt 60 %"))
    assert view.original_panel.image is image  # the same picture: not converted again
    assert view.perturbation_panel.colorbar_strip() is strip
    assert view.adversarial_panel.title.startswith("Adversarial: Shirt 60")
    np.testing.assert_allclose(view.adversarial_array(), np.clip(adversarial + 0.01, 0, 1))

    other = np.flipud(original).copy()
    view.set_images(other, other, ("Original: Bag 90 %", "Adversarial: Bag 90 %"))
    assert view.original_panel.image is not image
    np.testing.assert_array_equal(view.original_array(), other)
    assert view.original_panel.title.startswith("Original: Bag")


def test_the_worker_leaves_a_cpu_to_the_window_and_restores_the_setting(qtbot):
    import torch

    from workbench.gui.worker import TaskWorker, gui_cpu_threads

    assert gui_cpu_threads(2, cpus=2) == 1
    assert gui_cpu_threads(4, cpus=4) == 3
    assert gui_cpu_threads(8, cpus=16) == 8  # physical cores of a hyper-threaded CPU: as is
    assert gui_cpu_threads(1, cpus=1) == 1

    before = torch.get_num_threads()
    seen: list[int] = []

    def task():
        seen.append(torch.get_num_threads())
        yield 1

    worker = TaskWorker()
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start(task)
    assert seen == [gui_cpu_threads(before)]
    assert torch.get_num_threads() == before

"""What the batch-mode, attacker-view and template tests share: a window on a few images, and
running on all of them with the real button."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from workbench.core.resources import resource_path
from workbench.gui.main_window import MainWindow

# Two images of each of four classes: batch runs take well under a second each.
CLASSES = ("Coat", "Sneaker", "Trouser", "Bag")


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


def few_samples(folder: Path, per_class: int = 2) -> Path:
    """A folder of ``per_class`` fashion samples of each of :data:`CLASSES` (class folders)."""
    for name in CLASSES:
        (folder / name).mkdir(parents=True)
        for index in range(per_class):
            shutil.copy(resource_path("samples", "fashion-mnist", name, f"{index}.png"), folder / name / f"{index}.png")
    return folder


def run_batch_and_wait(qtbot, win, timeout=120_000):
    """Click "Run on all images" and wait for the batch run to end; its Evaluation."""
    lab = win.labs[0]
    button = lab.attack_panel.batch_button
    assert button.isEnabled(), lab.attack_panel.run_blocker()
    with qtbot.waitSignal(win.worker.finished, timeout=timeout):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.state.busy, timeout=5_000)
    return lab.batch.last().evaluation

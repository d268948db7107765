"""Helpers of the window's GUI tests on model switching and the status bar: tiny model files
the user might bring, the Open-model dialog answered with real clicks, and runs started with
the Run button (the window fixture is in :mod:`batch_helpers`)."""
from __future__ import annotations

import warnings

import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from torch import nn

from workbench.gui.dialogs import OpenModelDialog


class TinyCNN(nn.Module):
    """A ten-class CNN on ``channels``×``size``×``size`` images, random weights."""

    def __init__(self, channels: int = 1, size: int = 28) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(channels, 4, 3)
        self.head = nn.Linear(4 * (size - 2) ** 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).flatten(1))


def save_torchscript(path, channels: int = 1, size: int = 28):
    """A TorchScript file of :class:`TinyCNN` (it does not record its input)."""
    with warnings.catch_warnings():  # torch.jit.script is deprecated, TorchScript files are not
        warnings.simplefilter("ignore")
        torch.jit.script(TinyCNN(channels, size).eval()).save(str(path))
    return path


def save_export(path, channels: int = 1, size: int = 28):
    """A genuine torch.export archive of :class:`TinyCNN`, exported for 1×C×H×W input."""
    program = torch.export.export(TinyCNN(channels, size).eval(), (torch.zeros(1, channels, size, size),))
    torch.export.save(program, str(path))
    return path


def open_model_with_dialog(qtbot, win, path, answer=None) -> bool:
    """File ▸ Open model… on ``path``: ``answer(dialog)`` fills the dialog in (nothing: its
    defaults), then the Open button is clicked."""
    seen: dict = {}

    def fill_and_open():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, OpenModelDialog), dialog
        if answer is not None:
            answer(dialog)
        button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Open)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        if dialog.isVisible():  # refused (the dialog says why): close it rather than hang
            seen["refused"] = dialog.error_label.text()
            dialog.reject()

    QTimer.singleShot(0, fill_and_open)
    opened = win.open_model_dialog(str(path))
    assert "refused" not in seen, seen.get("refused")
    return opened


def choose(qtbot, combo, text: str) -> None:
    """Pick an item of a combo box with the keyboard, as a user does."""
    combo.setFocus()
    index = combo.findText(text)
    assert index >= 0, text
    while combo.currentIndex() != index:
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)


def run_and_wait(qtbot, win, timeout=60_000):
    """Click the Evasion lab's Run button and wait for the run to finish; the run shown."""
    panel = win.labs[0].attack_panel
    assert panel.run_button.isEnabled(), panel.run_blocker()
    with qtbot.waitSignal(win.worker.finished, timeout=timeout):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not win.state.busy, timeout=5_000)
    return win.state.run(win.state.selected_run)

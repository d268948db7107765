"""The run counters of the window's status bar, one set per lab.

The worker publishes one typed :class:`~workbench.gui.tasks.RunStatus` for every run
(``TaskWorker.statusChanged``); the status bar keeps the last one of each owner (the lab that
started the run) and shows the current lab's, so that switching labs never leaves another lab's
rate on screen, and a lab's last run stays to be seen when the user comes back to it.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar

from workbench.gui.tasks import RunStatus


def counter_text(status: RunStatus) -> str:
    """The progress part of a status, e.g. "Iteration 16/16 · 500 queries"."""
    done, total = status.done, status.total
    shown = f"{done:g}" if isinstance(done, float) else str(done)
    text = f"{status.counter} {shown}/{total:g}" if total else f"{status.counter} {shown}"
    if status.batch:
        (batch, batches), (images_done, images) = status.batch, status.images or (0, 0)
        text = f"Batch {batch}/{batches} · {images_done}/{images} images · " + text.lower()
    if status.queries:
        text += f" · {status.queries:,} queries"
    return text


class RunStatusBar:
    """Four permanent labels of ``bar`` (counters, rate, elapsed time, device) showing the
    current lab's last run status (see the module docstring)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.counters, self.rate, self.elapsed, self.device = QLabel(), QLabel(), QLabel(), QLabel()
        for label in self.labels():
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self._reports: dict[int, RunStatus] = {}  # id(owner) → its last status
        self._current: int | None = None

    def labels(self) -> tuple[QLabel, QLabel, QLabel, QLabel]:
        return self.counters, self.rate, self.elapsed, self.device

    def report(self, status: RunStatus) -> None:
        """A run's status; shown at once if its owner is the current lab."""
        self._reports[id(status.owner)] = status
        if id(status.owner) == self._current:
            self._show(status)

    def set_current(self, lab: Any | None) -> None:
        """The lab now shown: its last status, or nothing."""
        self._current = None if lab is None else id(lab)
        self._show(self._reports.get(self._current) if self._current is not None else None)

    def clear(self) -> None:
        """Forget every lab's status (e.g. another model: its runs are gone)."""
        self._reports.clear()
        self._show(None)

    def _show(self, status: RunStatus | None) -> None:
        if status is None:
            for label in self.labels():
                label.clear()
            return
        self.counters.setText(counter_text(status))
        paused = " (paused)" if status.paused else ""
        self.rate.setText(f"{status.rate:.1f} {status.rate_unit}/s{paused}")
        self.elapsed.setText(f"{status.elapsed:.1f} s")
        self.device.setText(status.device)

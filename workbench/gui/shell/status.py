"""``RunStatus``: the run counters of the window's status bar, one set per lab.

Each lab reports its runs' progress as a dict (``statusChanged``); the status bar shows the
report of the lab that is current, so that switching labs never leaves another lab's rate on
screen, and a lab's last report stays to be seen when the user comes back to it. The keys:

- ``iteration``, ``total`` — the counter and its end (0: open-ended), shown as
  ``"<counter> 5/16"``; ``counter`` names it ("Iteration" unless said otherwise: "Strength",
  "Query", "Image");
- ``batch`` (batch, batches) and ``images`` (done, total) — batch runs;
- ``queries`` — black-box runs: queries spent;
- ``rate``, ``rate_unit`` ("it/s" unless said otherwise), ``paused``, ``elapsed`` (seconds) and
  ``device``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar


def counter_text(status: dict[str, Any]) -> str:
    """The progress part of a status, e.g. "Iteration 16/16 · 500 queries"."""
    total = status.get("total") or 0
    iteration = status.get("iteration", 0)
    counter = status.get("counter", "Iteration")
    text = f"{counter} {iteration}/{total}" if total else f"{counter} {iteration}"
    if status.get("batch"):
        (batch, batches), (done, images) = status["batch"], status["images"]
        text = f"Batch {batch}/{batches} · {done}/{images} images · " + text.lower()
    if status.get("queries"):
        text += f" · {status['queries']:,} queries"
    return text


class RunStatus:
    """Four permanent labels of ``bar`` (counters, rate, elapsed time, device) showing the
    current lab's last report (see the module docstring)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.counters, self.rate, self.elapsed, self.device = QLabel(), QLabel(), QLabel(), QLabel()
        for label in self.labels():
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self._reports: dict[int, dict[str, Any]] = {}  # id(lab) → its last report
        self._current: int | None = None

    def labels(self) -> tuple[QLabel, QLabel, QLabel, QLabel]:
        return self.counters, self.rate, self.elapsed, self.device

    def report(self, lab: object, status: dict[str, Any]) -> None:
        """A lab's progress; shown at once if the lab is current."""
        self._reports[id(lab)] = dict(status)
        if id(lab) == self._current:
            self._show(status)

    def set_current(self, lab: object | None) -> None:
        """The lab now shown: its last report, or nothing."""
        self._current = None if lab is None else id(lab)
        self._show(self._reports.get(self._current) if self._current is not None else None)

    def clear(self) -> None:
        """Forget every lab's report (e.g. another model: its runs are gone)."""
        self._reports.clear()
        self._show(None)

    def _show(self, status: dict[str, Any] | None) -> None:
        if status is None:
            for label in self.labels():
                label.clear()
            return
        self.counters.setText(counter_text(status))
        paused = " (paused)" if status.get("paused") else ""
        self.rate.setText(f"{status.get('rate', 0.0):.1f} {status.get('rate_unit', 'it/s')}{paused}")
        self.elapsed.setText(f"{status.get('elapsed', 0.0):.1f} s")
        self.device.setText(status.get("device", ""))

"""Per-run task handles and the typed run status (ARCHITECTURE.md, "The GUI").

:meth:`workbench.gui.worker.TaskWorker.start` returns a :class:`TaskHandle` for the run it
started. The handle is the only route of that run's events: the page that started the run
passes its slots, and no other page ever sees them (no lab filters the worker's signals)::

    handle = worker.start(
        source,                                 # a generator, or a callable returning one
        on={AttackStep: self._show_step,        # by event type (a base class catches subclasses)
            BoundarySlice: self._show_slice},
        on_result=self._show_result,            # the last event, always delivered
        on_end=self._ended,                     # "finished" | "cancelled" | "failed", message
        owner=self.lab,                         # whose run it is (the status bar's key)
    )
    handle.cancel(); handle.set_paused(True); handle.is_running()

**Adding an event.** Make it a frozen dataclass in the engine. If it reports progress, give
it a ``progress_report()`` returning a :class:`workbench.core.events.ProgressReport` (done,
total, unit); set ``milestone=True`` on events that must never be dropped (a batch's result, a
stage's end): the worker delivers every milestone in order, and thins the others to the latest
of their type. An event that carries increments without being a milestone (the queries since
the previous snapshot) declares ``never_dropped: ClassVar[bool] = True`` instead. Nothing else is needed: the status bar, the command line's progress printer and
the worker all read that protocol.

**Run status.** The worker owns elapsed time (pauses excluded), the paused flag and the rate;
it builds one :class:`RunStatus` from the progress reports and publishes it on
``TaskWorker.statusChanged``. A page that knows better (a count the events do not carry, such
as queries) refines it with :meth:`TaskHandle.refine`.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from workbench.core.events import ProgressReport

# A progress report's unit → the status bar's counter name and the rate's unit.
COUNTERS = {"step": "Iteration", "it": "Iteration", "iteration": "Iteration", "query": "Query", "queries": "Query",
            "strength": "Strength", "strengths": "Strength", "image": "Image", "images": "Image", "epoch": "Epoch"}
RATE_UNITS = {"step": "it", "iteration": "it", "query": "queries", "queries": "queries", "strength": "strengths",
              "image": "images", "epoch": "epochs"}


@dataclass(frozen=True)
class RunStatus:
    """What the status bar shows of a run: ``counter done/total`` (total 0: open-ended), the
    rate in ``rate_unit``/s, the elapsed seconds (pauses excluded), whether it is paused, the
    device; batch runs add ``batch`` (batch, batches) and ``images`` (done, total), black-box
    runs the ``queries`` spent; ``rated`` is what the rate counts when not ``done``. ``owner`` is who started the run (the status bar keeps one
    status per owner and shows the current lab's)."""

    owner: Any = None
    counter: str = "Iteration"
    done: float = 0
    total: float = 0
    rate_unit: str = "it"
    rate: float = 0.0
    elapsed: float = 0.0
    paused: bool = False
    device: str = ""
    queries: int = 0
    batch: tuple[int, int] | None = None
    images: tuple[int, int] | None = None
    rated: float | None = None  # what the rate counts, when not ``done`` (images of a batch run)
    state: str = "running"  # then "finished", "cancelled" or "failed"


def _slot_for(on: Mapping[type, Callable[[Any], None]], event: Any) -> Callable[[Any], None] | None:
    for kind in type(event).__mro__:
        slot = on.get(kind)
        if slot is not None:
            return slot
    return None


class TaskHandle:
    """One run started by :meth:`TaskWorker.start` (see the module docstring). Its slots are
    called in the GUI thread, with NumPy snapshots of the events."""

    def __init__(self, worker, on: Mapping[type, Callable[[Any], None]] | None, on_result, on_end,
                 owner: Any, device: str) -> None:
        self._worker = worker
        self._on = dict(on or {})
        self._on_result = on_result
        self._on_end = on_end
        self._started = time.monotonic()
        self._paused_at: float | None = None
        self._paused_seconds = 0.0
        self._label: str | None = None
        self._last_published = 0.0
        self._pinned: set[str] = set()  # fields the page refined: the events no longer set them
        self.state = "running"
        self.status = RunStatus(owner=owner, device=device)

    # -- control ------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.state == "running"

    def cancel(self) -> None:
        if self.is_running():
            self._worker._cancel_run(self)

    def set_paused(self, paused: bool) -> None:
        if self.is_running():
            self._worker._pause_run(self, bool(paused))

    def is_paused(self) -> bool:
        return self._paused_at is not None

    def elapsed(self) -> float:
        """Seconds since the run started, pauses excluded."""
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return max(now - self._started - self._paused_seconds, 0.0)

    def refine(self, **changes: Any) -> None:
        """Change fields of the run status (:class:`RunStatus`) that the events do not carry, and
        publish it; the rate follows ``done`` (or ``rated``). Fields other than ``done`` and
        ``total`` stay as refined: the progress reports no longer change them."""
        self._pinned.update(key for key in changes if key not in ("done", "total"))
        self._publish(**changes)

    # -- from the worker (GUI thread) -----------------------------------------------------------------
    def _paused(self, paused: bool) -> None:
        now = time.monotonic()
        if paused and self._paused_at is None:
            self._paused_at = now
        elif not paused and self._paused_at is not None:
            self._paused_seconds += now - self._paused_at
            self._paused_at = None
        self._publish(paused=paused)

    def _deliver(self, event: Any, report: ProgressReport | None) -> None:
        self._count(report)
        slot = _slot_for(self._on, event)
        if slot is not None:
            slot(event)

    def _count(self, report: ProgressReport | None, force: bool = False) -> None:
        """Take a progress report into the status. A milestone of another count (a stage's
        result among its steps) does not replace the counter."""
        if report is None or (report.milestone and self._label is not None and report.label != self._label):
            if force:
                self._publish()
            return
        self._label = report.label
        changes = dict(done=report.done, total=report.total, counter=COUNTERS.get(report.unit, report.unit.capitalize()),
                       rate_unit=RATE_UNITS.get(report.unit, report.unit))
        changes = {key: value for key, value in changes.items() if key not in self._pinned}
        now = time.monotonic()
        if force or now - self._last_published >= 0.1:  # the status bar redraws ≤ 10 times a second
            self._publish(**changes)
        else:
            self.status = dataclasses.replace(self.status, **changes)

    def _result(self, final: Any, report: ProgressReport | None) -> None:
        self._count(report, force=True)
        if self._on_result is not None:
            self._on_result(final)

    def _end(self, state: str, message: str) -> None:
        if self._paused_at is not None:
            self._paused(False)
        self.state = state
        self._publish(state=state)
        if self._on_end is not None:
            self._on_end(state, message)

    def _publish(self, **changes: Any) -> None:
        status = dataclasses.replace(self.status, **changes)
        elapsed = self.elapsed()
        done = float(status.rated if status.rated is not None else status.done or 0)
        self.status = dataclasses.replace(status, elapsed=elapsed, paused=self._paused_at is not None,
                                          rate=done / elapsed if done and elapsed > 0 else 0.0)
        self._last_published = time.monotonic()
        self._worker.statusChanged.emit(self.status)

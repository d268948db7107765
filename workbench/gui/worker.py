"""``TaskWorker``: runs any engine generator in a QThread (ARCHITECTURE.md, "The GUI").

The worker pulls events from the generator in its own thread and hands them to the GUI thread:

- **Throttle, latest wins, per event type.** Events are held in a slot per type; at most
  ``max_rate`` times a second (and only once the GUI has taken the previous batch) the latest
  event of each type is emitted, in the order the types last arrived. So a rare event (a
  decision-boundary slice) is never pushed out by a frequent one (attack steps). Events whose
  progress report is a milestone (:func:`workbench.core.events.progress_of`; e.g. the result
  of each batch of a batch run), or whose class says so (``never_dropped``), are never dropped.
- **Per-run handles.** :meth:`TaskWorker.start` returns a :class:`~workbench.gui.tasks.TaskHandle`
  whose slots alone receive that run's events; the worker keeps its elapsed time, pauses and
  rate and publishes one typed :class:`~workbench.gui.tasks.RunStatus` (``statusChanged``).
- **The final event is always delivered**: when the generator ends, pending events are flushed
  and the last event is emitted with :attr:`TaskWorker.finished`.
- **Snapshots.** Events are converted to CPU NumPy (:func:`to_numpy`) in the worker thread,
  before they cross the thread boundary: signals never carry tensors or QObjects.
- **Cancel** is cooperative: the worker stops pulling and closes the generator in its own
  thread, which runs the generator's ``finally:``. **Pause** stops pulling.
- **Errors** become :attr:`TaskWorker.failed` with a readable message (a
  :class:`~workbench.core.errors.WorkbenchError`'s message as it is; any other exception
  summarised in one line, the traceback going to the log), never a crash.
- :meth:`TaskWorker.shutdown` cancels and waits; the main window calls it when it closes.
- **A core for the window.** While a task runs, its thread computes with PyTorch's intra-op
  threads capped at one less than the CPUs this process may use (:func:`gui_cpu_threads`), so
  that the window's drawing does not stall every parallel operation of the attack; the previous
  setting comes back when the task ends. (With OpenMP the cap applies to the task's thread and
  to threads started meanwhile; the GUI thread keeps its own.)
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from workbench.core.errors import WorkbenchError
from workbench.core.events import ProgressReport, never_dropped, progress_of
from workbench.gui.task_threads import _cpu_threads_for_task, gui_cpu_threads  # noqa: F401 - re-exported
from workbench.gui.tasks import TaskHandle

log = logging.getLogger(__name__)

GeneratorSource = Iterable[Any] | Callable[[], Iterable[Any]]


def to_numpy(value: Any) -> Any:
    """A snapshot of ``value`` safe to hand to another thread: tensors become CPU NumPy copies,
    NumPy arrays are copied, and dataclasses, dicts, lists and tuples are converted recursively
    (frozen dataclasses through :func:`dataclasses.replace`). Other values are returned as is."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().to("cpu").numpy().copy()
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: to_numpy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {key: to_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_numpy(item) for item in value)
    return value


def describe_error(error: BaseException) -> str:
    """A message fit for the window: a WorkbenchError's own text, else a one-line summary."""
    if isinstance(error, WorkbenchError):
        return str(error)
    text = " ".join(str(error).split())
    if len(text) > 240:
        text = text[:237] + "…"
    kind = type(error).__name__
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        return f"Out of memory ({kind}). Try a smaller model, fewer images or the CPU."
    return f"Unexpected error ({kind}): {text}" if text else f"Unexpected error ({kind})"


class _TaskThread(QThread):
    """The thread that pulls one generator. Its signals are emitted from the worker thread and
    delivered (queued) in the GUI thread, where :class:`TaskWorker` relays them."""

    batch = Signal(object)  # a list of (numpy snapshot, progress report) of intermediate events
    ended = Signal(str, object, object, str)  # status ("finished", …), final, its report, message

    def __init__(self, source: GeneratorSource, interval: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._interval = interval
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._taken = threading.Event()  # the GUI has taken the previous batch
        self._taken.set()

    # -- control (any thread) -----------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._resume.set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def taken(self) -> None:
        self._taken.set()

    # -- the worker thread ----------------------------------------------------------------------
    def run(self) -> None:
        with _cpu_threads_for_task():  # restored before the GUI learns that the task ended
            ended = self._pull()
        self.ended.emit(*ended)

    def _pull(self) -> tuple[str, Any, Any, str]:  # noqa: C901 - one loop, kept together on purpose
        """Pull the generator to its end; (status, final event, its progress report, message)."""
        generator: Iterator[Any] | None = None
        status, final, report, message = "finished", None, None, ""
        try:
            source = self._source() if callable(self._source) else self._source
            generator = iter(source)
            # type → latest event, and (kept, n) → the n-th kept event; dicts keep insertion order
            pending: dict[Any, Any] = {}
            kept = 0
            last: Any = _NOTHING
            last_flush = 0.0

            def flush_if_due() -> float:
                now = time.monotonic()
                if pending and now - last_flush >= self._interval and self._taken.is_set():
                    self._flush(pending)
                    return now
                return last_flush

            while True:
                while not self._resume.is_set():  # paused: show what is pending, then wait
                    last_flush = flush_if_due()
                    self._resume.wait(0.05)
                if self._cancel.is_set():
                    status = "cancelled"
                    break
                try:
                    event = next(generator)
                except StopIteration:
                    break
                if never_dropped(event, _report(event)):
                    kept += 1
                    pending[(_KEPT, kept)] = event
                else:
                    kind = type(event)
                    pending.pop(kind, None)  # re-insert: the order of last arrival
                    pending[kind] = event
                last = event
                last_flush = flush_if_due()
            if status == "finished":
                if pending and next(reversed(pending.values())) is last:
                    pending.popitem()  # delivered by `finished`, not twice
                if pending:
                    self._flush(pending)
                if last is not _NOTHING:
                    final, report = to_numpy(last), _report(last)
        except Exception as error:  # reported, never raised into Qt
            log.error("task failed: %s", error, exc_info=not isinstance(error, WorkbenchError))
            status, final, report, message = "failed", None, None, describe_error(error)
        finally:
            if generator is not None:
                close = getattr(generator, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception as error:  # a generator's finally: that raises
                        log.error("closing the task failed", exc_info=True)
                        if status != "failed":
                            status, final, report, message = "failed", None, None, describe_error(error)
            self._source = None
        return status, final, report, message

    def _flush(self, pending: dict[Any, Any]) -> None:
        events = [(to_numpy(event), _report(event)) for event in pending.values()]
        pending.clear()
        self._taken.clear()
        self.batch.emit(events)


def _report(event: Any) -> ProgressReport | None:
    """The event's progress report (on the engine's tensors, before the snapshot); a report
    that fails is no report."""
    try:
        return progress_of(event)
    except Exception:  # noqa: BLE001 - progress is a courtesy, never a failure
        log.debug("no progress report from %r", type(event).__name__, exc_info=True)
        return None


_NOTHING = object()
_KEPT = object()  # marks the slots of kept events


class TaskWorker(QObject):
    """Runs one engine generator at a time in a background thread; each run has its own
    :class:`~workbench.gui.tasks.TaskHandle` (see :mod:`workbench.gui.tasks`).

    The run's events go to the slots given to :meth:`start`. Signals, for observers of every
    run (the window, tests; all delivered in the GUI thread):

    - ``started()``; ``progress(object)`` — an intermediate event, a NumPy snapshot;
    - ``finished(object)`` — the last event (``None`` if none), which ``progress`` may have
      carried already: ``finished`` is the authority on the final event;
    - ``cancelled()``; ``failed(str)`` — a message fit to show; ``done(str)`` — after any of
      these three: ``"finished"``, ``"cancelled"`` or ``"failed"``;
    - ``runningChanged(bool)``, ``pausedChanged(bool)``, ``statusChanged(RunStatus)``.
    """

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    done = Signal(str)
    runningChanged = Signal(bool)
    pausedChanged = Signal(bool)
    statusChanged = Signal(object)

    def __init__(self, parent: QObject | None = None, *, max_rate: float = 25.0) -> None:
        super().__init__(parent)
        self.max_rate = float(max_rate)
        self._thread: _TaskThread | None = None
        self._handle: TaskHandle | None = None
        self._paused = False

    # -- state ------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    def is_paused(self) -> bool:
        return self._paused

    def current(self) -> TaskHandle | None:
        """The handle of the run in progress, if any."""
        return self._handle

    # -- control ----------------------------------------------------------------------------------
    def start(self, source: GeneratorSource, *, on: Mapping[type, Callable[[Any], None]] | None = None,
              on_result: Callable[[Any], None] | None = None, on_end: Callable[[str, str], None] | None = None,
              owner: Any = None, device: str = "") -> TaskHandle:
        """Run ``source`` — a generator (any iterable), or a callable returning one, which is
        then called in the worker thread so that its set-up does not block the window — and
        return its handle. ``on`` maps event types to slots (a base class catches its
        subclasses), ``on_result(final)`` receives the last event, ``on_end(state, message)``
        ends every run; ``owner`` and ``device`` go into the run status.

        Raises RuntimeError if a task is already running.
        """
        if self._thread is not None:
            raise RuntimeError("a task is already running; cancel it or wait for it to end")
        thread = _TaskThread(source, 1.0 / self.max_rate if self.max_rate > 0 else 0.0)
        thread.batch.connect(self._on_batch)
        thread.ended.connect(self._on_ended)
        self._thread = thread
        handle = self._handle = TaskHandle(self, on, on_result, on_end, owner, device)
        self._set_paused(False)
        thread.start()
        self.started.emit()
        self.runningChanged.emit(True)
        handle.refine()
        return handle

    def cancel(self) -> None:
        """Ask the task to stop; it stops after the event being computed. ``cancelled`` follows."""
        if self._thread is not None:
            self._thread.cancel()
            self._set_paused(False)

    def pause(self) -> None:
        if self._thread is not None and not self._paused:
            self._thread.pause()
            self._set_paused(True)

    def resume(self) -> None:
        if self._thread is not None and self._paused:
            self._thread.resume()
            self._set_paused(False)

    def set_paused(self, paused: bool) -> None:
        self.pause() if paused else self.resume()

    def _cancel_run(self, handle: TaskHandle) -> None:
        if handle is self._handle:
            self.cancel()

    def _pause_run(self, handle: TaskHandle, paused: bool) -> None:
        if handle is self._handle:
            self.set_paused(paused)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the current task's thread has ended (its signals are still queued)."""
        thread = self._thread
        if thread is None:
            return True
        return thread.wait() if timeout_ms < 0 else thread.wait(int(timeout_ms))

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel the task and wait for its thread to end; for closing the window mid-run.
        Pending signals are dropped. Returns False if the thread did not end in time."""
        thread = self._thread
        if thread is None:
            return True
        thread.cancel()
        ended = thread.wait(int(timeout_ms))
        if ended:
            try:
                thread.batch.disconnect(self._on_batch)
                thread.ended.disconnect(self._on_ended)
            except (RuntimeError, TypeError):
                pass
            self._thread = None
            self._handle = None
            self._set_paused(False)
            self.runningChanged.emit(False)
            thread.deleteLater()
        return ended

    # -- relays (GUI thread) ------------------------------------------------------------------
    def _on_batch(self, events: list) -> None:
        thread = self.sender()
        if thread is None or thread is not self._thread:
            return
        handle = self._handle
        try:
            for event, report in events:
                if handle is not None:
                    handle._deliver(event, report)
                self.progress.emit(event)
        finally:
            # Acknowledge once the event loop has worked off what the views asked for (repaints
            # are posted events, handled before a zero-delay timer fires): the worker flushes
            # again only then, so a slow view lowers the rate instead of flooding the loop.
            QTimer.singleShot(0, self._acknowledge)

    def _acknowledge(self) -> None:
        if self._thread is not None:
            self._thread.taken()

    def _on_ended(self, status: str, final: Any, report: Any, message: str) -> None:
        thread = self.sender()
        if thread is None or thread is not self._thread:
            return
        thread.wait()  # it has emitted its last signal; this returns at once
        handle = self._handle
        self._thread = None
        self._handle = None
        self._set_paused(False)
        thread.deleteLater()
        self.runningChanged.emit(False)
        if status == "finished" and handle is not None:
            handle._result(final, report)
        if handle is not None:
            handle._end(status, message)
        if status == "finished":
            self.finished.emit(final)
        elif status == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(message)
        self.done.emit(status)

    def _set_paused(self, paused: bool) -> None:
        if paused != self._paused:
            self._paused = paused
            if self._handle is not None:
                self._handle._paused(paused)
            self.pausedChanged.emit(paused)

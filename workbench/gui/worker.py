"""``TaskWorker``: runs any engine generator in a QThread (ARCHITECTURE.md, "The GUI").

The worker pulls events from the generator in its own thread and hands them to the GUI thread:

- **Throttle, latest wins, per event type.** Events are held in a slot per type; at most
  ``max_rate`` times a second (and only once the GUI has taken the previous batch) the latest
  event of each type is emitted, in the order the types last arrived. So a rare event (a
  decision-boundary slice) is never pushed out by a frequent one (attack steps). Events that
  the task's ``keep`` predicate selects (e.g. the result of each batch of a batch run) are
  never dropped: every one of them is emitted, in the order they arrived.
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

import contextlib
import dataclasses
import logging
import os
import threading
import time
from typing import Any, Callable, Iterable, Iterator

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from workbench.core.errors import WorkbenchError

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


def gui_cpu_threads(intra_op: int, cpus: int | None = None) -> int:
    """PyTorch's intra-op threads for a task that runs beside the window: ``intra_op`` (the
    current setting), at most one less than ``cpus`` (default: the CPUs this process may use),
    at least 1. On 2 CPUs a task computes on one and the window draws on the other."""
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not on Linux
            cpus = os.cpu_count() or 1
    return max(1, min(int(intra_op), int(cpus) - 1))


_threads_lock = threading.Lock()
_threads_tasks = 0  # tasks running with the cap
_threads_before = 0  # the setting before the first of them


@contextlib.contextmanager
def _cpu_threads_for_task() -> Iterator[None]:
    """Cap PyTorch's intra-op threads (:func:`gui_cpu_threads`) in the calling thread while the
    block runs; the last task to end restores the previous setting."""
    global _threads_tasks, _threads_before
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    with _threads_lock:
        if _threads_tasks == 0:
            _threads_before = torch.get_num_threads()
        _threads_tasks += 1
        wanted = gui_cpu_threads(_threads_before)
    try:
        if wanted != torch.get_num_threads():
            torch.set_num_threads(wanted)
        yield
    finally:
        with _threads_lock:
            _threads_tasks -= 1
            if _threads_tasks == 0 and torch.get_num_threads() != _threads_before:
                torch.set_num_threads(_threads_before)


class _TaskThread(QThread):
    """The thread that pulls one generator. Its signals are emitted from the worker thread and
    delivered (queued) in the GUI thread, where :class:`TaskWorker` relays them."""

    batch = Signal(object)  # a list of intermediate events, numpy snapshots
    ended = Signal(str, object, str)  # status ("finished", "cancelled", "failed"), final, message

    def __init__(
        self,
        source: GeneratorSource,
        interval: float,
        keep: Callable[[Any], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._interval = interval
        self._keep = keep
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

    def _pull(self) -> tuple[str, Any, str]:  # noqa: C901 - one loop, kept together on purpose
        """Pull the generator to its end; (status, final event, message)."""
        generator: Iterator[Any] | None = None
        status, final, message = "finished", None, ""
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
                if self._keep is not None and self._keep(event):
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
                final = to_numpy(last) if last is not _NOTHING else None
        except Exception as error:  # reported, never raised into Qt
            log.error("task failed: %s", error, exc_info=not isinstance(error, WorkbenchError))
            status, final, message = "failed", None, describe_error(error)
        finally:
            if generator is not None:
                close = getattr(generator, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception as error:  # a generator's finally: that raises
                        log.error("closing the task failed", exc_info=True)
                        if status != "failed":
                            status, final, message = "failed", None, describe_error(error)
            self._source = None
        return status, final, message

    def _flush(self, pending: dict[Any, Any]) -> None:
        events = [to_numpy(event) for event in pending.values()]
        pending.clear()
        self._taken.clear()
        self.batch.emit(events)


_NOTHING = object()
_KEPT = object()  # marks the slots of kept events


class TaskWorker(QObject):
    """Runs one engine generator at a time in a background thread.

    Signals (all delivered in the GUI thread):

    - ``started()`` — a task began.
    - ``progress(object)`` — an intermediate event, a NumPy snapshot (throttled, latest wins
      per event type).
    - ``finished(object)`` — the generator ended; the argument is its last event as a NumPy
      snapshot (``None`` if it yielded nothing). If that event happened to be emitted through
      ``progress`` already (it arrived when a flush was due), it comes again here: consumers
      treat ``finished`` as the authority on the final event.
    - ``cancelled()`` — the task was stopped by :meth:`cancel`.
    - ``failed(str)`` — the task raised; the message is fit to show.
    - ``done(str)`` — after any of the three above: ``"finished"``, ``"cancelled"`` or
      ``"failed"``.
    - ``runningChanged(bool)``, ``pausedChanged(bool)``.
    """

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    done = Signal(str)
    runningChanged = Signal(bool)
    pausedChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, max_rate: float = 25.0) -> None:
        super().__init__(parent)
        self.max_rate = float(max_rate)
        self._thread: _TaskThread | None = None
        self._paused = False

    # -- state ------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    def is_paused(self) -> bool:
        return self._paused

    # -- control ----------------------------------------------------------------------------------
    def start(self, source: GeneratorSource, *, keep: Callable[[Any], bool] | None = None) -> None:
        """Run ``source`` — a generator (any iterable), or a callable returning one, which is
        then called in the worker thread so that its set-up does not block the window.
        ``keep(event)`` (called in the worker thread) selects events that are all delivered
        instead of the latest of their type only.

        Raises RuntimeError if a task is already running.
        """
        if self._thread is not None:
            raise RuntimeError("a task is already running; cancel it or wait for it to end")
        thread = _TaskThread(source, 1.0 / self.max_rate if self.max_rate > 0 else 0.0, keep)
        thread.batch.connect(self._on_batch)
        thread.ended.connect(self._on_ended)
        self._thread = thread
        self._set_paused(False)
        thread.start()
        self.started.emit()
        self.runningChanged.emit(True)

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
            self._set_paused(False)
            self.runningChanged.emit(False)
            thread.deleteLater()
        return ended

    # -- relays (GUI thread) ------------------------------------------------------------------
    def _on_batch(self, events: list) -> None:
        thread = self.sender()
        if thread is None or thread is not self._thread:
            return
        try:
            for event in events:
                self.progress.emit(event)
        finally:
            # Acknowledge once the event loop has worked off what the views asked for (repaints
            # are posted events, handled before a zero-delay timer fires): the worker flushes
            # again only then, so a slow view lowers the rate instead of flooding the loop.
            QTimer.singleShot(0, self._acknowledge)

    def _acknowledge(self) -> None:
        if self._thread is not None:
            self._thread.taken()

    def _on_ended(self, status: str, final: Any, message: str) -> None:
        thread = self.sender()
        if thread is None or thread is not self._thread:
            return
        thread.wait()  # it has emitted its last signal; this returns at once
        self._thread = None
        self._set_paused(False)
        thread.deleteLater()
        self.runningChanged.emit(False)
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
            self.pausedChanged.emit(paused)

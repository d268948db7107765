"""TaskWorker's kept events: every event whose progress report is a milestone is delivered, in
order, however fast they come, while the others are still thinned to the latest of their type;
each run's events reach the slots of its own handle, and the worker publishes its status."""
from __future__ import annotations

from dataclasses import dataclass

from workbench.core.events import ProgressReport
from workbench.gui.tasks import RunStatus
from workbench.gui.worker import TaskWorker


@dataclass(frozen=True)
class Step:
    i: int

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.i + 1, 200, "step")


@dataclass(frozen=True)
class Done:
    batch: int

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.batch + 1, 40, "batch", label="batches", milestone=True)


def batches(count=40, steps=200):
    for batch in range(count):
        for i in range(steps):
            yield Step(i)
        yield Done(batch)
    yield "end"


def test_kept_events_all_arrive_in_order(qtbot):
    worker = TaskWorker(max_rate=10.0)  # few flushes: many events between them
    received = []
    worker.progress.connect(received.append)
    try:
        with qtbot.waitSignal(worker.finished, timeout=30_000) as finished:
            worker.start(batches)
    finally:
        worker.shutdown()
    assert finished.args == ["end"]
    assert [e.batch for e in received if isinstance(e, Done)] == list(range(40))
    steps = [e for e in received if isinstance(e, Step)]
    assert len(steps) < 40 * 200 / 10  # the rest is still coalesced


def test_a_kept_last_event_comes_once_with_finished(qtbot):
    worker = TaskWorker(max_rate=1.0)  # after the first event, nothing is due before the end
    received = []
    worker.progress.connect(received.append)
    try:
        with qtbot.waitSignal(worker.finished, timeout=30_000) as finished:
            worker.start(lambda: iter([Step(0), Done(0), Done(1)]))
    finally:
        worker.shutdown()
    assert finished.args == [Done(1)]
    assert Done(0) in received and Done(1) not in received


def test_a_run_s_events_reach_only_its_handle_with_its_status(qtbot):
    worker = TaskWorker(max_rate=100.0)
    steps, dones, results, ends, statuses = [], [], [], [], []
    owner = object()
    worker.statusChanged.connect(statuses.append)
    try:
        with qtbot.waitSignal(worker.done, timeout=30_000):
            handle = worker.start(lambda: batches(count=3, steps=20), on={Step: steps.append, Done: dones.append},
                                  on_result=results.append, on_end=lambda state, text: ends.append(state),
                                  owner=owner, device="cpu")
            assert handle.is_running()
    finally:
        worker.shutdown()
    assert [d.batch for d in dones] == [0, 1, 2] and steps and all(isinstance(s, Step) for s in steps)
    assert results == ["end"] and ends == ["finished"] and not handle.is_running()
    assert all(isinstance(s, RunStatus) and s.owner is owner for s in statuses)
    assert statuses[-1].state == "finished" and statuses[-1].device == "cpu" and statuses[-1].elapsed > 0
    assert any(s.counter == "Iteration" and s.total == 200 for s in statuses)


def test_a_cancelled_handle_ends_cancelled(qtbot):
    worker = TaskWorker()
    ends = []

    def forever():
        i = 0
        while True:
            i += 1
            yield Step(i % 200)

    try:
        handle = worker.start(forever, on_end=lambda state, text: ends.append(state))
        qtbot.wait(50)
        handle.set_paused(True)
        assert handle.is_paused()
        with qtbot.waitSignal(worker.done, timeout=10_000):
            handle.cancel()
    finally:
        worker.shutdown()
    assert ends == ["cancelled"] and not handle.is_paused()

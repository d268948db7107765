"""TaskWorker's kept events: every event the ``keep`` predicate selects is delivered, in order,
however fast they come, while the others are still thinned to the latest of their type."""
from __future__ import annotations

from dataclasses import dataclass

from workbench.gui.worker import TaskWorker


@dataclass(frozen=True)
class Step:
    i: int


@dataclass(frozen=True)
class Done:
    batch: int


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
            worker.start(batches, keep=lambda event: isinstance(event, Done))
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
            worker.start(lambda: iter([Step(0), Done(0), Done(1)]), keep=lambda event: isinstance(event, Done))
    finally:
        worker.shutdown()
    assert finished.args == [Done(1)]
    assert Done(0) in received and Done(1) not in received

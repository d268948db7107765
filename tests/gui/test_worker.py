"""TaskWorker with plain Python generators: throttle, final event, per-type coalescing,
cancel, pause, errors and NumPy snapshots."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from workbench.core.errors import ModelLoadError
from workbench.gui.worker import TaskWorker, describe_error, to_numpy


@dataclass(frozen=True)
class Tick:
    i: int


@dataclass(frozen=True)
class Rare:
    i: int


@dataclass(frozen=True)
class Snapshot:
    image: torch.Tensor
    extra: dict


def endless_ticks(closed: threading.Event | None = None):
    """An endless event stream (one Tick every 2 ms) that sets ``closed`` when it is closed."""
    try:
        while True:
            time.sleep(0.002)
            yield Tick(0)
    finally:
        if closed is not None:
            closed.set()


@pytest.fixture
def worker(qtbot):
    w = TaskWorker()
    yield w
    w.shutdown()


def collect(worker):
    received = []
    worker.progress.connect(received.append)
    return received


def test_throttle_keeps_rate_and_delivers_final(qtbot, worker):
    received = collect(worker)

    def fast(n=3000):
        for i in range(n):
            time.sleep(0.0003)
            yield Tick(i)

    start = time.monotonic()
    with qtbot.waitSignal(worker.finished, timeout=20_000) as blocker:
        worker.start(fast())
    seconds = time.monotonic() - start
    assert blocker.args[0] == Tick(2999)  # the final event, always
    assert len(received) <= 25 * seconds + 3, (len(received), seconds)
    assert len(received) >= 2  # it did show progress meanwhile
    values = [e.i for e in received]
    assert values == sorted(values)  # latest wins: never goes back
    assert not worker.is_running()


def test_slow_generator_loses_nothing(qtbot, worker):
    received = collect(worker)

    def slow():
        for i in range(5):
            time.sleep(0.06)
            yield Tick(i)

    with qtbot.waitSignal(worker.finished, timeout=10_000) as blocker:
        worker.start(slow())
    # every event is shown (the last one perhaps twice: through progress and finished)
    assert [e.i for e in received][:4] == [0, 1, 2, 3]
    assert blocker.args[0] == Tick(4)


def test_coalescing_is_per_event_type(qtbot, worker):
    received = collect(worker)

    def stream():
        for i in range(2000):
            if i == 1000:
                yield Rare(i)
            yield Tick(i)
        yield Tick(-1)

    with qtbot.waitSignal(worker.finished, timeout=20_000) as blocker:
        worker.start(stream())
    assert Rare(1000) in received  # not pushed out by the frequent ticks that followed
    assert blocker.args[0] == Tick(-1)


def test_pending_events_flush_before_final(qtbot, worker):
    received = collect(worker)

    def stream():
        yield Tick(0)
        yield Rare(1)  # arrives inside the throttle window
        yield Tick(2)
        yield "the end"

    with qtbot.waitSignal(worker.finished, timeout=5_000) as blocker:
        worker.start(stream())
    assert blocker.args[0] == "the end"
    assert Rare(1) in received and Tick(2) in received


def test_cancel_runs_finally_in_worker_thread(qtbot, worker):
    state = {"finally_thread": None, "pulled": 0}
    first = threading.Event()

    def endless():
        try:
            while True:
                state["pulled"] += 1
                first.set()
                time.sleep(0.002)
                yield Tick(state["pulled"])
        finally:
            state["finally_thread"] = threading.get_ident()

    with qtbot.waitSignal(worker.cancelled, timeout=10_000):
        worker.start(endless())
        assert first.wait(5)
        worker.cancel()
    assert state["finally_thread"] is not None
    assert state["finally_thread"] != threading.get_ident()
    assert not worker.is_running()


def test_pause_stops_pulling_and_resume_continues(qtbot, worker):
    pulled = [0]

    def endless():
        while True:
            pulled[0] += 1
            time.sleep(0.002)
            yield Tick(pulled[0])

    pause_seen = []
    worker.pausedChanged.connect(pause_seen.append)
    worker.start(endless())
    qtbot.waitUntil(lambda: pulled[0] > 5, timeout=5_000)
    worker.pause()
    assert worker.is_paused()
    time.sleep(0.1)  # at most the event being computed finishes
    frozen = pulled[0]
    time.sleep(0.2)
    assert pulled[0] == frozen
    worker.resume()
    qtbot.waitUntil(lambda: pulled[0] > frozen + 5, timeout=5_000)
    with qtbot.waitSignal(worker.cancelled, timeout=5_000):
        worker.cancel()
    assert pause_seen[:2] == [True, False]


def test_cancel_while_paused(qtbot, worker):
    closed = threading.Event()
    worker.start(endless_ticks(closed))
    qtbot.waitSignal(worker.progress, timeout=5_000).wait()
    worker.pause()
    with qtbot.waitSignal(worker.cancelled, timeout=5_000):
        worker.cancel()
    assert closed.is_set()


def test_workbench_error_message_is_shown_as_is(qtbot, worker):
    def failing():
        yield Tick(0)
        raise ModelLoadError("model.pt: not a model file")

    with qtbot.waitSignal(worker.failed, timeout=5_000) as blocker:
        worker.start(failing())
    assert blocker.args == ["model.pt: not a model file"]


def test_other_errors_are_summarised_without_traceback(qtbot, worker):
    def failing():
        raise ValueError("boom\n  at line 3")
        yield  # pragma: no cover

    done = []
    worker.done.connect(done.append)
    with qtbot.waitSignal(worker.failed, timeout=5_000) as blocker:
        worker.start(failing())
    message = blocker.args[0]
    assert "ValueError" in message and "boom" in message
    assert "Traceback" not in message and "\n" not in message
    qtbot.waitUntil(lambda: done == ["failed"], timeout=2_000)


def test_callable_source_runs_in_the_worker_thread(qtbot, worker):
    where = {}

    def make():
        where["thread"] = threading.get_ident()
        return iter([Tick(1)])

    with qtbot.waitSignal(worker.finished, timeout=5_000):
        worker.start(make)
    assert where["thread"] != threading.get_ident()


def test_failing_set_up_is_reported(qtbot, worker):
    def make():
        raise ModelLoadError("no such model")

    with qtbot.waitSignal(worker.failed, timeout=5_000) as blocker:
        worker.start(make)
    assert blocker.args == ["no such model"]


def test_events_become_numpy_before_emission(qtbot, worker):
    received = collect(worker)
    source = torch.rand(1, 1, 4, 4)

    def stream():
        yield Snapshot(image=source, extra={"probs": torch.tensor([0.2, 0.8]), "n": 3})
        time.sleep(0.05)
        yield Snapshot(image=source * 0, extra={"list": [torch.ones(2)]})

    with qtbot.waitSignal(worker.finished, timeout=5_000) as blocker:
        worker.start(stream())
    first, final = received[0], blocker.args[0]
    assert isinstance(first.image, np.ndarray) and first.image.shape == (1, 1, 4, 4)
    assert isinstance(first.extra["probs"], np.ndarray) and first.extra["n"] == 3
    assert isinstance(final.extra["list"][0], np.ndarray)
    source += 1  # the snapshot shares no memory with the producer's tensor
    assert first.image.max() <= 1.0


def test_to_numpy_copies_arrays_and_keeps_other_values():
    array = np.zeros(3)
    converted = to_numpy({"a": array, "b": (torch.ones(1), "text")})
    converted["a"][0] = 5
    assert array[0] == 0
    assert isinstance(converted["b"], tuple) and converted["b"][1] == "text"


def test_describe_error():
    assert describe_error(ModelLoadError("bad file")) == "bad file"
    assert describe_error(RuntimeError("x" * 1000)).endswith("…")


def test_second_start_is_refused(qtbot, worker):
    worker.start(endless_ticks())
    with pytest.raises(RuntimeError):
        worker.start(endless_ticks())
    with qtbot.waitSignal(worker.cancelled, timeout=5_000):
        worker.cancel()


def test_shutdown_mid_run_leaves_no_thread(qtbot):
    worker = TaskWorker()
    closed = threading.Event()
    worker.start(endless_ticks(closed))
    qtbot.waitSignal(worker.progress, timeout=5_000).wait()
    assert worker.shutdown(5_000)
    assert closed.is_set() and not worker.is_running()

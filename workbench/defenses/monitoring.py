"""Monitoring runs: a stateful detector (Chen, Carlini and Wagner, "Stateful Detection of
Black-Box Adversarial Attacks", 2019; :mod:`workbench.defenses.monitor`) calibrated on benign
images, watching the queries of a black-box attack on one image or of a benign user, seen as
snapshots of its state — what the Defenses lab's Monitoring page shows and what
``workbench monitor`` prints.

The generators run where the detector lives (the GUI's worker thread, the command line); only
the snapshots leave. They compose the engine's generators and the oracle's log, no algorithm.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

from workbench.core.events import ProgressReport

# Benign images that calibrate the detector, and those a benign user sends.
CALIBRATION_SOURCE = "fashion-mnist:train"
BENIGN_SOURCE = "fashion-mnist:test"
# The Monitoring page's defaults (and `workbench monitor`'s): calibration images, benign
# queries, the attack watched and how a Sybil attacker switches accounts.
CALIBRATION_IMAGES = 1000
BENIGN_QUERIES = 500
MONITOR_ATTACK = "square"
MONITOR_ATTACK_VALUES = {"eps": 0.05, "max_queries": 1000}
SWITCH_EVERY = 10


@dataclass(frozen=True)
class MonitorSnapshot:
    """The detector's state after some queries, with the queries watched since the previous
    snapshot (``accounts``, ``numbers`` and ``distances``, one entry per query)."""

    threshold: float
    queries: int
    accounts: list[str]
    numbers: np.ndarray
    distances: np.ndarray
    alarms: int
    first_alarm: tuple[str, int] | None
    accounts_seen: int
    fooled: bool = False
    never_dropped: ClassVar[bool] = True  # each carries the queries since the previous one

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.queries, 0, "queries", label="monitor",
                              detail=f"alarms {self.alarms}" + (" (fooled)" if self.fooled else ""))


def snapshots(detector, events: Iterator[Any], *, fooled: Callable[[Any], bool] = lambda _e: False) -> Iterator[MonitorSnapshot]:
    """A snapshot of ``detector`` after each event of ``events`` (whose queries it watches)."""
    seen = 0
    was_fooled = False
    for event in events:
        was_fooled = was_fooled or fooled(event)
        new = min(detector.queries_seen - seen, len(detector.observations))
        seen = detector.queries_seen
        recent = list(islice(reversed(detector.observations), max(new, 0)))[::-1]  # the new ones, oldest first
        first = min(detector.first_alarm.values(), key=lambda alarm: alarm.number, default=None)
        yield MonitorSnapshot(
            threshold=float(detector.threshold), queries=detector.queries_seen,
            accounts=[o.account for o in recent], numbers=np.array([o.number for o in recent], dtype=np.int64),
            distances=np.array([o.distance for o in recent], dtype=np.float64), alarms=len(detector.alarms),
            first_alarm=None if first is None else (first.account, first.number),
            accounts_seen=len(detector.accounts), fooled=was_fooled,
        )


def attack_fooled(event: Any) -> bool:
    """Whether an attack event says its (one) image meets the goal."""
    success = getattr(event, "success", None)
    return success is not None and bool(success.reshape(-1)[0])


def benign_queries(oracle, images) -> Iterator[int]:
    """A benign user: one query per image, in order."""
    import torch

    oracle.begin(1)
    for i in range(images.shape[0]):
        oracle.query(images[i:i + 1], torch.zeros(1, dtype=torch.long))
        yield i


def calibrated_detector(model, params, count: int = CALIBRATION_IMAGES, threshold: float | None = None):
    """A :class:`~workbench.defenses.monitor.StatefulDetector` with ``params`` and its threshold:
    ``threshold`` if given (one calibrated earlier with the same settings), else calibrated now
    on ``count`` benign images of :data:`CALIBRATION_SOURCE`."""
    from workbench.core.datasets import open_data
    from workbench.core.errors import WorkbenchError
    from workbench.defenses.monitor import StatefulDetector

    if count <= params.k:
        raise WorkbenchError(f"Calibration needs more than k = {params.k} images.")
    detector = StatefulDetector(params, threshold=threshold)
    if threshold is None:
        benign = open_data(CALIBRATION_SOURCE, model.spec, model.labels, limit=count)
        detector.calibrate(benign.images)
    return detector


def monitored_attack(detector, model, attack, x, y, oracle_params=None, *, seed: int = 0) -> Iterator[MonitorSnapshot]:
    """``attack`` (query-based) on the image ``x`` (1×C×H×W, label ``y``) through an oracle over
    ``model`` whose log is ``detector``, the account "mallory" (spread as ``oracle_params`` say)."""
    from workbench.core.oracle import Oracle

    oracle = Oracle(model, oracle_params, account="mallory", log=detector)
    return snapshots(detector, attack.run(oracle, x, y, seed=seed), fooled=attack_fooled)


def benign_stream(detector, model, count: int = BENIGN_QUERIES) -> Iterator[MonitorSnapshot]:
    """A benign user (account "benign") sending ``count`` test images of :data:`BENIGN_SOURCE`,
    one query each, through an oracle over ``model`` whose log is ``detector``."""
    from workbench.core.datasets import open_data
    from workbench.core.oracle import Oracle

    stream = open_data(BENIGN_SOURCE, model.spec, model.labels, limit=count)
    oracle = Oracle(model, account="benign", log=detector)
    return snapshots(detector, benign_queries(oracle, stream.images))


def verdict(final: MonitorSnapshot, kind: str) -> str:
    """The closing line of a run (``kind``: "attack" or "benign"), as the page shows it."""
    if kind == "benign":
        rate = final.alarms / final.queries if final.queries else 0.0
        return f"False-positive rate on {final.queries:,} benign queries: <b>{rate:.2%}</b>"
    first = final.first_alarm
    return ("The attacker was never flagged." if first is None
            else f"First flagged at query {first[1] + 1:,} of {final.queries:,}.")

"""The worker sources of the Defenses lab's Monitoring page: a stateful detector (Chen, Carlini
and Wagner, "Stateful Detection of Black-Box Adversarial Attacks", 2019) watching the queries
of a black-box attack or of a benign user, seen as snapshots of its state.

These generators run in the worker thread, where the detector lives; only the snapshots cross
to the window. They compose the engine's generators and the oracle's log, no algorithm.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterator

import numpy as np


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

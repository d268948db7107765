"""Bookkeeping for live decision-boundary slices during an attack (used by
:func:`workbench.audit.boundary.with_boundary_slices`): when a slice is due and how fine it is,
on a budget of wall time (:class:`SliceBudget`), and the attack's path so far (:class:`PathBuffer`).

A slice is computed in the thread that runs the attack, so each one delays the attack by its
own cost. :class:`SliceBudget` keeps that delay to a share of the elapsed wall time, from measured
costs rather than guesses:

* **How often.** The first live slice follows the first step, so that the plane of this run
  shows at once; each later one is due when at least ``min_interval_s`` has passed since the
  last one *and* all live slicing so far, plus the next slice's estimated cost, stays within
  ``live_fraction`` of the wall time since the start. A slow model (or a busy machine) thus
  gets slices less often, never a slower attack.
* **How fine.** Each live slice aims at ``live_fraction · min_interval_s`` seconds, so that the
  budget allows one every ``min_interval_s``: the first one has ``min_resolution`` points a side
  and measures the cost of a grid point (each slice measures it again); later ones use the
  largest odd side that fits, between ``min_resolution`` and ``resolution``.
* **The final slice**, the run's lasting picture, gets what is left of ``max_fraction`` of the
  whole run (all slices together): ``resolution`` points a side whenever that fits (a long run,
  a fast model, a GPU), else the largest odd side that does (at least ``min_resolution``). If
  no live slice has measured the cost (an attack without steps), a ``min_resolution`` final
  slice measures it first and is refined if the budget allows. ``max_fraction=1`` always gives
  ``resolution``.

All times come from one clock (``time.perf_counter`` by default), injectable for tests.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch


def odd_side(points: float, low: int, high: int) -> int:
    """The largest odd grid side ``r`` with ``r² ≤ points``, within ``[low, high]`` (``high``
    itself may be even)."""
    r = int(math.floor(math.sqrt(max(points, 0.0))))
    r = max(low, min(high, r))
    return r if r % 2 == 1 or r == high or r == low else r - 1


class SliceBudget:
    """Decides when a live slice is due and how fine each slice is (see the module docstring;
    the defaults are :func:`~workbench.audit.boundary.with_boundary_slices`'s).

    Call :meth:`live_side` after each attack step (0: no slice now), :meth:`final_side` before
    the final slice, and :meth:`spent` after computing any slice, with its side and duration.
    """

    def __init__(
        self,
        *,
        resolution: int,
        min_resolution: int,
        max_fraction: float,
        live_fraction: float,
        min_interval_s: float,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not 0 < max_fraction <= 1:
            raise ValueError(f"max_fraction must lie in (0, 1], not {max_fraction}")
        if not 0 < live_fraction <= max_fraction:
            raise ValueError(f"live_fraction must lie in (0, max_fraction], not {live_fraction}")
        if resolution < 2:
            raise ValueError(f"resolution must be at least 2, not {resolution}")
        self.resolution = int(resolution)
        self.low = max(2, min(int(min_resolution), self.resolution))
        self.max_fraction = float(max_fraction)
        self.live_fraction = float(live_fraction)
        self.min_interval_s = float(min_interval_s)
        self.clock = clock
        self.started = clock()
        self.live_seconds = 0.0  # spent on live slices so far
        self.all_seconds = 0.0  # spent on all slices so far
        self.last_at: float | None = None  # when the last live slice ended; None: none yet
        self.cost_per_point: float | None = None  # measured by the latest slice

    def _side_within(self, seconds: float) -> int:
        if self.cost_per_point is None:
            return self.low
        if self.cost_per_point <= 0:
            return self.resolution
        return odd_side(seconds / self.cost_per_point, self.low, self.resolution)

    def live_side(self) -> int:
        """The grid side of a live slice due now, or 0 if none is due."""
        now = self.clock()
        if self.last_at is not None and now - self.last_at < self.min_interval_s:
            return 0
        side = self._side_within(self.live_fraction * self.min_interval_s)
        estimate = (self.cost_per_point or 0.0) * side * side
        allowed = self.live_fraction * (now - self.started + estimate)
        return side if self.live_seconds + estimate <= allowed else 0

    def final_side(self) -> int:
        """The grid side of the final slice: the finest whose cost ``c`` keeps all slicing within
        ``max_fraction`` of the run, ``spent + c ≤ max_fraction · (elapsed + c)``;
        ``min_resolution`` while no slice has measured the cost (the caller may then ask again
        after computing that one, see :func:`~workbench.audit.boundary.with_boundary_slices`)."""
        if self.max_fraction >= 1:
            return self.resolution
        elapsed = self.clock() - self.started
        left = (self.max_fraction * elapsed - self.all_seconds) / (1.0 - self.max_fraction)
        return self._side_within(max(left, 0.0))

    def spent(self, side: int, seconds: float, *, live: bool) -> None:
        """Record a slice of ``side``² points that took ``seconds``."""
        seconds = max(float(seconds), 0.0)
        self.cost_per_point = seconds / float(side * side)
        self.all_seconds += seconds
        if live:
            self.live_seconds += seconds
            self.last_at = self.clock()


class PathBuffer:
    """The iterates of one image, thinned to at most ``capacity`` points (every k-th, k doubling
    when full), plus the latest one; so long attacks on large images stay bounded in memory."""

    def __init__(self, start: torch.Tensor, capacity: int = 256) -> None:
        self.points = [start]
        self.capacity = max(4, capacity)
        self.stride = 1
        self.seen = 0
        self.latest: torch.Tensor | None = None

    def add(self, point: torch.Tensor) -> None:
        point = point.detach().float().cpu()  # no copy for the CPU float32 of AttackStep
        self.seen += 1
        self.latest = point
        if self.seen % self.stride == 0:
            self.points.append(point)
            if len(self.points) > self.capacity:
                self.points = self.points[::2]
                self.stride *= 2

    def tensor(self) -> torch.Tensor:
        points = list(self.points)
        if self.latest is not None and points[-1] is not self.latest:
            points.append(self.latest)
        return torch.cat(points)

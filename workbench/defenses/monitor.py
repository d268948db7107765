"""Stateful detection of black-box attacks (Chen, Carlini and Wagner, "Stateful Detection of
Black-Box Adversarial Attacks", SPAI 2020, arXiv 2019).

Query-based attacks send long runs of near-identical images; benign users send different ones.
The detector keeps, per account, a buffer of encoded past queries; for each new query it takes
the mean distance to its k nearest neighbours in the buffer and raises an alarm when that falls
below a threshold δ (once the account has sent at least k queries). δ is calibrated on benign images so that a chosen small fraction of benign
queries would be flagged.

Chen et al. train a similarity encoder; the workbench's default encoder is the image itself,
shrunk to at most 16×16 and compared in L2 — black-box attacks on small images move so little
per query that this already separates them from benign streams (the benchmark measures it).

:class:`StatefulDetector` is a :class:`~workbench.core.oracle.QueryLog`: pass it as an oracle's
``log`` and every answered query is checked. An attacker who spreads queries over many accounts
(the Sybil attack, Chen et al. section 7) leaves each buffer with few neighbours; the oracle's
``accounts`` setting simulates that.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from workbench.core.errors import WorkbenchError
from workbench.core.oracle import QueryLog, QueryRecord
from workbench.core.params import param


@dataclass(frozen=True)
class MonitorParams:
    k: int = param(50, title="k neighbours", description="How many nearest past queries the distance averages over", low=1, high=1000)
    buffer: int = param(10000, title="Buffer", description="Past queries kept per account", low=1, high=10**7)
    false_positive_rate: float = param(0.001, title="Target false-positive rate", description="Fraction of benign queries that calibration lets through as alarms", low=0.0, high=0.5)


@dataclass(frozen=True)
class Alarm:
    """An account flagged at its query ``number`` (counted over the oracle's life, from 0) with
    the mean k-NN ``distance`` that fell below the threshold."""

    account: str
    number: int
    image: int
    distance: float


@dataclass(frozen=True)
class Observation:
    """One watched query: the account that sent it, its ``number`` (as in :class:`Alarm`) and
    its mean k-NN ``distance`` to the account's earlier queries (inf until the account has sent
    k queries). What a view plots against the threshold."""

    account: str
    number: int
    distance: float


OBSERVATIONS_KEPT = 100_000  # the latest observations kept for views


def shrunk_pixels(features: torch.Tensor) -> torch.Tensor:
    """The default similarity encoding: 8-bit query features (as the oracle records them) to
    floats in [0, 1], area-downsampled to at most 16×16, flattened."""
    x = features.float() / 255.0 if features.dtype == torch.uint8 else features.float()
    if x.dim() == 3:
        x = x[None]
    h, w = x.shape[-2:]
    if max(h, w) > 16:
        x = F.adaptive_avg_pool2d(x, (min(h, 16), min(w, 16)))
    return x.flatten(1)


class StatefulDetector(QueryLog):
    """A query log that watches each account's queries (see the module documentation).

    ``threshold`` must be set (by :meth:`calibrate`, or by hand) before queries arrive.
    ``alarms`` lists every alarm; ``first_alarm`` maps an account to its first one;
    ``observations`` holds the latest watched queries' distances, oldest first.
    """

    def __init__(
        self,
        params: MonitorParams | None = None,
        *,
        encoder: Callable[[torch.Tensor], torch.Tensor] = shrunk_pixels,
        threshold: float | None = None,
    ) -> None:
        super().__init__(maxlen=1000)
        self.params = params or MonitorParams()
        self.encoder = encoder
        self.threshold = threshold
        self._buffers: dict[str, torch.Tensor] = {}
        self.alarms: list[Alarm] = []
        self.first_alarm: dict[str, Alarm] = {}
        self.queries_seen = 0
        self.observations: deque[Observation] = deque(maxlen=OBSERVATIONS_KEPT)

    # -- calibration -----------------------------------------------------------------------------
    def knn_distance(self, encoded: torch.Tensor, buffer: torch.Tensor) -> torch.Tensor:
        """Mean distance of each encoded query to its k nearest rows of ``buffer`` (≥ k rows)."""
        distances = torch.cdist(encoded, buffer)
        return distances.topk(self.params.k, dim=1, largest=False).values.mean(dim=1)

    def calibrate(self, benign: torch.Tensor) -> float:
        """Set the threshold from benign images (M×C×H×W in [0, 1]; M > k): each image's mean
        k-NN distance to the others, and δ at the target false-positive quantile of those."""
        encoded = self.encoder(benign)
        if encoded.shape[0] <= self.params.k:
            raise WorkbenchError(f"calibration needs more than k = {self.params.k} benign images")
        distances = torch.cdist(encoded, encoded)
        distances.fill_diagonal_(float("inf"))
        knn = distances.topk(self.params.k, dim=1, largest=False).values.mean(dim=1)
        self.threshold = float(torch.quantile(knn, self.params.false_positive_rate))
        return self.threshold

    # -- watching --------------------------------------------------------------------------------
    def extend(self, records: list[QueryRecord]) -> None:
        super().extend(records)
        if self.threshold is None:
            raise WorkbenchError("the stateful detector has no threshold: calibrate it first")
        for record in records:
            self._observe(record)

    def _observe(self, record: QueryRecord) -> None:
        encoded = self.encoder(record.features)
        buffer = self._buffers.get(record.account, encoded[:0])
        self.queries_seen += 1
        # An account is judged once it has sent k queries: fewer cannot have k neighbours.
        distance = float(self.knn_distance(encoded, buffer)[0]) if buffer.shape[0] >= self.params.k else float("inf")
        self.observations.append(Observation(record.account, record.number, distance))
        if distance < self.threshold:
            alarm = Alarm(record.account, record.number, record.image, distance)
            self.alarms.append(alarm)
            self.first_alarm.setdefault(record.account, alarm)
        self._buffers[record.account] = torch.cat([buffer, encoded])[-self.params.buffer:]

    @property
    def accounts(self) -> list[str]:
        return list(self._buffers)

    def flagged_fraction(self) -> float:
        """Fraction of watched queries that raised an alarm."""
        return len(self.alarms) / self.queries_seen if self.queries_seen else 0.0

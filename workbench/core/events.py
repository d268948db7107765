"""Typed events that engine generators yield (ARCHITECTURE.md, contract 4).

Events are frozen dataclasses. An event that reports progress says so through the progress
protocol: a ``progress_report()`` method returning a :class:`ProgressReport` (done, total, unit,
what is counted, a detail, and whether it is a milestone that must never be dropped);
:func:`progress_of` reads it from any event. The command line's progress printer reads nothing
else. Tensors in them are detached copies that the producer no
longer touches, so a consumer may keep them; the GUI worker converts what it shows to NumPy
before it crosses a thread boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch


@dataclass(frozen=True)
class ProgressReport:
    """How far a computation is: ``done`` of ``total`` ``unit`` (total 0: open-ended).

    ``label`` names what is counted ("batch 1/2", "naive"); a new label starts a new count.
    ``detail`` is a short text about the current state ("success 3/4"). ``milestone`` marks a
    report that consumers must never drop (a batch's or a stage's end)."""

    done: float
    total: float = 0
    unit: str = "it"
    label: str = ""
    detail: str = ""
    milestone: bool = False


def progress_of(event: Any) -> ProgressReport | None:
    """The progress that ``event`` reports, or None for an event that reports none."""
    report = getattr(event, "progress_report", None)
    return report() if callable(report) else None


def never_dropped(event: Any, report: ProgressReport | None = None) -> bool:
    """Whether consumers that thin events (the GUI worker keeps the latest of each type) must
    deliver ``event``: its progress report is a milestone, or its class declares
    ``never_dropped = True`` (events that carry increments, e.g. the queries watched since the
    previous snapshot). ``report`` is the event's report when already known."""
    if getattr(type(event), "never_dropped", False) is True:
        return True
    report = report if report is not None else progress_of(event)
    return report is not None and report.milestone


@dataclass(frozen=True)
class AttackStep:
    """One iteration of an attack on a batch.

    ``x_adv`` is the current adversarial batch (N×C×H×W in [0, 1], on the CPU), ``probs`` the
    model's softmax on it (N×K), ``loss`` the per-sample attack loss (N), ``success`` whether
    each sample currently meets the attack's goal (N, bool). ``queries`` counts model queries
    so far for black-box attacks (0 for white-box ones).

    Black-box attacks only know what their oracle answers: ``probs`` holds the confidences it
    showed for ``x_adv`` (unlisted classes 0; one-hot when it answers labels only), ``seen`` that
    answer itself (a :class:`workbench.core.oracle.Answer`: top-k labels and rounded scores),
    ``queries_per_image`` the queries spent on each image (N) and ``budget`` the per-image budget
    (0 = unlimited).
    """

    iteration: int
    total: int
    x_adv: torch.Tensor
    probs: torch.Tensor
    loss: torch.Tensor
    success: torch.Tensor
    queries: int = 0
    queries_per_image: torch.Tensor | None = None
    budget: int = 0
    seen: Any = None

    def progress_report(self) -> ProgressReport:
        queries = f"  queries {self.queries}" if self.queries else ""
        return ProgressReport(self.iteration, self.total, "step",
                              detail=f"success {int(self.success.sum())}/{self.success.numel()}{queries}")


@dataclass(frozen=True)
class AttackResult:
    """The final event of an attack: the best adversarial batch found and per-sample outcomes.

    ``x_adv`` equals ``x`` exactly where the mask is 0 and lies in [0, 1]. ``success`` is judged
    on ``x_adv`` with the model. ``iterations`` is how many iterations ran before the attack
    finished (all samples done, or the step budget spent). ``metrics`` holds per-sample tensors:
    the norms ``linf``, ``l2``, ``l0`` and, for black-box attacks, ``queries`` (spent per image)
    and ``queries_to_success`` (spent when the image first met the goal; -1 if it never did).
    """

    x_adv: torch.Tensor
    probs: torch.Tensor
    success: torch.Tensor
    iterations: int
    queries: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.iterations, self.iterations, "step", milestone=True,
                              detail=f"success {int(self.success.sum())}/{self.success.numel()}")


@dataclass(frozen=True)
class TrainEpoch:
    """One epoch of a training run."""

    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float | None = None
    seconds: float = 0.0

    def progress_report(self) -> ProgressReport:
        test = "" if self.test_accuracy is None else f"  test accuracy {self.test_accuracy * 100:.2f} %"
        return ProgressReport(self.epoch, self.epochs, "epoch", label="training", milestone=True,
                              detail=f"loss {self.train_loss:.4f}  train accuracy {self.train_accuracy * 100:.2f} %"
                              f"{test}  ({self.seconds:.0f} s)")


@dataclass(frozen=True)
class TrainResult:
    """The final event of a training run: what was saved and the measured metrics."""

    model_id: str
    weights_path: str
    card_path: str
    metrics: dict[str, Any]


@dataclass(frozen=True)
class CertifyProgress:
    """Randomized smoothing at work on image ``image`` of ``images``: ``counts`` (K) is how often
    each class won among the ``done`` noise samples of the current ``phase`` (``"select"`` — the
    n0 samples that choose the class — or ``"estimate"`` — the n samples that bound its
    probability) out of ``total``."""

    image: int
    images: int
    phase: str
    counts: torch.Tensor
    done: int
    total: int

    def progress_report(self) -> ProgressReport:
        fraction = self.done / self.total if self.total else 0.0
        return ProgressReport(self.image + fraction, self.images, "image", label="smoothing",
                              detail=f"image {self.image + 1}/{self.images}  {self.phase} {self.done}/{self.total}")


@dataclass(frozen=True)
class CertifyResult:
    """The final event of a certification: per image the smoothed prediction (−1 = abstain),
    the certified L2 radius (0 where it abstains), the lower confidence bound on the top class's
    probability and the true label (−1 where unknown), with the settings used."""

    predictions: torch.Tensor
    radii: torch.Tensor
    p_lower: torch.Tensor
    labels: torch.Tensor
    settings: dict[str, Any]
    seconds: float = 0.0

    def certified_accuracy(self, radius: float) -> float:
        """Fraction of labelled images predicted correctly with a certified radius ≥ ``radius``."""
        known = self.labels >= 0
        if not known.any():
            return float("nan")
        hit = (self.predictions == self.labels) & (self.radii >= radius) & known
        return float(hit.sum()) / float(known.sum())

    def summary(self, radii: Sequence[float] = (), *, certified: bool = True) -> dict[str, Any]:
        """What the command line prints and the Certify page shows: ``images``, ``abstained``,
        ``accuracy`` (of the smoothed predictions over the labelled images; 0 without labels),
        ``certified_accuracy`` at each of ``radii`` ({radius: fraction}; None for PREDICT,
        ``certified=False``), ``median_radius`` over the answered images (the lower middle one;
        None when all abstain or for PREDICT) and ``seconds``. Works on tensors and on the GUI's
        NumPy snapshot alike."""
        predictions, labels, radii_of = (_numpy(v) for v in (self.predictions, self.labels, self.radii))
        known, answered = labels >= 0, predictions >= 0
        ordered = np.sort(radii_of[answered])
        return {
            "images": int(len(predictions)),
            "abstained": int((~answered).sum()),
            "accuracy": float(((predictions == labels) & known).sum()) / max(int(known.sum()), 1),
            "certified_accuracy": {float(r): self.certified_accuracy(float(r)) for r in radii} if certified else None,
            "median_radius": float(ordered[(len(ordered) - 1) // 2]) if certified and len(ordered) else None,
            "seconds": float(self.seconds),
        }


def _numpy(values: Any) -> np.ndarray:
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


@dataclass(frozen=True)
class Progress:
    """Progress of a long computation without richer events (e.g. predicting a data set)."""

    done: int
    total: int
    message: str = ""

    def progress_report(self) -> ProgressReport:
        return ProgressReport(self.done, self.total, "item", label=self.message, milestone=self.done == self.total)

"""Per-sample losses on logits that several white-box attacks share.

- :func:`goal_margin`: how far each sample is from meeting the goal, the ``f`` of Carlini and
  Wagner ("Towards Evaluating the Robustness of Neural Networks", IEEE S&P 2017, section V.A)
  before its clamp at −κ: ``z_y − max_{i≠y} z_i`` (untargeted) or ``max_{i≠t} z_i − z_t``
  (targeted); positive while the goal is not met.
- :func:`dlr` and :func:`targeted_dlr`: the Difference of Logits Ratio of Croce and Hein
  ("Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
  attacks", ICML 2020, section 4), invariant to shifting and rescaling the logits. Both are
  losses that an attack *increases*.

Every loss takes logits N×K and class indices N and returns N values.
"""
from __future__ import annotations

import torch

from workbench.core.errors import WorkbenchError

_TINY = 1e-12


def _needs_classes(logits: torch.Tensor, count: int, loss: str) -> None:
    if logits.shape[1] < count:
        raise WorkbenchError(f"the {loss} loss needs a model with at least {count} classes, not {logits.shape[1]}")


def best_other(logits: torch.Tensor, excluded: torch.Tensor) -> torch.Tensor:
    """The largest logit of each sample over the classes other than ``excluded``."""
    return logits.scatter(1, excluded.unsqueeze(1), float("-inf")).amax(dim=1)


def ranked_others(logits: torch.Tensor, excluded: torch.Tensor, count: int) -> torch.Tensor:
    """N×k: the ``count`` classes other than ``excluded`` with the largest logits, largest
    first (k is at most K − 1)."""
    others = logits.float().scatter(1, excluded.unsqueeze(1), float("-inf"))
    return others.argsort(dim=1, descending=True)[:, : min(count, logits.shape[1] - 1)]


def own(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """The logit of each sample's class in ``classes``."""
    return logits.gather(1, classes.unsqueeze(1)).squeeze(1)


def goal_margin(logits: torch.Tensor, goal: torch.Tensor, targeted: bool) -> torch.Tensor:
    """``z_goal − max_{i≠goal} z_i`` untargeted, its negative targeted: > 0 while the goal is
    not met, ≤ 0 once it is (up to ties)."""
    logits = logits.float()
    difference = own(logits, goal) - best_other(logits, goal)
    return -difference if targeted else difference


def dlr(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Untargeted DLR loss ``−(z_y − max_{i≠y} z_i) / (z_π1 − z_π3)``, with z sorted
    decreasingly as z_π1 ≥ z_π2 ≥ …; needs at least 3 classes."""
    _needs_classes(logits, 3, "DLR")
    logits = logits.float()
    ordered = logits.sort(dim=1, descending=True).values
    scale = ordered[:, 0] - ordered[:, 2] + _TINY
    return -(own(logits, y) - best_other(logits, y)) / scale


def targeted_dlr(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Targeted DLR loss ``−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2)`` towards class ``target``;
    needs at least 4 classes."""
    _needs_classes(logits, 4, "targeted DLR")
    logits = logits.float()
    ordered = logits.sort(dim=1, descending=True).values
    scale = ordered[:, 0] - (ordered[:, 2] + ordered[:, 3]) / 2 + _TINY
    return -(own(logits, y) - own(logits, target)) / scale

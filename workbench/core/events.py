"""Typed events that engine generators yield (ARCHITECTURE.md, contract 4).

Events are frozen dataclasses. Tensors in them are detached copies that the producer no
longer touches, so a consumer may keep them; the GUI worker converts what it shows to NumPy
before it crosses a thread boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass(frozen=True)
class AttackStep:
    """One iteration of an attack on a batch.

    ``x_adv`` is the current adversarial batch (N×C×H×W in [0, 1], on the CPU), ``probs`` the
    model's softmax on it (N×K), ``loss`` the per-sample attack loss (N), ``success`` whether
    each sample currently meets the attack's goal (N, bool). ``queries`` counts model queries
    so far for black-box attacks (0 for white-box ones).
    """

    iteration: int
    total: int
    x_adv: torch.Tensor
    probs: torch.Tensor
    loss: torch.Tensor
    success: torch.Tensor
    queries: int = 0


@dataclass(frozen=True)
class AttackResult:
    """The final event of an attack: the best adversarial batch found and per-sample outcomes.

    ``x_adv`` equals ``x`` exactly where the mask is 0 and lies in [0, 1]. ``success`` is judged
    on ``x_adv`` with the model. ``iterations`` is how many iterations ran before the attack
    finished (all samples done, or the step budget spent).
    """

    x_adv: torch.Tensor
    probs: torch.Tensor
    success: torch.Tensor
    iterations: int
    queries: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainEpoch:
    """One epoch of a training run."""

    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class TrainResult:
    """The final event of a training run: what was saved and the measured metrics."""

    model_id: str
    weights_path: str
    card_path: str
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Progress:
    """Progress of a long computation without richer events (e.g. predicting a data set)."""

    done: int
    total: int
    message: str = ""

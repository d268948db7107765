"""Evaluate an attack against a defended model, naive or adaptive; compare a defense stack
under the same attack undefended, naive, adaptive and black-box; and sweep a defense's strength
into the accuracy/robustness trade-off.

The attack runs against the defended model as the attacker differentiates it (naive, BPDA or
EOT; see :mod:`workbench.defenses.base`), but its outcome is judged by the *deployed* defense:
one fresh draw of its randomness with a seed the attack never saw, the way a user of the
defended service would meet the adversarial image.

The comparison follows Athalye, Carlini and Wagner ("Obfuscated Gradients Give a False Sense of
Security", ICML 2018) and the checklist of Carlini et al. ("On Evaluating Adversarial
Robustness", 2019): a gradient-free black-box attack (Square, Andriushchenko et al., ECCV 2020)
that beats the white-box one shows that the defense masks gradients.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

import torch

from workbench.attacks import ATTACKS
from workbench.attacks.base import Attack
from workbench.attacks.evaluate import BatchStep, Evaluation, evaluate_attack
from workbench.core.errors import WorkbenchError
from workbench.core.events import CertifyProgress, CertifyResult, ProgressReport, progress_of
from workbench.core.model import ModelHandle
from workbench.defenses.base import Adaptive, DefendedModel, Defense, stack_obfuscated, stack_randomized
from workbench.defenses.registry import DEFENSES
from workbench.defenses.smoothing import Smoothing, SmoothingParams

# The draws of the deployed defense that judge outcomes use seeds the attack never sees.
JUDGE_SEED_OFFSET = 1_000_003


# The stages of :func:`compare_defense`, in the order they run.
COMPARISON_STAGES = ("reference", "naive", "adaptive", "black-box")
# The gradient-free counterpart of a white-box attack, by norm (see :func:`black_box_counterpart`).
SQUARE_BY_NORM = {"linf": "square", "l2": "square-l2"}
# Queries per image of that counterpart unless told: Square breaks an undefended Fashion-MNIST
# model at ε = 0.1 within a few hundred, and 64 images take seconds on one CPU core.
BLACK_BOX_QUERIES = 500
# The attack that the comparison uses unless told otherwise (the Naive-vs-adaptive page's and
# `workbench defend`'s): PGD at ε = 0.1, its other parameters as declared.
COMPARISON_ATTACK = "pgd"
COMPARISON_ATTACK_VALUES = {"eps": 0.1}


def adaptive_for(defenses: DefendedModel | Sequence[Defense], eot: int = 16) -> Adaptive:
    """The adaptive attacker's settings for a defense stack (or a defended model's): BPDA where
    a defense gives no useful gradient, EOT with ``eot`` draws where one is random."""
    stack = defenses.defenses if isinstance(defenses, DefendedModel) else list(defenses)
    return Adaptive(bpda=stack_obfuscated(stack), eot=eot if stack_randomized(stack) else 1)


def accuracy(model: ModelHandle, x: torch.Tensor, labels: torch.Tensor) -> float | None:
    known = labels >= 0
    if not known.any():
        return None
    predicted = model.predict(x).argmax(dim=1)
    return float((predicted[known] == labels[known]).float().mean())


@dataclass(frozen=True)
class DefenseEvaluation:
    """The outcome of one attack on a defended model, judged by the deployed defense."""

    adaptive: str
    clean_accuracy: float | None
    robust_accuracy: float | None
    evaluation: Evaluation
    judged_pred: torch.Tensor

    def summary(self) -> dict[str, Any]:
        return {"adaptive": self.adaptive, "clean_accuracy": self.clean_accuracy,
                "robust_accuracy": self.robust_accuracy, "attack": self.evaluation.summary}

    def progress_report(self) -> ProgressReport:
        return ProgressReport(0, 0, "stage", milestone=True, detail=f"clean {_percent(self.clean_accuracy)}, "
                              f"robust {_percent(self.robust_accuracy)} ({self.adaptive})")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def evaluate_defense(
    attack: Attack,
    model: DefendedModel,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    adaptive: Adaptive = Adaptive(),
    seed: int = 0,
    batch_size: int = 256,
) -> Iterator[BatchStep | DefenseEvaluation]:
    """Attack ``images`` through ``model`` differentiated as ``adaptive`` says; the final event
    is a :class:`DefenseEvaluation`."""
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    evaluation = None
    for event in evaluate_attack(attack, model.adapted(adaptive, seed=seed), images, labels,
                                 seed=seed, batch_size=batch_size):
        if isinstance(event, Evaluation):
            evaluation = event
        else:
            yield event
    judge = model.adapted(Adaptive(), seed=seed + JUDGE_SEED_OFFSET)
    judged = judge.predict(evaluation.x_adv).argmax(dim=1)
    known = labels >= 0
    robust = float((judged[known] == labels[known]).float().mean()) if known.any() else None
    yield DefenseEvaluation(
        adaptive=adaptive.describe(),
        clean_accuracy=accuracy(model.adapted(Adaptive(), seed=seed + 2 * JUDGE_SEED_OFFSET), images, labels),
        robust_accuracy=robust,
        evaluation=evaluation,
        judged_pred=judged,
    )


def black_box_counterpart(attack: Attack, max_queries: int = BLACK_BOX_QUERIES) -> Attack:
    """Square (Andriushchenko et al., ECCV 2020) in ``attack``'s norm and at its ε, planning
    ``max_queries`` queries per image: the gradient-free attack that checks a white-box result
    (Carlini et al. 2019: a black-box attack must not beat the white-box one)."""
    square_id = SQUARE_BY_NORM.get(attack.norm)
    eps = getattr(attack.params, "eps", None)
    if square_id is None or eps is None:
        raise WorkbenchError(f"{attack.title} has no L∞ or L2 budget ε: no black-box attack to compare it with")
    return ATTACKS.get(square_id)(eps=eps, max_queries=max_queries)


@dataclass(frozen=True)
class StageEvent:
    """An event of one stage of :func:`compare_defense` (``stage`` is one of
    :data:`COMPARISON_STAGES`): a :class:`BatchStep` or the stage's :class:`DefenseEvaluation`."""

    stage: str
    event: BatchStep | DefenseEvaluation

    def progress_report(self) -> ProgressReport:
        """The inner event's progress, counted under the stage's name."""
        inner = self.event.progress_report()
        return replace(inner, label=f"{self.stage} {inner.label}".strip())


def compare_defense(
    attack: Attack,
    model: ModelHandle,
    defenses: Sequence[Defense],
    adaptive: Adaptive,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    black_box: Attack | None = None,
    seed: int = 0,
    batch_size: int = 256,
) -> Iterator[StageEvent]:
    """The same ``attack`` on ``model`` alone ("reference"), behind ``defenses`` with plain
    gradients ("naive") and with ``adaptive``'s BPDA/EOT ("adaptive"); then, if ``black_box``
    is given, that query-only attack on the deployed defense ("black-box"). Its oracle answers
    every query with a fresh draw of a random defense, as a deployed service would."""
    defended = DefendedModel(model, defenses, seed=seed)
    stages = [("reference", attack, DefendedModel(model, [], seed=seed), Adaptive()),
              ("naive", attack, defended, Adaptive()), ("adaptive", attack, defended, adaptive)]
    if black_box is not None:
        stages.append(("black-box", black_box, defended, Adaptive()))
    for stage, stage_attack, target, how in stages:
        for event in evaluate_defense(stage_attack, target, images, labels, adaptive=how, seed=seed,
                                      batch_size=batch_size):
            yield StageEvent(stage, event)


@dataclass(frozen=True)
class TradeoffStage:
    """Progress of a trade-off sweep: which strength (``index`` of ``count``) and which stage
    (``"naive"``, ``"adaptive"`` or ``"certify"``) is running, with the inner event."""

    index: int
    count: int
    strength: float
    stage: str
    event: Any

    def progress_report(self) -> ProgressReport:
        inner = progress_of(self.event)
        detail = f"{inner.label} {inner.done:g}/{inner.total:g} {inner.unit}".strip() if inner else ""
        return ProgressReport(self.index, self.count, "strength", label="sweep",
                              detail=f"strength {self.strength:g} ({self.index + 1}/{self.count}): {self.stage} {detail}")


@dataclass(frozen=True)
class TradeoffPoint:
    """One strength of the swept defense: clean accuracy, robust accuracy under the naive and the
    adaptive attack, and (for Gaussian noise) the smoothed classifier's certified accuracy at
    the chosen radius (None where it does not apply)."""

    strength: float
    clean_accuracy: float | None
    robust_naive: float | None
    robust_adaptive: float | None
    certified: float | None = None

    def progress_report(self) -> ProgressReport:
        return ProgressReport(1, 1, "strength", label=f"strength {self.strength:g}", milestone=True,
                              detail=f"clean {_percent(self.clean_accuracy)}, robust naive {_percent(self.robust_naive)}, "
                              f"adaptive {_percent(self.robust_adaptive)}, certified {_percent(self.certified)}")


@dataclass(frozen=True)
class Tradeoff:
    """The final event of a sweep: every point, and the settings that produced them."""

    defense: str
    parameter: str
    points: list[TradeoffPoint]
    settings: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [{self.parameter: p.strength, "clean_accuracy": p.clean_accuracy,
                 "robust_naive": p.robust_naive, "robust_adaptive": p.robust_adaptive,
                 "certified_accuracy": p.certified} for p in self.points]


def sweep_tradeoff(
    model: ModelHandle,
    defense_id: str,
    strengths: Sequence[float],
    attack: Attack,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    defense_params: dict[str, Any] | None = None,
    eot: int = 16,
    radius: float = 0.5,
    smoothing: SmoothingParams | None = None,
    base_models: dict[float, ModelHandle] | None = None,
    seed: int = 0,
    batch_size: int = 256,
) -> Iterator[TradeoffStage | TradeoffPoint | Tradeoff]:
    """For each strength of ``defense_id`` (its ``strength`` parameter): clean accuracy, robust
    accuracy under ``attack`` naive and adaptive (BPDA/EOT as the defense needs), and, for
    Gaussian noise, the certified accuracy at ``radius`` of the smoothed classifier with
    σ = strength. ``base_models`` may give a model per strength (e.g. noise-trained ones)."""
    defense_class = DEFENSES.get(defense_id)
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    points = []
    for index, strength in enumerate(strengths):
        base = (base_models or {}).get(strength, model)
        defense = defense_class(**{**(defense_params or {}), defense_class.strength: strength})
        defended = DefendedModel(base, [defense], seed=seed)
        outcomes = {}
        for stage, adaptive in (("naive", Adaptive()), ("adaptive", adaptive_for(defended, eot))):
            for event in evaluate_defense(attack, defended, images, labels, adaptive=adaptive,
                                          seed=seed, batch_size=batch_size):
                if isinstance(event, DefenseEvaluation):
                    outcomes[stage] = event
                else:
                    yield TradeoffStage(index, len(strengths), strength, stage, event)
        certified = None
        if defense_id == "gaussian-noise" and strength > 0:
            params = replace(smoothing or SmoothingParams(), sigma=float(strength))
            for event in Smoothing(base, params, seed=seed).certify(images, labels):
                if isinstance(event, CertifyResult):
                    certified = event.certified_accuracy(radius)
                elif isinstance(event, CertifyProgress):
                    yield TradeoffStage(index, len(strengths), strength, "certify", event)
        point = TradeoffPoint(
            strength=float(strength),
            clean_accuracy=outcomes["naive"].clean_accuracy,
            robust_naive=outcomes["naive"].robust_accuracy,
            robust_adaptive=outcomes["adaptive"].robust_accuracy,
            certified=certified,
        )
        points.append(point)
        yield point
    yield Tradeoff(
        defense=defense_id, parameter=defense_class.strength, points=points,
        settings={"attack": attack.id, "eot": eot, "radius": radius, "seed": seed,
                  "model_id": model.model_id, "defense_params": defense_params or {}},
    )

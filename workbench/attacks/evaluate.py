"""Attack a whole image set in batches and measure the outcome — the batch path that the
command line, the GUI's batch mode and the benchmarks share.

``evaluate_attack`` is a generator: it yields every attack event of every batch wrapped in a
:class:`BatchStep`, and ends with one :class:`Evaluation` holding the adversarial images and
the summary metrics. Black-box attacks run through one :class:`~workbench.core.oracle.Oracle`
over the model for the whole set (its per-image budget applies to every image).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

import torch

from workbench.attacks.base import Attack
from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackResult, AttackStep, ProgressReport
from workbench.core.goals import goal_labels
from workbench.core.model import ModelHandle
from workbench.core.oracle import Oracle


@dataclass(frozen=True)
class BatchStep:
    """An attack event of one batch: ``batch`` of ``batches``, covering images ``start``…"""

    batch: int
    batches: int
    start: int
    event: AttackStep | AttackResult

    def progress_report(self) -> ProgressReport:
        """The attack's steps in this batch, counted under "batch B/N"."""
        return replace(self.event.progress_report(), label=f"batch {self.batch}/{self.batches}")


@dataclass(frozen=True)
class Evaluation:
    """Outcome of attacking an image set.

    ``labels`` are the true labels (−1 where unknown); ``goal_labels`` the labels attacked
    (the true label, or the clean prediction where it is unknown). For black-box attacks,
    ``queries_per_image`` and ``queries_to_success`` (-1 where the goal was not met) come from
    the attack's results and ``oracle`` describes the oracle's settings; else they are None.
    ``iterations`` holds each batch's iteration count; ``iterations_per_image`` the iterations
    until each image first met the goal (its batch's count where it never did);
    ``clean_probs`` the model's probabilities on the clean images; ``query_limit`` the queries
    a black-box attack could spend per image (its own plan, capped by the oracle's budget).
    """

    x: torch.Tensor
    x_adv: torch.Tensor
    labels: torch.Tensor
    goal_labels: torch.Tensor
    target: torch.Tensor | None
    clean_pred: torch.Tensor
    adv_pred: torch.Tensor
    adv_probs: torch.Tensor
    success: torch.Tensor
    mask: torch.Tensor
    iterations: list[int]
    queries: int
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    queries_per_image: torch.Tensor | None = None
    queries_to_success: torch.Tensor | None = None
    oracle: dict[str, Any] | None = None
    clean_probs: torch.Tensor | None = None
    iterations_per_image: torch.Tensor | None = None
    query_limit: int | None = None


def evaluate_attack(
    attack: Attack,
    model: ModelHandle,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    target: torch.Tensor | None = None,
    seed: int = 0,
    batch_size: int = 256,
    oracle: Oracle | None = None,
) -> Iterator[BatchStep | Evaluation]:
    """Attack ``images`` batch by batch; the final event is an :class:`Evaluation`.

    Batch ``b`` is attacked with seed ``seed + b`` so that results do not depend on how far a
    consumer read before; the same seed and batch size give the same result on one device.
    A black-box attack queries ``oracle`` (by default an oracle over ``model`` that shows
    everything, without a budget); a white-box attack refuses one.
    """
    blackbox = attack.access != "white-box"
    if oracle is not None and not blackbox:
        raise WorkbenchError(f"{attack.title} is a white-box attack: it takes the model, not an oracle")
    if blackbox and oracle is None:
        oracle = Oracle(model)
    n = images.shape[0]
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    if mask is None:
        mask = torch.ones(1, 1, *images.shape[2:])
    mask = (torch.as_tensor(mask, dtype=torch.float32) > 0).float()
    if mask.dim() == 2:
        mask = mask[None, None]
    mask = mask.expand(n, -1, -1, -1) if mask.shape[0] == 1 else mask
    if target is not None:
        target = torch.as_tensor(target, dtype=torch.long).reshape(-1).expand(n).clone()
    started = time.perf_counter()
    clean_probs = model.predict(images).float().cpu()
    clean_pred = clean_probs.argmax(dim=1)
    goals = goal_labels(labels, clean_probs)
    batches = max(1, -(-n // batch_size))
    x_adv = images.clone()
    success = torch.zeros(n, dtype=torch.bool)
    adv_probs = torch.zeros(n, model.num_classes)
    iterations: list[int] = []
    per_image = torch.zeros(n, dtype=torch.long)
    queries = 0
    query_counts = {"queries": torch.zeros(n, dtype=torch.long), "queries_to_success": torch.full((n,), -1)}
    for b in range(batches):
        lo, hi = b * batch_size, min(n, (b + 1) * batch_size)
        events = attack.run(
            oracle if blackbox else model, images[lo:hi], goals[lo:hi], mask=mask[lo:hi],
            target=None if target is None else target[lo:hi], seed=seed + b,
        )
        try:
            for event in events:
                yield BatchStep(batch=b + 1, batches=batches, start=lo, event=event)
                if isinstance(event, AttackStep):
                    _first_success(per_image[lo:hi], event)
                if isinstance(event, AttackResult):
                    x_adv[lo:hi] = event.x_adv
                    success[lo:hi] = event.success
                    adv_probs[lo:hi] = event.probs
                    iterations.append(event.iterations)
                    reached = per_image[lo:hi]
                    per_image[lo:hi] = torch.where(event.success & (reached > 0), reached, event.iterations)
                    queries += event.queries
                    for key, counts in query_counts.items():
                        if key in event.metrics:
                            counts[lo:hi] = event.metrics[key]
        finally:
            events.close()
    seconds = time.perf_counter() - started
    adv_pred = adv_probs.argmax(dim=1)
    evaluation = Evaluation(
        x=images, x_adv=x_adv, labels=labels, goal_labels=goals, target=target,
        clean_pred=clean_pred, adv_pred=adv_pred, adv_probs=adv_probs, success=success,
        mask=mask, iterations=iterations, queries=queries, seconds=seconds,
        queries_per_image=query_counts["queries"] if blackbox else None,
        queries_to_success=query_counts["queries_to_success"] if blackbox else None,
        oracle=oracle.describe() if blackbox else None,
        clean_probs=clean_probs, iterations_per_image=per_image,
        query_limit=_query_limit(attack, oracle) if blackbox else None,
    )
    yield Evaluation(**{**evaluation.__dict__, "summary": summarize(evaluation)})


def _first_success(reached: torch.Tensor, step: AttackStep) -> None:
    """Record (in place) ``step.iteration`` for the images first meeting the goal at ``step``."""
    success = torch.as_tensor(step.success).reshape(-1).cpu()
    if success.numel() == reached.numel():
        reached[(reached == 0) & success] = step.iteration


def _query_limit(attack: Attack, oracle: Oracle) -> int | None:
    """Queries the attack may spend per image: its plan, capped by the oracle's budget."""
    planned = attack.planned_queries() if hasattr(attack, "planned_queries") else None
    limits = [value for value in (planned, oracle.budget) if value]
    return min(limits) if limits else None


def summarize(e: Evaluation) -> dict[str, Any]:
    """The summary metrics of an evaluation (the CLI's ``--json`` object).

    Accuracies count images with a known label; ``success_rate`` is the fraction of all images
    whose adversarial version meets the goal (misclassified, or classified as the target);
    ``success_rate_on_correct`` the same among images the model got right to begin with.
    ``queries_median`` and ``queries_mean`` are over the images whose goal a black-box attack
    met (the queries spent until then); ``budget_exhausted`` counts the images that failed
    because the oracle's budget ran out: every failed image when the budget, not the attack's
    own plan, limited the queries per image (an attack stops on an image only when it meets the
    goal or cannot afford its next query, which may cost several). With a white-box attack these
    are None. ``iterations_mean`` is the mean over images of the iterations until each met the
    goal (or until the attack stopped, where it never did).
    """
    n = e.x.shape[0]
    known = e.labels >= 0
    delta = e.x_adv.double() - e.x.double()
    changed = delta != 0
    outside = changed & (e.mask == 0).expand_as(changed)
    correct = known & (e.clean_pred == e.labels)

    def fraction(values: torch.Tensor, over: torch.Tensor | None = None) -> float | None:
        if over is not None:
            values = values[over]
        return round(values.float().mean().item(), 6) if values.numel() else None

    flat = delta.reshape(n, -1)
    return {
        "n": n,
        "labelled": int(known.sum()),
        "targeted": e.target is not None,
        "clean_accuracy": fraction(e.clean_pred == e.labels, known),
        "adversarial_accuracy": fraction(e.adv_pred == e.labels, known),
        "success_rate": fraction(e.success),
        "success_rate_on_correct": fraction(e.success, correct),
        "max_linf": round(flat.abs().max().item(), 6) if n else 0.0,
        "mean_linf": round(flat.abs().amax(dim=1).mean().item(), 6) if n else 0.0,
        "mean_l2": round(flat.norm(dim=1).mean().item(), 6) if n else 0.0,
        "mean_l0": round(changed.any(dim=1).reshape(n, -1).sum(dim=1).float().mean().item(), 3) if n else 0.0,
        "pixels_changed_outside_mask": int(outside.sum()),
        "iterations_mean": _iterations_mean(e),
        "queries": e.queries,
        **_query_summary(e),
        "seconds": round(e.seconds, 3),
    }


def _iterations_mean(e: Evaluation) -> float:
    if e.iterations_per_image is not None and e.iterations_per_image.numel():
        return round(e.iterations_per_image.double().mean().item(), 3)
    return round(sum(e.iterations) / len(e.iterations), 3) if e.iterations else 0


def _query_summary(e: Evaluation) -> dict[str, Any]:
    if e.queries_to_success is None or e.queries_per_image is None or e.oracle is None:
        return {"queries_median": None, "queries_mean": None, "budget_exhausted": None, "oracle": None}
    spent = e.queries_to_success[e.queries_to_success >= 0].double()
    budget = e.oracle["budget"]
    binding = bool(budget) and (e.query_limit is None or budget <= e.query_limit)
    exhausted = ~e.success & ((e.queries_per_image >= budget) | binding) if budget else torch.zeros(0)
    return {
        "queries_median": spent.median().item() if spent.numel() else None,
        "queries_mean": round(spent.mean().item(), 3) if spent.numel() else None,
        "budget_exhausted": int(exhausted.sum()),
        "oracle": e.oracle,
    }


def per_image_rows(e: Evaluation, names: list[str], class_names: list[str]) -> list[dict[str, Any]]:
    """One record per image: its name, true label (index, −1 if unknown), the clean and the
    adversarial top class with its probability, success, the float perturbation's L∞, L2 and
    L0 (pixels changed), the iterations until success and, for black-box attacks, the queries."""
    n = e.x.shape[0]
    delta = (e.x_adv.double() - e.x.double()).reshape(n, -1)
    pixels = (e.x_adv != e.x).any(dim=1).reshape(n, -1).sum(dim=1)
    clean_probs = e.clean_probs if e.clean_probs is not None else torch.zeros(n, len(class_names))
    rows = []
    for i in range(n):
        clean, adversarial = int(e.clean_pred[i]), int(e.adv_pred[i])
        row = {
            "name": names[i],
            "label": int(e.labels[i]),
            "clean": class_names[clean],
            "clean_confidence": round(float(clean_probs[i, clean]), 6),
            "adversarial": class_names[adversarial],
            "adversarial_confidence": round(float(e.adv_probs[i, adversarial]), 6),
            "success": bool(e.success[i]),
            "linf": round(delta[i].abs().max().item(), 6) if delta.shape[1] else 0.0,
            "l2": round(delta[i].norm().item(), 6),
            "l0": int(pixels[i]),
            "iterations": int(e.iterations_per_image[i]) if e.iterations_per_image is not None else None,
        }
        if e.queries_per_image is not None:
            row["queries"] = int(e.queries_per_image[i])
        rows.append(row)
    return rows

"""What black-box attacks share (ARCHITECTURE.md, contract 5): they receive an
:class:`~workbench.core.oracle.Oracle`, never the model.

:class:`BlackBoxAttack` owns what the white-box base owns for gradient attacks — input
validation, the mask invariant and the outcome — plus the query accounting: it starts the
oracle's per-image counts, seals the oracle's referee while the attack runs, ends the run
cleanly when a query would break the budget (with the last batch the attack reported, its best
so far), and judges the final batch itself. A subclass writes :meth:`~BlackBoxAttack.iterate`
against a :class:`BlackBoxProblem`, whose only window on the model is :meth:`BlackBoxProblem.ask`.

The helpers below serve several attacks: a margin loss on the confidences the oracle shows,
adversarial starting points for label-only attacks, and the binary search towards the
decision boundary.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

import torch

from workbench.attacks.base import Attack, AttackEvents, Batch, outcome, validate_batch
from workbench.core.errors import WorkbenchError
from workbench.core.events import AttackStep
from workbench.core.norms import flat
from workbench.core.oracle import Answer, Oracle, QueryBudgetExhausted
from workbench.core.params import param

_FLOOR = 1e-30  # confidences below this (or not shown at all) count as this in log space


@dataclass
class BlackBoxProblem(Batch):
    """One black-box attack problem on a batch (on the CPU, where the oracle answers).

    ``limit`` is how many queries the attack may spend on each image: its own plan, capped by
    the oracle's budget.
    """

    oracle: Oracle
    limit: int

    @property
    def num_classes(self) -> int:
        return self.oracle.num_classes

    def spent(self, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Queries spent so far on the images at ``index``."""
        return self.oracle.queries[index]

    def affordable(self, index: torch.Tensor | slice = slice(None), cost: int | torch.Tensor = 1) -> torch.Tensor:
        """Whether each image at ``index`` may still spend ``cost`` queries."""
        return self.spent(index) + cost <= self.limit

    def ask(self, x_rows: torch.Tensor, images: torch.Tensor) -> Answer:
        """The oracle's answer for query rows, row i being for the attacked image ``images[i]``."""
        return self.oracle.query(x_rows, images)

    def reached(self, answer: Answer, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Whether the answers (for the images at ``index``) meet the attack's goal."""
        return self.reaches_goal(answer.top1, index)

    def margin(self, answer: Answer, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """The loss that score-based attacks decrease: log p_goal − max_{j≠goal} log p_j,
        negated for targeted attacks, from the confidences shown (unlisted classes count as 0).
        Unrounded, this is the margin of the logits, negative once the goal is met."""
        logp = answer.visible(self.num_classes).clamp_min(_FLOOR).log()
        goal = self.goal[index].unsqueeze(1)
        own = logp.gather(1, goal).squeeze(1)
        others = logp.scatter(1, goal, float("-inf")).amax(dim=1)
        return others - own if self.targeted else own - others

    def step(
        self,
        iteration: int,
        total: int,
        x_adv: torch.Tensor,
        seen: Answer,
        loss: torch.Tensor,
        success: torch.Tensor,
    ) -> AttackStep:
        """An :class:`AttackStep` for the whole batch: ``seen`` is the oracle's answer on
        ``x_adv``, the attacker's view of it."""
        spent = self.oracle.queries
        return AttackStep(
            iteration=iteration,
            total=total,
            x_adv=x_adv.clone(),
            probs=seen.visible(self.num_classes),
            loss=loss.float().clone(),
            success=success.clone(),
            queries=int(spent.sum()),
            queries_per_image=spent,
            budget=self.oracle.budget,
            seen=seen.clone(),
        )


class BlackBoxAttack(Attack):
    """Base class of attacks through an oracle. ``access`` is ``"score"`` (needs confidences)
    or ``"label"`` (top-1 labels suffice). Subclasses implement :meth:`iterate`; each
    :class:`AttackStep` they yield holds their best batch so far."""

    access = "score"

    def planned_queries(self) -> int:
        """Queries per image the attack plans to spend (the oracle's budget may cap it)."""
        return self.params.max_queries

    def run(  # type: ignore[override]  # black-box attacks take an oracle, not a model
        self,
        oracle: Oracle,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        target: torch.Tensor | None = None,
        seed: int = 0,
    ) -> AttackEvents:
        """Validate the inputs now and return the attack's event generator (see
        :meth:`Attack.run`); ``oracle`` is the only access to the model."""
        if not isinstance(oracle, Oracle):
            raise WorkbenchError(
                f"{self.title} is a black-box attack: give it an Oracle over the model, "
                f"not a {type(oracle).__name__}"
            )
        if self.access == "score" and oracle.params.label_only:
            raise WorkbenchError(
                f"{self.title} needs confidences, but the oracle answers labels only; "
                "use a label-only attack such as hopskipjump or boundary"
            )
        fields = validate_batch(
            x, y, mask=mask, target=target, seed=seed, input_shape=oracle.input_shape,
            num_classes=oracle.num_classes, device=torch.device("cpu"),
        )
        limit = self.planned_queries()
        if oracle.budget:
            limit = min(limit, oracle.budget)
        return self._events(BlackBoxProblem(oracle=oracle, limit=limit, **fields))

    def _events(self, problem: BlackBoxProblem) -> AttackEvents:  # type: ignore[override]
        oracle = problem.oracle
        n = problem.x.shape[0]
        oracle.begin(n)
        steps = self.iterate(problem)
        best, iterations = problem.x, 0
        first_success = torch.full((n,), -1, dtype=torch.long)
        try:
            while True:
                try:
                    with oracle.sealed():
                        event = next(steps)
                except StopIteration as stop:
                    best = stop.value
                    break
                except QueryBudgetExhausted:
                    break  # the attack asked too much: it ends with the last batch it reported
                iterations, best = event.iteration, event.x_adv
                newly = (first_success < 0) & event.success
                first_success[newly] = event.queries_per_image[newly]
                yield event
        finally:
            steps.close()
        yield self._judged(problem, problem.restrict(best), iterations, first_success)

    @staticmethod
    def _judged(problem: BlackBoxProblem, x_adv: torch.Tensor, iterations: int, first_success: torch.Tensor):
        probs = problem.oracle.judge(x_adv)
        success = problem.reaches_goal(probs.argmax(dim=1))
        spent = problem.oracle.queries
        first_success = torch.where(first_success < 0, spent, first_success)
        metrics = {"queries": spent, "queries_to_success": torch.where(success, first_success, -1)}
        return outcome(problem, x_adv, probs, success, iterations, int(spent.sum()), metrics)

    def iterate(self, problem: BlackBoxProblem) -> Generator[AttackStep, None, torch.Tensor]:  # type: ignore[override]
        """Yield an :class:`AttackStep` (via :meth:`BlackBoxProblem.step`) per iteration;
        return the final adversarial batch."""
        raise NotImplementedError


# -- helpers of several attacks ------------------------------------------------------------------


def max_queries_param(default: int):
    """The ``max_queries`` parameter that every query-based attack declares."""
    return param(default, title="Queries", description="Queries per image the attack plans to spend (the oracle's budget may stop it earlier)", unit="queries", low=1, high=10**7)


def per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` (N) shaped to broadcast against the N×… tensor ``like``."""
    return values.view(-1, *([1] * (like.dim() - 1)))


def starting_points(
    problem: BlackBoxProblem, clean: Answer, tries: int
) -> tuple[torch.Tensor, Answer, torch.Tensor]:
    """An adversarial point for each image, for attacks that walk along the decision boundary.

    Untargeted: uniform noise inside the mask, as Brendel et al. and Chen et al. start, then
    the other images of the batch that the oracle (``clean``) labels differently, nearest
    first. Targeted: the batch's images labelled as the target, nearest first (the attacker's
    examples of that class), then noise. Each candidate costs one query; up to ``tries`` of
    each kind. Returns the points (``x`` where none was found), the oracle's answers on them
    and whether one was found.
    """
    n = problem.x.shape[0]
    points, seen = problem.x.clone(), clean.clone()
    found = problem.reached(clean)
    ranked = _nearest_with_goal(problem, clean)
    kinds = ["image", "noise"] if problem.targeted else ["noise", "image"]
    for attempt in range(tries * 2):
        kind, rank = kinds[attempt // tries], attempt % tries
        pending = ~found & problem.affordable()
        if kind == "image":
            if rank >= n:
                continue
            pending &= ranked[:, rank] >= 0
        index = pending.nonzero().squeeze(1)
        if index.numel() == 0:
            continue
        if kind == "image":
            candidate = problem.x[ranked[index, rank]]
        else:
            candidate = torch.rand(problem.x[index].shape, generator=problem.generator)
        candidate = problem.restrict(candidate, index)
        answer = problem.ask(candidate, index)
        hit = problem.reached(answer, index)
        points[index[hit]] = candidate[hit]
        seen = seen.replace(index[hit], answer.rows(hit))
        found[index[hit]] = True
    return points, seen, found


def _nearest_with_goal(problem: BlackBoxProblem, clean: Answer) -> torch.Tensor:
    """N×N: for each image, the indices of the batch's other images whose label meets its goal,
    nearest (in L2 between the masked images) first, padded with -1."""
    n = problem.x.shape[0]
    labels = clean.top1
    if problem.targeted:
        eligible = labels.unsqueeze(0) == problem.target.unsqueeze(1)
    else:
        eligible = labels.unsqueeze(0) != problem.y.unsqueeze(1)
    eligible &= ~torch.eye(n, dtype=torch.bool)
    masked = flat(problem.x * problem.mask)
    distance = torch.cdist(masked, masked).masked_fill(~eligible, float("inf"))
    distance, order = distance.sort(dim=1)
    return order.masked_fill(torch.isinf(distance), -1)


def bisect(
    problem: BlackBoxProblem,
    x_adv: torch.Tensor,
    seen: Answer,
    index: torch.Tensor,
    tolerance: float | torch.Tensor,
) -> tuple[torch.Tensor, Answer]:
    """Binary search on the segment from ``x`` to the adversarial ``x_adv`` of each image at
    ``index`` until the adversarial end is within ``tolerance`` (a fraction of the segment, one
    for all or one per image) of the decision boundary, one query per step and image, while
    its budget lasts. ``x_adv`` and ``seen`` (the answers on ``x_adv``) hold one row per image
    at ``index``; returns the adversarial ends and the answers there, likewise."""
    x0 = problem.x[index]
    best = x_adv.clone()
    low = torch.zeros(index.numel())
    high = torch.ones(index.numel())
    while True:
        active = (high - low > tolerance) & problem.affordable(index)
        rows = active.nonzero().squeeze(1)
        if rows.numel() == 0:
            return best, seen
        middle = (low[rows] + high[rows]) / 2
        blend = x0[rows] + per_sample(middle, x0) * (x_adv[rows] - x0[rows])
        candidate = problem.restrict(blend, index[rows])
        answer = problem.ask(candidate, index[rows])
        hit = problem.reached(answer, index[rows])
        high[rows] = torch.where(hit, middle, high[rows])
        low[rows] = torch.where(hit, low[rows], middle)
        best[rows[hit]] = candidate[hit]
        seen = seen.replace(rows[hit], answer.rows(hit))

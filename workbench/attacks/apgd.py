"""Auto-PGD (Croce and Hein, "Reliable evaluation of adversarial robustness with an ensemble of
diverse parameter-free attacks", ICML 2020, section 3): PGD without a step size to tune.

Each image gets its own step size η, starting at 2ε. A step goes to
``z = Π(x_k + η·ascent(∇f(x_k)))`` and then, with momentum α = 0.75, to
``x_{k+1} = Π(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1}))``. At the checkpoints
``w_j = ⌈p_j·N⌉`` (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)) η is
halved, and the image goes back to the best point found so far, when the loss rose in fewer
than ρ = 75 % of the steps since the last checkpoint, or when η was not halved at the last
checkpoint and the best loss has not improved since.

The loss is the cross-entropy or the DLR loss (:mod:`workbench.attacks.losses`); APGD-T runs
the targeted DLR loss towards each of the most likely other classes in turn. An image counts as
done — and keeps that point — as soon as it meets the attack's goal; later runs (restarts, other
targets) attack only the images that are left. An image never fooled ends at the highest-loss
point of its last run. Steps and projections stay inside the mask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Generator, Sequence

import torch

from workbench.attacks.balls import L2Ball, LinfBall
from workbench.attacks.base import Attack, LossFunction, Problem, step_event
from workbench.attacks.blackbox import per_sample
from workbench.attacks.losses import dlr, ranked_others, targeted_dlr
from workbench.attacks.registry import ATTACKS
from workbench.core.events import AttackStep
from workbench.core.params import param

MOMENTUM = 0.75  # α: the weight of the new step against the previous one
INCREASE_RATE = 0.75  # ρ: the fraction of steps that must raise the loss to keep η


def checkpoints(steps: int) -> list[int]:
    """The iterations ``w_j = ⌈p_j·steps⌉`` (j ≥ 1) at which the step size may be halved.

    The fractions p_j are whole hundredths, so they are computed exactly in hundredths."""
    hundredths = [0, 22]
    while (following := hundredths[-1] + max(hundredths[-1] - hundredths[-2] - 3, 6)) <= 100:
        hundredths.append(following)
    return sorted({-(-p * steps // 100) for p in hundredths[1:]})


def auto_pgd(
    problem: Problem, ball: LinfBall | L2Ball, losses: Sequence[LossFunction], *, steps: int
) -> Generator[AttackStep, None, torch.Tensor]:
    """One APGD run of ``steps`` gradient evaluations per loss in ``losses``, each from a
    random start and on the images that no earlier run brought to the goal. Yields the batch
    at every iteration (numbered on across runs, out of ``len(losses)·steps``); returns it."""
    x = problem.x
    n = x.shape[0]
    done = torch.zeros(n, dtype=torch.bool, device=x.device)
    shown = x.clone()
    logits_all = torch.zeros(n, problem.model.num_classes, device=x.device)
    loss_all = torch.zeros(n, device=x.device)
    total, offset = len(losses) * steps, 0
    for loss in losses:
        index = (~done).nonzero().squeeze(1)
        if index.numel() == 0:
            break
        run = _Run(problem, ball, loss, index, steps)
        for iteration in range(1, steps + 1):
            evaluated, points, logits, values, reached = run.advance(iteration)
            logits_all[evaluated], loss_all[evaluated], shown[evaluated] = logits, values, points
            done[evaluated] = reached
            yield step_event(problem, offset + iteration, total, shown, logits_all, loss_all, done)
            if not run.running.any():
                break
        unfooled = ~done[index]
        shown[index[unfooled]] = run.x_max[unfooled]
        offset += iteration
    return shown


class _Run:
    """One APGD run over the images at ``index``; its tensors hold one row per such image, and
    ``running`` marks the rows not yet at the goal."""

    def __init__(
        self, problem: Problem, ball: LinfBall | L2Ball, loss: LossFunction, index: torch.Tensor, steps: int
    ) -> None:
        self.problem, self.ball, self.loss, self.index = problem, ball, loss, index
        self.checkpoints = set(checkpoints(steps))
        self.last_checkpoint = 0
        x, mask = problem.x[index], problem.mask[index]
        m, device = index.numel(), x.device
        self.x = problem.restrict(x + ball.project(ball.random(x, problem.generator) * mask), index)
        self.x_previous = self.x.clone()
        self.x_max = self.x.clone()
        self.grad = torch.zeros_like(self.x)
        self.grad_max = torch.zeros_like(self.x)
        self.eta = torch.full((m,), 2.0 * ball.eps, device=device)
        self.loss_max = torch.full((m,), -math.inf, device=device)
        self.loss_previous = torch.full((m,), math.inf, device=device)  # the start is no increase
        self.increases = torch.zeros(m, device=device)
        # The second condition compares with the previous checkpoint, so it applies from the
        # second one on: the start counts as a point where η was just set.
        self.halved_last = torch.ones(m, dtype=torch.bool, device=device)
        self.loss_max_last = torch.full((m,), -math.inf, device=device)
        self.running = torch.ones(m, dtype=torch.bool, device=device)

    def advance(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Step the running images (from iteration 2 on), evaluate them, apply the checkpoint
        rule and freeze the ones at the goal. Returns the batch indices evaluated, the points
        evaluated, their logits, losses and whether they met the goal."""
        rows = self.running.nonzero().squeeze(1)
        index = self.index[rows]
        if iteration > 1:
            self._step(rows, index, first=iteration == 2)
        points = self.x[rows].clone()
        logits, values, grad = self.problem.loss_and_gradient(points, index, self.loss)
        self.grad[rows] = grad
        better = values > self.loss_max[rows]
        self.loss_max[rows] = torch.where(better, values, self.loss_max[rows])
        self.x_max[rows[better]] = points[better]
        self.grad_max[rows[better]] = grad[better]
        self.increases[rows] += (values > self.loss_previous[rows]).float()
        self.loss_previous[rows] = values
        taken = iteration - 1  # steps taken from the start
        if taken in self.checkpoints:
            self._checkpoint(taken)
        reached = self.problem.is_success(logits, index)
        self.running[rows[reached]] = False
        return index, points, logits, values, reached

    def _step(self, rows: torch.Tensor, index: torch.Tensor, first: bool) -> None:
        x0, mask = self.problem.x[index], self.problem.mask[index]
        current, previous = self.x[rows], self.x_previous[rows]
        eta = per_sample(self.eta[rows], current)

        def projected(point: torch.Tensor) -> torch.Tensor:
            return self.problem.restrict(x0 + self.ball.project((point - x0) * mask), index)

        z = projected(current + eta * self.ball.ascent(self.grad[rows] * mask))
        alpha = 1.0 if first else MOMENTUM
        self.x_previous[rows] = current
        self.x[rows] = projected(current + alpha * (z - current) + (1 - alpha) * (current - previous))

    def _checkpoint(self, taken: int) -> None:
        """Halve η and go back to the best point where the loss stalled (the paper's two
        conditions), for the running images."""
        since = taken - self.last_checkpoint
        oscillating = self.increases < INCREASE_RATE * since
        stalled = ~self.halved_last & (self.loss_max <= self.loss_max_last)
        halve = (oscillating | stalled) & self.running
        self.eta[halve] /= 2
        self.x[halve] = self.x_max[halve]
        self.x_previous[halve] = self.x_max[halve]
        self.grad[halve] = self.grad_max[halve]
        self.halved_last = halve
        self.loss_max_last = self.loss_max.clone()
        self.increases.zero_()
        self.last_checkpoint = taken


def cross_entropy_loss(problem: Problem) -> LossFunction:
    return problem.loss


def dlr_loss(problem: Problem) -> LossFunction:
    """Untargeted DLR, or targeted DLR towards the problem's target."""
    if problem.targeted:
        return towards(problem, problem.target)
    return lambda logits, index: dlr(logits, problem.y[index])


def towards(problem: Problem, target: torch.Tensor) -> LossFunction:
    """Targeted DLR towards ``target`` (one class per image of the batch)."""
    return lambda logits, index: targeted_dlr(logits, problem.y[index], target[index])


def targeted_runs(problem: Problem, targets: int) -> list[LossFunction]:
    """APGD-T's losses: targeted DLR towards the problem's target, or, in an untargeted
    problem, towards each of the ``targets`` classes the model finds most likely on the clean
    images after the true one, most likely first."""
    if problem.targeted:
        return [towards(problem, problem.target)]
    ranked = ranked_others(problem.logits(problem.x), problem.y, targets)
    return [towards(problem, ranked[:, rank]) for rank in range(ranked.shape[1])]


def eps_param(default: float, norm: str):
    if norm == "linf":
        return param(default, title="ε (L∞ budget)", description="Largest change of any pixel value", unit="pixel value", low=0.0, high=1.0)
    return param(default, title="ε (L2 budget)", description="Largest L2 norm of the perturbation", unit="L2 norm", low=0.0, high=1000.0)


def loss_param():
    return param("ce", title="Loss", description="Cross-entropy, or the Difference of Logits Ratio (targeted DLR in a targeted attack)", choices=("ce", "dlr"))


def steps_param():
    return param(100, title="Steps", description="Gradient evaluations per run", low=1, high=10000)


def restarts_param():
    return param(1, title="Restarts", description="Runs from new random starts, each on the images not yet fooled", low=1, high=100)


@dataclass(frozen=True)
class APGDParams:
    eps: float = eps_param(0.03, "linf")
    steps: int = steps_param()
    loss: str = loss_param()
    restarts: int = restarts_param()


class AutoPGDAttack(Attack):
    """APGD in the norm ball ``ball``."""

    ball: ClassVar[type]

    def losses(self, problem: Problem) -> list[LossFunction]:
        loss = cross_entropy_loss(problem) if self.params.loss == "ce" else dlr_loss(problem)
        return [loss] * self.params.restarts

    def iterate(self, problem: Problem):
        p = self.params
        return (yield from auto_pgd(problem, self.ball(p.eps), self.losses(problem), steps=p.steps))


@ATTACKS.register
class APGD(AutoPGDAttack):
    id = "apgd"
    title = "APGD (L∞)"
    summary = "PGD with momentum and a step size that halves itself when the loss stalls; CE or DLR loss."
    paper = "Croce and Hein, Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks, ICML 2020"
    norm = "linf"
    Params = APGDParams
    ball = LinfBall


@dataclass(frozen=True)
class APGDL2Params:
    eps: float = eps_param(1.5, "l2")
    steps: int = steps_param()
    loss: str = loss_param()
    restarts: int = restarts_param()


@ATTACKS.register
class APGDL2(AutoPGDAttack):
    id = "apgd-l2"
    title = "APGD (L2)"
    summary = "APGD inside an L2 ball: normalized-gradient steps, momentum, self-halving step size."
    paper = APGD.paper
    norm = "l2"
    Params = APGDL2Params
    ball = L2Ball


@dataclass(frozen=True)
class APGDTParams:
    eps: float = eps_param(0.03, "linf")
    steps: int = steps_param()
    targets: int = param(9, title="Target classes", description="Untargeted: how many of the most likely other classes are attacked in turn with the targeted DLR loss", low=1, high=1000)
    restarts: int = restarts_param()


@ATTACKS.register
class APGDT(AutoPGDAttack):
    id = "apgd-t"
    title = "APGD-T (L∞)"
    summary = "APGD with the targeted DLR loss, towards each of the most likely other classes in turn."
    paper = APGD.paper
    norm = "linf"
    Params = APGDTParams
    ball = LinfBall

    def losses(self, problem: Problem) -> list[LossFunction]:
        return [loss for loss in targeted_runs(problem, self.params.targets) for _ in range(self.params.restarts)]

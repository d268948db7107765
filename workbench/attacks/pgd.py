"""Projected gradient descent (Madry et al., "Towards Deep Learning Models Resistant to
Adversarial Attacks", ICLR 2018) in L∞ and L2, and the loop that FGSM shares.

Per-sample early stop: a sample that meets the goal is frozen and leaves the batch, so the
remaining iterations cost only what is still being attacked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generator

import torch

from workbench.attacks.balls import L2Ball, LinfBall
from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.registry import ATTACKS
from workbench.core.events import AttackStep
from workbench.core.params import param


def automatic_step_size(eps: float, steps: int, step_size: float) -> float:
    """``step_size``, or Madry et al.'s rule of thumb 2.5·ε/steps when it is 0."""
    return step_size if step_size > 0 else 2.5 * eps / steps


def projected_gradient_ascent(
    problem: Problem,
    ball: LinfBall | L2Ball,
    *,
    step_size: float,
    steps: int,
    random_start: bool,
    early_stop: bool,
) -> Generator[AttackStep, None, torch.Tensor]:
    """Iterate ``x ← Π(x + α·ascent(∇loss))`` inside ``ball`` around ``problem.x``, within the
    mask and [0, 1]. Yields the evaluated batch at each iteration; returns the final batch
    (for early-stopped samples, the first adversarial point found)."""
    x, mask = problem.x, problem.mask
    x_adv = x.clone()
    if random_start:
        x_adv = problem.restrict(x + ball.project(ball.random(x, problem.generator) * mask))
    n = x.shape[0]
    done = torch.zeros(n, dtype=torch.bool, device=x.device)
    logits_all = torch.zeros(n, problem.model.num_classes, device=x.device)
    loss_all = torch.zeros(n, device=x.device)
    for iteration in range(1, steps + 1):
        # Without early stop the whole batch moves: a slice, so no gather/scatter copies per step.
        index = (~done).nonzero().squeeze(1) if early_stop else slice(None)
        if early_stop and index.numel() == 0:
            break
        current = x_adv[index]
        logits, loss, grad = problem.loss_and_gradient(current, index)
        logits_all[index], loss_all[index] = logits, loss
        reached = problem.is_success(logits, index)
        done[index] = reached
        if early_stop:
            moving = ~reached
            index, current, grad = index[moving], current[moving], grad[moving]
        yield step_event(problem, iteration, steps, x_adv, logits_all, loss_all, done)
        if not early_stop or index.numel():
            stepped = current + step_size * ball.ascent(grad * mask[index])
            delta = ball.project((stepped - x[index]) * mask[index])
            x_adv[index] = problem.restrict(x[index] + delta, index)
    return x_adv


class ProjectedGradientAttack(Attack):
    """PGD inside the norm ball given by ``ball`` (its params: eps, steps, step_size,
    random_start, early_stop)."""

    ball: ClassVar[type]

    def iterate(self, problem: Problem):
        p = self.params
        return (
            yield from projected_gradient_ascent(
                problem,
                self.ball(p.eps),
                step_size=automatic_step_size(p.eps, p.steps, p.step_size),
                steps=p.steps,
                random_start=p.random_start,
                early_stop=p.early_stop,
            )
        )


@dataclass(frozen=True)
class PGDParams:
    eps: float = param(0.03, title="ε (L∞ budget)", description="Largest change of any pixel value", unit="pixel value", low=0.0, high=1.0)
    steps: int = param(40, title="Steps", description="Number of gradient steps", low=1, high=10000)
    step_size: float = param(0.0, title="Step size α", description="Change per step before projection; 0 = automatic, 2.5·ε/steps", unit="pixel value", low=0.0, high=1.0)
    random_start: bool = param(True, title="Random start", description="Start from a uniform random point in the ε-ball")
    early_stop: bool = param(True, title="Early stop", description="Stop attacking each image as soon as it is misclassified (or reaches the target)")


@ATTACKS.register
class PGD(ProjectedGradientAttack):
    id = "pgd"
    title = "PGD (L∞)"
    summary = "Iterated signed-gradient steps projected onto an L∞ ball around the image."
    paper = "Madry et al., Towards Deep Learning Models Resistant to Adversarial Attacks, ICLR 2018"
    norm = "linf"
    Params = PGDParams
    ball = LinfBall


@dataclass(frozen=True)
class PGDL2Params:
    eps: float = param(1.5, title="ε (L2 budget)", description="Largest L2 norm of the perturbation", unit="L2 norm", low=0.0, high=1000.0)
    steps: int = param(40, title="Steps", description="Number of gradient steps", low=1, high=10000)
    step_size: float = param(0.0, title="Step size α", description="L2 length of each step before projection; 0 = automatic, 2.5·ε/steps", unit="L2 norm", low=0.0, high=1000.0)
    random_start: bool = param(True, title="Random start", description="Start from a uniform random point in the ε-ball")
    early_stop: bool = param(True, title="Early stop", description="Stop attacking each image as soon as it is misclassified (or reaches the target)")


@ATTACKS.register
class PGDL2(ProjectedGradientAttack):
    id = "pgd-l2"
    title = "PGD (L2)"
    summary = "Iterated normalized-gradient steps projected onto an L2 ball around the image."
    paper = "Madry et al., Towards Deep Learning Models Resistant to Adversarial Attacks, ICLR 2018"
    norm = "l2"
    Params = PGDL2Params
    ball = L2Ball

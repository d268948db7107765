"""Carlini–Wagner L2 attack (Carlini and Wagner, "Towards Evaluating the Robustness of Neural
Networks", IEEE S&P 2017, section VI): the smallest L2 change that meets the goal with a margin.

The image is written as ``x' = (tanh(w) + 1)/2``, so that it stays in [0, 1] without clipping,
and Adam minimizes ``‖x' − x‖₂² + c·max(f(x'), −κ)`` over ``w``, where ``f`` is the logit
margin (:func:`~workbench.attacks.losses.goal_margin`) and κ the confidence. A binary search over
the constant ``c``, per image, finds the smallest c that still succeeds: c grows tenfold until
a run succeeds, then is bisected. Every image keeps its smallest-L2 point that met the goal
with margin κ; an image never fooled comes back unchanged. Only pixels inside the mask are
variables: outside it ``x'`` is ``x``. The change is computed as ``(tanh(w) − tanh(w₀))/2``
from the starting point ``w₀ = atanh(2x − 1)`` (pulled just inside ±1), so that a pixel whose
``w`` has not moved is exactly ``x`` rather than its rounded round trip through atanh and tanh.

Pixels at exactly 0 or 1 start deep in tanh's flat tails, where Adam needs hundreds of steps to
move them; with a few hundred steps in all, the attack effectively changes only the other pixels
(as in the reference implementations).

As in the paper, each run of the search restarts from the image with fresh Adam moments, and a
run stops early once the summed objective has not fallen by 0.01 % over a tenth of its steps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.blackbox import per_sample
from workbench.attacks.losses import goal_margin
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.params import param

_INSIDE = 1 - 1e-6  # atanh of exactly ±1 is infinite: images map just inside the box
_ABORT_GAIN = 0.9999  # the run stops when the objective keeps above this fraction of its last check


@dataclass(frozen=True)
class CWParams:
    steps: int = param(100, title="Steps", description="Adam steps per value of the constant c", low=1, high=100000)
    binary_steps: int = param(9, title="Binary search steps", description="Values of c tried per image: tenfold growth until success, then bisection", low=1, high=50)
    initial_const: float = param(0.1, title="Initial constant c", description="Weight of the margin term against the squared L2 distance at the start of the search", low=1e-6, high=1e6)
    learning_rate: float = param(0.01, title="Learning rate", description="Adam step size in tanh space", low=1e-6, high=10.0)
    confidence: float = param(0.0, title="Confidence κ", description="Logit margin by which the goal must be met", unit="logit", low=0.0, high=1000.0)
    abort_early: bool = param(True, title="Abort early", description="End a run of the search when the objective stops decreasing")


@ATTACKS.register
class CarliniWagnerL2(Attack):
    id = "cw"
    title = "Carlini–Wagner (L2)"
    summary = "Adam in tanh space on squared L2 distance plus c·margin, with a binary search over c."
    paper = "Carlini and Wagner, Towards Evaluating the Robustness of Neural Networks, IEEE S&P 2017"
    norm = "l2"
    Params = CWParams

    def iterate(self, problem: Problem):
        p = self.params
        x, mask = problem.x, problem.mask
        n = x.shape[0]
        device = x.device
        w_start = torch.atanh((2 * x - 1) * _INSIDE)
        tanh_start = torch.tanh(w_start)
        const = torch.full((n,), p.initial_const, device=device)
        lower = torch.zeros(n, device=device)
        upper = torch.full((n,), math.inf, device=device)
        best_l2 = torch.full((n,), math.inf, device=device)
        best, best_logits = x.clone(), problem.logits(x)
        total, iteration = p.binary_steps * p.steps, 0
        for _ in range(p.binary_steps):
            w = w_start.clone().requires_grad_(True)
            optimizer = torch.optim.Adam([w], lr=p.learning_rate)
            succeeded = torch.zeros(n, dtype=torch.bool, device=device)
            last_check = math.inf
            for step in range(p.steps):
                with torch.enable_grad():
                    x_adv = (x + mask * (torch.tanh(w) - tanh_start) / 2).clamp(0.0, 1.0)
                    logits = problem.model(x_adv)
                    margin = goal_margin(logits, problem.goal, problem.targeted)
                    distance = flat(x_adv - x).pow(2).sum(dim=1)
                    objective = distance + const * (margin + p.confidence).clamp_min(0.0)
                    optimizer.zero_grad(set_to_none=True)
                    objective.sum().backward()
                x_adv, logits = x_adv.detach(), logits.detach()
                l2 = distance.detach().sqrt()
                reached = problem.is_success(logits) & (margin.detach() + p.confidence <= 0)
                closer = reached & (l2 < best_l2)
                best_l2 = torch.where(closer, l2, best_l2)
                best[closer], best_logits[closer] = x_adv[closer], logits[closer]
                succeeded |= reached
                iteration += 1
                found = best_l2 < math.inf
                shown = torch.where(per_sample(found, x_adv), best, x_adv)
                shown_logits = torch.where(per_sample(found, logits), best_logits, logits)
                yield step_event(problem, iteration, total, shown, shown_logits, objective.detach(), found)
                optimizer.step()
                if p.abort_early and (step + 1) % max(p.steps // 10, 1) == 0:
                    summed = objective.detach().sum().item()
                    if summed > last_check * _ABORT_GAIN:
                        break
                    last_check = summed
            upper = torch.where(succeeded, torch.minimum(upper, const), upper)
            lower = torch.where(succeeded, lower, torch.maximum(lower, const))
            const = torch.where(upper < math.inf, (lower + upper) / 2, const * 10)
        return best

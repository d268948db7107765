"""HopSkipJump (Chen, Jordan and Wainwright, "HopSkipJumpAttack: A Query-Efficient
Decision-Based Attack", IEEE S&P 2020), L2, from labels only.

From an adversarial starting point, each iteration (1) finds the decision boundary between it
and the original image by binary search, (2) estimates the boundary's normal there from the
oracle's labels on B_t = B₀·√t random points at distance δ_t (with the paper's baseline
correction), and (3) steps along that direction by ξ_t = ‖x_t − x‖/√t, halving ξ_t until the
point is adversarial again. Search and steps stay inside the mask; the result is the closest
adversarial boundary point found (an iteration may move away from the original now and then).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem, bisect, max_queries_param, per_sample, starting_points
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.params import param

_START_TRIES = 20  # noise draws (and batch images) tried as starting points
_HALVINGS = 25  # step-size halvings before an iteration gives up its step


def gaussian_directions(problem: BlackBoxProblem, index: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` random unit directions (L2) within the mask for each image at ``index``:
    a tensor len(index)×count×C×H×W."""
    shape = (index.numel(), count, *problem.x.shape[1:])
    noise = torch.randn(shape, generator=problem.generator) * problem.mask[index].unsqueeze(1)
    norms = noise.flatten(2).norm(dim=2).clamp_min(1e-12)
    return noise / norms.view(*norms.shape, 1, 1, 1)


@dataclass(frozen=True)
class HopSkipJumpParams:
    max_queries: int = max_queries_param(5000)
    initial_evals: int = param(100, title="Initial samples B₀", description="Random points per boundary-normal estimate at the first iteration; grows as √t", low=1, high=100000)
    max_evals: int = param(10000, title="Most samples", description="Upper limit of the random points per estimate", low=1, high=1000000)
    gamma: float = param(1.0, title="Threshold γ", description="Binary-search precision θ = γ / (d·√d) for d free pixel values", low=1e-6, high=1000.0)


@ATTACKS.register
class HopSkipJump(BlackBoxAttack):
    id = "hopskipjump"
    title = "HopSkipJump (L2)"
    summary = "Label-only: walks along the decision boundary with estimated normals and geometric steps."
    paper = "Chen, Jordan and Wainwright, HopSkipJumpAttack: A Query-Efficient Decision-Based Attack, IEEE S&P 2020"
    norm = "l2"
    access = "label"
    Params = HopSkipJumpParams

    def iterate(self, problem: BlackBoxProblem):
        n = problem.x.shape[0]
        clean = problem.ask(problem.x, torch.arange(n))
        current, seen, found = starting_points(problem, clean, _START_TRIES)
        free = flat(problem.mask.expand_as(problem.x)).sum(dim=1).clamp_min(1)
        theta = self.params.gamma / (free * free.sqrt())
        moving = found & ~problem.reached(clean)
        index = moving.nonzero().squeeze(1)
        current[index], boundary_seen = bisect(problem, current[index], seen.rows(index), index, theta[index])
        seen = seen.replace(index, boundary_seen)
        distance = flat(current - problem.x).norm(dim=1)
        best, best_seen, best_distance = current.clone(), seen, distance.clone()
        yield problem.step(1, problem.limit, best, best_seen, best_distance, found)
        t = 0
        while True:
            index = (moving & problem.affordable(cost=2)).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            t += 1
            samples = min(int(self.params.initial_evals * math.sqrt(t)), self.params.max_evals)
            delta = free[index].sqrt() * theta[index] * distance[index] if t > 1 else torch.full((index.numel(),), 0.1)
            direction = self.normal(problem, current[index], index, delta, samples)
            stepped, stepped_seen = self.geometric_step(
                problem, current[index], seen.rows(index), index, direction, distance[index] / math.sqrt(t)
            )
            current[index], boundary_seen = bisect(problem, stepped, stepped_seen, index, theta[index])
            seen = seen.replace(index, boundary_seen)
            distance = flat(current - problem.x).norm(dim=1)
            closer = (distance < best_distance).nonzero().squeeze(1)
            best[closer], best_distance[closer] = current[closer], distance[closer]
            best_seen = best_seen.replace(closer, seen.rows(closer))
            yield problem.step(t + 1, problem.limit, best, best_seen, best_distance, found)
        return best

    def normal(self, problem: BlackBoxProblem, at: torch.Tensor, index: torch.Tensor, delta: torch.Tensor, samples: int) -> torch.Tensor:
        """The estimated unit normal of the boundary at ``at`` pointing to the adversarial side,
        from up to ``samples`` labelled points per image (fewer where the budget is short; one
        query is kept for the step)."""
        allowed = (problem.limit - problem.spent(index) - 1).clamp(0, samples)
        used = torch.arange(samples).unsqueeze(0) < allowed.unsqueeze(1)
        directions = gaussian_directions(problem, index, samples)
        owners = index.unsqueeze(1).expand_as(used)[used]
        points = problem.restrict(at.unsqueeze(1) + per_sample(delta, directions) * directions, index.unsqueeze(1).expand_as(used))
        directions = (points - at.unsqueeze(1)) / per_sample(delta, directions)
        verdict = torch.zeros(used.shape)
        verdict[used] = problem.reached(problem.ask(points[used], owners), owners).float() * 2 - 1
        count = used.sum(dim=1).clamp_min(1)
        mean = verdict.sum(dim=1) / count
        unanimous = mean.abs() == 1
        verdict = torch.where(unanimous.unsqueeze(1), verdict, (verdict - mean.unsqueeze(1)) * used)
        estimate = (verdict.view(*verdict.shape, 1, 1, 1) * directions).sum(dim=1)
        return estimate / per_sample(flat(estimate).norm(dim=1).clamp_min(1e-12), estimate)

    def geometric_step(self, problem: BlackBoxProblem, at: torch.Tensor, seen, index: torch.Tensor, direction: torch.Tensor, size: torch.Tensor):
        """Step from the boundary points ``at`` along ``direction`` by ``size``, halving it until
        the point is adversarial (or the budget or patience ends: then the point stays)."""
        stepped = at.clone()
        pending = torch.ones(index.numel(), dtype=torch.bool)
        size = size.clone()
        for _ in range(_HALVINGS):
            rows = (pending & problem.affordable(index)).nonzero().squeeze(1)
            if rows.numel() == 0:
                break
            candidate = problem.restrict(at[rows] + per_sample(size[rows], at) * direction[rows], index[rows])
            answer = problem.ask(candidate, index[rows])
            hit = problem.reached(answer, index[rows])
            stepped[rows[hit]] = candidate[hit]
            seen = seen.replace(rows[hit], answer.rows(hit))
            pending[rows[hit]] = False
            size[rows[~hit]] /= 2
        return stepped, seen

"""The Boundary attack (Brendel, Rauber and Bethge, "Decision-Based Adversarial Attacks: Reliable
Attacks Against Black-Box Machine Learning Models", ICLR 2018), L2, from labels only.

From an adversarial starting point (moved to the boundary by binary search), each step draws a
random direction orthogonal to the way back to the original image, takes a step of relative
length δ along it on the sphere around the original (the orthogonal step), then moves a
fraction ε towards the original (the source step), and keeps the result if the oracle still
labels it adversarial. As in the paper, both step sizes adapt to their success rates: the
orthogonal step is checked on its own every few steps and both grow when more than half of
those checks stay adversarial, shrink below a fifth; the source step also grows or shrinks with
the rate of accepted steps. One query per image and step (two on checking steps); every
direction lies inside the mask.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem, bisect, max_queries_param, per_sample, starting_points
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.params import param

_START_TRIES = 20  # noise draws (and batch images) tried as starting points
_START_PRECISION = 1e-3  # binary search of the starting point, as a fraction of its distance
_CHECK_EVERY = 10  # steps between checks of the orthogonal step alone
_WINDOW = (10, 30)  # checks of the orthogonal step, and steps, that one adaptation looks back on
_RATES = (0.2, 0.5)  # success rates below which a step shrinks, above which it grows


@dataclass(frozen=True)
class BoundaryParams:
    max_queries: int = max_queries_param(5000)
    orthogonal_step: float = param(0.01, title="Orthogonal step δ", description="Initial length of the random step on the sphere, relative to the distance", low=1e-8, high=10.0)
    source_step: float = param(0.01, title="Source step ε", description="Initial fraction of the distance moved towards the original per step", low=1e-8, high=1.0)
    step_adaptation: float = param(1.5, title="Step adaptation", description="Factor by which step sizes grow or shrink with their success rates", low=1.0, high=10.0)


class SuccessWindow:
    """Per image, the outcomes of the last ``size`` trials, and how many trials were seen."""

    def __init__(self, n: int, size: int) -> None:
        self.outcomes = torch.zeros(n, size, dtype=torch.bool)
        self.count = torch.zeros(n, dtype=torch.long)

    def add(self, index: torch.Tensor, outcome: torch.Tensor) -> None:
        self.outcomes[index, self.count[index] % self.outcomes.shape[1]] = outcome
        self.count[index] += 1

    def full(self) -> torch.Tensor:
        return self.count >= self.outcomes.shape[1]

    def rate(self) -> torch.Tensor:
        return self.outcomes.float().mean(dim=1)

    def clear(self, which: torch.Tensor) -> None:
        self.outcomes[which] = False
        self.count[which] = 0


@ATTACKS.register
class BoundaryAttack(BlackBoxAttack):
    id = "boundary"
    title = "Boundary attack (L2)"
    summary = "Label-only: a random walk along the decision boundary that shrinks the distance to the image."
    paper = "Brendel, Rauber and Bethge, Decision-Based Adversarial Attacks, ICLR 2018"
    norm = "l2"
    access = "label"
    Params = BoundaryParams

    def iterate(self, problem: BlackBoxProblem):
        n = problem.x.shape[0]
        p = self.params
        clean = problem.ask(problem.x, torch.arange(n))
        best, seen, found = starting_points(problem, clean, _START_TRIES)
        moving = found & ~problem.reached(clean)
        index = moving.nonzero().squeeze(1)
        best[index], boundary_seen = bisect(problem, best[index], seen.rows(index), index, _START_PRECISION)
        seen = seen.replace(index, boundary_seen)
        steps = {"orthogonal": torch.full((n,), p.orthogonal_step), "source": torch.full((n,), p.source_step)}
        windows = {"orthogonal": SuccessWindow(n, _WINDOW[0]), "source": SuccessWindow(n, _WINDOW[1])}
        distance = flat(best - problem.x).norm(dim=1)
        yield problem.step(1, problem.limit, best, seen, distance, found)
        iteration = 1
        while True:
            iteration += 1
            checking = iteration % _CHECK_EVERY == 0
            index = (moving & problem.affordable(cost=2 if checking else 1)).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            orthogonal, candidate = self.propose(
                problem, best[index], index, steps["orthogonal"][index], steps["source"][index]
            )
            if checking:
                answer = problem.ask(orthogonal, index)
                windows["orthogonal"].add(index, problem.reached(answer, index))
            answer = problem.ask(candidate, index)
            accepted = problem.reached(answer, index)
            windows["source"].add(index, accepted)
            best[index[accepted]] = candidate[accepted]
            seen = seen.replace(index[accepted], answer.rows(accepted))
            if checking:
                self.adapt(steps, windows)
            distance = flat(best - problem.x).norm(dim=1)
            yield problem.step(iteration, problem.limit, best, seen, distance, found)
        return best

    def propose(self, problem: BlackBoxProblem, at: torch.Tensor, index: torch.Tensor, delta: torch.Tensor, epsilon: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The orthogonal-step points (on the sphere around x through ``at``) and the candidates
        after the source step, for the images at ``index``."""
        x = problem.x[index]
        back = flat(x - at)
        distance = back.norm(dim=1, keepdim=True).clamp_min(1e-12)
        unit = back / distance
        noise = flat(torch.randn(at.shape, generator=problem.generator) * problem.mask[index])
        noise = noise - (noise * unit).sum(dim=1, keepdim=True) * unit
        noise = noise / noise.norm(dim=1, keepdim=True).clamp_min(1e-12) * delta.unsqueeze(1) * distance
        on_sphere = -back + noise
        on_sphere = on_sphere * distance / on_sphere.norm(dim=1, keepdim=True).clamp_min(1e-12)
        orthogonal = problem.restrict(x + on_sphere.view_as(x), index)
        candidate = problem.restrict(x + (orthogonal - x) * per_sample(1 - epsilon, x), index)
        return orthogonal, candidate

    def adapt(self, steps: dict[str, torch.Tensor], windows: dict[str, SuccessWindow]) -> None:
        """Grow or shrink the step sizes of images whose windows are full, by their success rates.
        The orthogonal rate drives both steps (a larger sphere step needs a larger source step)."""
        factor = self.params.step_adaptation
        for kind, scaled in (("orthogonal", ("orthogonal", "source")), ("source", ("source",))):
            window = windows[kind]
            low, high = _RATES
            grow, shrink = window.full() & (window.rate() > high), window.full() & (window.rate() < low)
            for name in scaled:
                steps[name] = torch.where(grow, steps[name] * factor, torch.where(shrink, steps[name] / factor, steps[name]))
            steps["source"].clamp_(max=0.5)
            window.clear(grow | shrink)

"""Square attack (Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a query-efficient
black-box adversarial attack via random search", ECCV 2020), in L∞ and L2.

A random search over perturbations at the corners of the ε-ball: each iteration changes one
random square window of the image — to ±ε per channel in L∞, to a ±"meta-pseudo-Gaussian"
bump that moves perturbation mass between two windows in L2 — and keeps the change if the
margin loss the oracle shows decreases. The window covers a fraction p of the image that
halves on the paper's schedule. One query per image and iteration; an image stops as soon as
it meets the goal. Windows only change pixels inside the mask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem, max_queries_param, per_sample
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.params import param

_MILESTONES = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)  # of 10,000 iterations
_RESAMPLE = 10  # proposals per iteration until one changes the image


def fraction_schedule(p_init: float, iteration: int, planned: int) -> float:
    """The fraction of the image a window covers at ``iteration``: ``p_init`` halved at each of
    the paper's milestones, rescaled from 10,000 iterations to ``planned``."""
    progress = int(iteration / max(planned, 1) * 10000)
    return p_init / 2 ** sum(progress > m for m in _MILESTONES)


def windows(n: int, size: int, height: int, width: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random size×size window per image: the N×1×H×W boolean masks and, for every pixel, its
    row (N×H) and column (N×W) relative to the window's corner."""
    top = torch.randint(0, height - size + 1, (n,), generator=generator)
    left = torch.randint(0, width - size + 1, (n,), generator=generator)
    rows = torch.arange(height).unsqueeze(0) - top.unsqueeze(1)
    cols = torch.arange(width).unsqueeze(0) - left.unsqueeze(1)
    inside = ((rows >= 0) & (rows < size)).unsqueeze(2) & ((cols >= 0) & (cols < size)).unsqueeze(1)
    return inside.unsqueeze(1), rows, cols


def random_signs(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).float() * 2 - 1


@dataclass(frozen=True)
class SquareParams:
    eps: float = param(0.05, title="ε (L∞ budget)", description="Largest change of any pixel value", unit="pixel value", low=0.0, high=1.0)
    max_queries: int = max_queries_param(1000)
    p_init: float = param(0.8, title="Initial square size p", description="Fraction of the image the first squares cover; halved on the paper's schedule", low=0.001, high=1.0)


@ATTACKS.register
class Square(BlackBoxAttack):
    id = "square"
    title = "Square (L∞)"
    summary = "Random search over square patches of ±ε; score-based, one query per step."
    paper = "Andriushchenko et al., Square Attack: a query-efficient black-box adversarial attack via random search, ECCV 2020"
    norm = "linf"
    Params = SquareParams

    def iterate(self, problem: BlackBoxProblem):
        n, _, h, w = problem.x.shape
        planned = problem.limit
        start = self.initial(problem)
        answer = problem.ask(start, torch.arange(n))
        best, loss, done = start, problem.margin(answer), problem.reached(answer)
        yield problem.step(1, planned, best, answer, loss, done)
        for iteration in range(2, planned + 1):
            index = (~done & problem.affordable()).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            size = self.side(fraction_schedule(self.params.p_init, iteration - 2, planned), h, w)
            candidate = self.changed_proposal(problem, best, index, size)
            moved = (flat(candidate) != flat(best[index])).any(dim=1)
            index, candidate = index[moved], candidate[moved]
            if index.numel():
                new = problem.ask(candidate, index)
                new_loss, reached = problem.margin(new, index), problem.reached(new, index)
                better = (new_loss < loss[index]) | reached
                keep = index[better]
                best[keep], loss[keep], done[keep] = candidate[better], new_loss[better], reached[better]
                answer = answer.replace(keep, new.rows(better))
            yield problem.step(iteration, planned, best, answer, loss, done)
        return best

    def initial(self, problem: BlackBoxProblem) -> torch.Tensor:
        """Vertical stripes of ±ε, one sign per column and channel (the paper's L∞ start)."""
        n, c, _, w = problem.x.shape
        stripes = self.params.eps * random_signs((n, c, 1, w), problem.generator)
        return problem.restrict(problem.x + stripes * problem.mask)

    @staticmethod
    def side(p: float, height: int, width: int) -> int:
        """The side of a square window covering a fraction ``p`` of the image."""
        side = int(round(math.sqrt(p * height * width)))
        return min(max(side, 1), height - 1, width - 1)

    def changed_proposal(self, problem: BlackBoxProblem, best: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
        """Proposals for the images at ``index``, drawn again (a few times) where one would not
        change the image — a window outside the mask, or signs equal to the current ones."""
        candidate = self.propose(problem, best, index, size)
        for _ in range(_RESAMPLE - 1):
            same = (flat(candidate) == flat(best[index])).all(dim=1)
            if not same.any():
                break
            candidate[same] = self.propose(problem, best, index[same], size)
        return candidate

    def propose(self, problem: BlackBoxProblem, best: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
        """One window per image set to x ± ε (a random sign per channel)."""
        x = problem.x[index]
        n, c, h, w = x.shape
        window, _, _ = windows(n, size, h, w, problem.generator)
        corner = x + self.params.eps * random_signs((n, c, 1, 1), problem.generator)
        return problem.restrict(torch.where(window, corner, best[index]), index)


@dataclass(frozen=True)
class SquareL2Params:
    eps: float = param(2.0, title="ε (L2 budget)", description="L2 norm of the perturbation", unit="L2 norm", low=0.0, high=1000.0)
    max_queries: int = max_queries_param(1000)
    p_init: float = param(0.1, title="Initial square size p", description="Fraction of the image the first squares cover; halved on the paper's schedule", low=0.001, high=1.0)


def pseudo_gaussian(rows: int, cols: int) -> torch.Tensor:
    """A rows×cols bump of nested rectangles with weights 1/(r+1)² around the centre, unit L2."""
    ring = torch.maximum(
        (torch.arange(rows) - rows // 2).abs().unsqueeze(1),
        (torch.arange(cols) - cols // 2).abs().unsqueeze(0),
    )  # the Chebyshev distance from the centre
    bump = sum((ring <= k).float() / (k + 1) ** 2 for k in range(max(rows, cols) // 2 + 1))
    return bump / bump.norm()


def meta_pseudo_gaussian(size: int) -> torch.Tensor:
    """The L2 attack's window pattern: a bump in one half of the square and its negative in
    the other, unit L2."""
    pattern = torch.cat([pseudo_gaussian(size // 2, size), -pseudo_gaussian(size - size // 2, size)])
    return pattern / pattern.norm()


def placed(patterns: torch.Tensor, window: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """N×1×H×W: each image's s×s pattern (``patterns``, N×s×s) put into its window (as
    :func:`windows` gives it), zero elsewhere."""
    size = patterns.shape[-1]
    sample = torch.arange(patterns.shape[0]).view(-1, 1, 1)
    values = patterns[sample, rows.clamp(0, size - 1).unsqueeze(2), cols.clamp(0, size - 1).unsqueeze(1)]
    return values.unsqueeze(1) * window


@ATTACKS.register
class SquareL2(Square):
    id = "square-l2"
    title = "Square (L2)"
    summary = "Random search moving L2 mass between square windows; score-based, one query per step."
    norm = "l2"
    Params = SquareL2Params

    def initial(self, problem: BlackBoxProblem) -> torch.Tensor:
        """A 5×5 grid of ±meta-pseudo-Gaussian squares, scaled to ε (the paper's L2 start)."""
        n, c, h, w = problem.x.shape
        size = max(h // 5, 1)
        pattern = meta_pseudo_gaussian(size)
        delta = torch.zeros_like(problem.x)
        offset_h, offset_w = (h - 5 * size) // 2, (w - 5 * size) // 2
        for i in range(h // size):
            for j in range(w // size):
                top, left = offset_h + i * size, offset_w + j * size
                if top + size <= h and left + size <= w:
                    signs = random_signs((n, c, 1, 1), problem.generator)
                    delta[:, :, top:top + size, left:left + size] += pattern * signs
        return self.scaled(problem, delta, torch.arange(n))

    def scaled(self, problem: BlackBoxProblem, delta: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """``x + δ`` with δ (masked) rescaled to L2 norm ε, in [0, 1]."""
        delta = delta * problem.mask[index]
        norms = flat(delta).norm(dim=1).clamp_min(1e-12)
        return problem.restrict(problem.x[index] + delta * per_sample(self.params.eps / norms, delta), index)

    @staticmethod
    def side(p: float, height: int, width: int) -> int:
        """At least 3 pixels and odd, for the pattern's two halves."""
        side = max(int(round(math.sqrt(p * height * width))), 3)
        side += 1 - side % 2  # odd
        return min(side, height, width)

    def propose(self, problem: BlackBoxProblem, best: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
        """Window 1 gets a new bump plus its old content, rescaled to hold the mass of windows
        1 and 2 and what is left of the budget; window 2 is emptied."""
        x = problem.x[index]
        n, c, h, w = x.shape
        delta = best[index] - x
        first, rows, cols = windows(n, size, h, w, problem.generator)
        second, _, _ = windows(n, size, h, w, problem.generator)
        both = first | second
        in_first = (delta * first).flatten(2).norm(dim=2).view(n, c, 1, 1)
        in_both = (delta * both).flatten(2).norm(dim=2).view(n, c, 1, 1)
        spare = (self.params.eps ** 2 - flat(delta).norm(dim=1) ** 2).clamp_min(0.0) / c
        flip = torch.rand(n, generator=problem.generator) < 0.5
        pattern = meta_pseudo_gaussian(size).expand(n, size, size).clone()
        pattern[flip] = pattern[flip].transpose(1, 2)
        bump = placed(pattern, first, rows, cols) * random_signs((n, c, 1, 1), problem.generator)
        bump = bump + delta * first / (in_first + 1e-10)
        bump_norm = bump.flatten(2).norm(dim=2).view(n, c, 1, 1).clamp_min(1e-12)
        bump = bump / bump_norm * (per_sample(spare, bump) + in_both ** 2).sqrt()
        return self.scaled(problem, torch.where(both, 0.0, delta) + bump * first, index)

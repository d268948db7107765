"""SimBA, the simple black-box attack (Guo, Gardner, You, Wilson and Weinberger, "Simple
Black-box Adversarial Attacks", ICML 2019), in the pixel and the DCT basis.

Each iteration takes the next direction q of a random order of orthonormal basis vectors and
tries x + εq, then x − εq; the first that lowers the confidence in the true class (raises it in
the target class) is kept. The pixel basis visits single pixels (within the mask); the DCT
basis visits the low frequencies first (the first ``low_frequency`` × ``low_frequency`` block in
random order, then wider bands), which the paper finds far more query-efficient. One or two
queries per image and iteration; an image stops as soon as it meets the goal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem, max_queries_param, per_sample
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.oracle import Answer
from workbench.core.params import param


def dct_matrix(size: int) -> torch.Tensor:
    """The orthonormal DCT-II matrix: row k is the k-th cosine basis vector."""
    n = torch.arange(size, dtype=torch.float64)
    rows = torch.cos(math.pi * (2 * n.unsqueeze(0) + 1) * n.unsqueeze(1) / (2 * size))
    rows[0] *= math.sqrt(1 / size)
    rows[1:] *= math.sqrt(2 / size)
    return rows.float()


def coordinate_order(problem: BlackBoxProblem, basis: str, low_frequency: int) -> torch.Tensor:
    """N×D: for each image, the order in which the D = C·H·W basis coordinates are tried.

    Pixel basis: the pixels inside the mask in random order (those outside get -1). DCT basis:
    frequency bands of increasing max(u, v) — the first ``low_frequency`` wide, then bands of
    that width — each in random order."""
    n, c, h, w = problem.x.shape
    noise = torch.rand(n, c * h * w, generator=problem.generator)
    if basis == "pixel":
        inside = flat(problem.mask.expand_as(problem.x)) > 0
        key = torch.where(inside, noise, float("inf"))
        order = key.argsort(dim=1)
        return order.masked_fill(~inside.gather(1, order), -1)
    u = torch.arange(h).view(1, h, 1)
    v = torch.arange(w).view(1, 1, w)
    band = ((torch.maximum(u, v) - low_frequency).clamp_min(-1) // low_frequency + 1).expand(c, h, w)
    return (band.reshape(1, -1) + noise).argsort(dim=1)


@dataclass(frozen=True)
class SimBAParams:
    eps: float = param(0.2, title="Step ε", description="L2 length of each step along a basis vector", unit="L2 norm", low=0.0, high=10.0)
    max_queries: int = max_queries_param(1000)
    basis: str = param("dct", title="Basis", description="Directions tried: low-frequency DCT first, or single pixels", choices=("dct", "pixel"))
    low_frequency: int = param(8, title="Low-frequency block", description="DCT: size of the block of lowest frequencies tried first, and the width of each later band", low=1, high=4096)


@ATTACKS.register
class SimBA(BlackBoxAttack):
    id = "simba"
    title = "SimBA"
    summary = "Steps ±ε along random (DCT or pixel) basis vectors, kept when the true class loses confidence."
    paper = "Guo et al., Simple Black-box Adversarial Attacks, ICML 2019"
    norm = "l2"
    Params = SimBAParams

    def iterate(self, problem: BlackBoxProblem):
        x = problem.x
        n = x.shape[0]
        p = self.params
        order = coordinate_order(problem, p.basis, p.low_frequency)
        dct = [dct_matrix(size) for size in x.shape[2:]]
        best = x.clone()
        answer = problem.ask(best, torch.arange(n))
        score, done = self.goal_confidence(problem, answer), problem.reached(answer)
        towards_goal = -1.0 if problem.targeted else 1.0  # the loss: the goal's confidence, signed to fall
        yield problem.step(1, problem.limit, best, answer, towards_goal * score, done)
        for iteration in range(order.shape[1]):
            index = (~done & problem.affordable() & (order[:, iteration] >= 0)).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            direction = self.direction(problem, order[index, iteration], index, dct)
            for sign in (1.0, -1.0):
                candidate = problem.restrict(best[index] + sign * p.eps * direction, index)
                new = problem.ask(candidate, index)
                new_score = self.goal_confidence(problem, new, index)
                better = towards_goal * new_score < towards_goal * score[index]
                keep = index[better]
                best[keep], score[keep] = candidate[better], new_score[better]
                done[keep] = problem.reached(new, index)[better]
                answer = answer.replace(keep, new.rows(better))
                untried = ~better & problem.affordable(index)
                index, direction = index[untried], direction[untried]
                if index.numel() == 0:
                    break
            yield problem.step(iteration + 2, problem.limit, best, answer, towards_goal * score, done)
        return best

    @staticmethod
    def goal_confidence(problem: BlackBoxProblem, answer: Answer, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """The confidence the oracle shows for each image's goal class (0 when not listed)."""
        return answer.visible(problem.num_classes).gather(1, problem.goal[index].unsqueeze(1)).squeeze(1)

    def direction(self, problem: BlackBoxProblem, coordinate: torch.Tensor, index: torch.Tensor, dct: list[torch.Tensor]) -> torch.Tensor:
        """The basis vector of each flat ``coordinate`` (channel, u, v), masked and of unit L2."""
        _, c, h, w = problem.x.shape
        channel, u, v = coordinate // (h * w), (coordinate // w) % h, coordinate % w
        if self.params.basis == "pixel":
            vectors = torch.zeros(index.numel(), c * h * w)
            vectors[torch.arange(index.numel()), coordinate] = 1.0
            return vectors.view(-1, c, h, w)
        image = dct[0][u].unsqueeze(2) * dct[1][v].unsqueeze(1)
        vectors = torch.zeros(index.numel(), c, h, w)
        vectors[torch.arange(index.numel()), channel] = image
        vectors = vectors * problem.mask[index]
        norms = flat(vectors).norm(dim=1).clamp_min(1e-12)
        return vectors / per_sample(norms, vectors)

"""NES gradient estimation with projected gradient descent (Ilyas, Engstrom, Athalye and Lin,
"Black-box Adversarial Attacks with Limited Queries and Information", ICML 2018), L∞,
including the paper's partial-information setting.

The gradient of the margin loss the oracle shows is estimated by natural evolution strategies
with antithetic Gaussian samples, ĝ = Σᵢ (L(x + σuᵢ) − L(x − σuᵢ)) uᵢ / (2nσ), and followed by
a signed PGD step projected onto the ε-ball (inside the mask and [0, 1]): 2n + 1 queries per
image and iteration.

Partial information (section 3.2): when the oracle lists only the top k < K classes, a targeted
attack has no signal while the target is not listed. It then starts from an image the oracle
labels as the target (one of the attacker's own, here from the batch), maximizes the target's
log-confidence and shrinks the ball around the original image step by step — a step is kept
only while the target stays in the top k, and the shrink is halved when it does not — until the
ball has radius ε; from there it is the plain attack. (Until then the steps show points outside
the ε-ball; the result is always inside it.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.attacks.blackbox import BlackBoxAttack, BlackBoxProblem, max_queries_param, per_sample, starting_points
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.oracle import Answer
from workbench.core.params import param

_START_TRIES = 4  # target-class images (and noise draws) tried as partial-information starts


@dataclass(frozen=True)
class NESParams:
    eps: float = param(0.05, title="ε (L∞ budget)", description="Largest change of any pixel value", unit="pixel value", low=0.0, high=1.0)
    max_queries: int = max_queries_param(2000)
    samples: int = param(20, title="Sample pairs n", description="Antithetic Gaussian pairs per gradient estimate (2n queries)", low=1, high=10000)
    sigma: float = param(0.01, title="Sampling σ", description="Standard deviation of the search distribution", unit="pixel value", low=1e-6, high=1.0)
    step_size: float = param(0.01, title="Step size", description="Change of each pixel per PGD step", unit="pixel value", low=0.0, high=1.0)
    momentum: float = param(0.9, title="Momentum", description="Weight of the previous steps' direction in each step (0 = none)", low=0.0, high=0.999)
    partial_info: bool = param(True, title="Partial information", description="Targeted, with a top-k oracle: start from an image of the target class and shrink the ball (Ilyas et al. §3.2)")
    shrink: float = param(0.05, title="ε shrink per step", description="Partial information: how much the ball's radius shrinks per successful step at first", unit="pixel value", low=1e-6, high=1.0)


@ATTACKS.register
class NES(BlackBoxAttack):
    id = "nes"
    title = "NES + PGD (L∞)"
    summary = "PGD on gradients estimated from confidences by natural evolution strategies."
    paper = "Ilyas et al., Black-box Adversarial Attacks with Limited Queries and Information, ICML 2018"
    norm = "linf"
    Params = NESParams

    def iterate(self, problem: BlackBoxProblem):
        n = problem.x.shape[0]
        p = self.params
        cost = 2 * p.samples + 1
        planned = max(problem.limit // cost, 1)
        answer = problem.ask(problem.x, torch.arange(n))
        best, radius = problem.x.clone(), torch.full((n,), p.eps)
        if problem.targeted and p.partial_info and problem.oracle.k < problem.num_classes:
            best, answer, radius = self.partial_start(problem, answer)
        shrink = torch.full((n,), p.shrink)
        velocity = torch.zeros_like(problem.x)
        loss = self.loss(problem, answer, radius)
        done = problem.reached(answer) & (radius <= p.eps)
        yield problem.step(1, planned, best, answer, loss, done)
        iteration = 1
        while True:
            index = (~done & problem.affordable(cost=3)).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            iteration += 1
            gradient = self.estimate(problem, best[index], index, radius)
            gradient = gradient / per_sample(flat(gradient).norm(dim=1).clamp_min(1e-12), gradient)
            velocity[index] = p.momentum * velocity[index] + (1 - p.momentum) * gradient
            narrower = (radius[index] - shrink[index]).clamp_min(p.eps)
            step = best[index] - p.step_size * velocity[index].sign()
            candidate = self.project(problem, step, index, narrower)
            new = problem.ask(candidate, index)
            kept = (radius[index] <= p.eps) | (new.labels == problem.goal[index].unsqueeze(1)).any(dim=1)
            rows = index[kept]
            best[rows], radius[rows] = candidate[kept], narrower[kept]
            shrink[index[~kept]] /= 2
            answer = answer.replace(rows, new.rows(kept))
            loss = self.loss(problem, answer, radius)
            done = problem.reached(answer) & (radius <= p.eps)
            yield problem.step(iteration, planned, best, answer, loss, done)
        return self.project(problem, best, torch.arange(n), radius.clamp(max=p.eps))

    def partial_start(self, problem: BlackBoxProblem, clean: Answer) -> tuple[torch.Tensor, Answer, torch.Tensor]:
        """Start points labelled as the target, and the L∞ radius (inside the mask) that holds them."""
        points, seen, found = starting_points(problem, clean, _START_TRIES)
        radius = flat(points - problem.x).abs().amax(dim=1)
        return points, seen, torch.where(found, radius.clamp_min(self.params.eps), self.params.eps)

    def loss(self, problem: BlackBoxProblem, answer: Answer, radius: torch.Tensor, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """The margin loss; in the shrinking phase of partial information, −log p_target."""
        margin = problem.margin(answer, index)
        if not problem.targeted:
            return margin
        target_confidence = answer.visible(problem.num_classes).gather(1, problem.goal[index].unsqueeze(1)).squeeze(1)
        shrinking = radius[index] > self.params.eps
        return torch.where(shrinking, -target_confidence.clamp_min(1e-30).log(), margin)

    def estimate(self, problem: BlackBoxProblem, center: torch.Tensor, index: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
        """A multiple of the NES estimate of the loss gradient at ``center`` for the images at
        ``index``, from as many sample pairs as each image's budget allows (keeping 1 query for
        the step)."""
        p = self.params
        pairs = ((problem.limit - problem.spent(index) - 1) // 2).clamp(0, p.samples)
        used = torch.arange(p.samples).unsqueeze(0) < pairs.unsqueeze(1)
        noise = torch.randn(index.numel(), p.samples, *center.shape[1:], generator=problem.generator)
        noise = noise * problem.mask[index].unsqueeze(1)
        around = center.unsqueeze(1).expand_as(noise)
        owners = index.unsqueeze(1).expand_as(used)[used].repeat(2)
        rows = torch.cat([(around + p.sigma * noise)[used], (around - p.sigma * noise)[used]])
        answer = problem.ask(problem.restrict(rows, owners), owners)
        losses = self.loss(problem, answer, radius, owners)
        difference = torch.zeros(used.shape)
        difference[used] = losses[: owners.numel() // 2] - losses[owners.numel() // 2:]
        return (difference.view(*difference.shape, 1, 1, 1) * noise).sum(dim=1)

    def project(self, problem: BlackBoxProblem, x_adv: torch.Tensor, index: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
        """``x_adv`` inside the L∞ ball of ``radius`` (per image) around ``x``, the mask and [0, 1]."""
        bound = per_sample(radius, x_adv)
        x = problem.x[index]
        return problem.restrict(torch.maximum(torch.minimum(x_adv, x + bound), x - bound), index)

"""Jacobian-based saliency map attack, JSMA (Papernot, McDaniel, Jha, Fredrikson, Celik and
Swami, "The Limitations of Deep Learning in Adversarial Settings", IEEE EuroS&P 2016).

A targeted L0 attack: it changes few pixels, each by a lot. Each iteration takes the forward
derivative of the model's outputs F and scores every *pair* of features p ≠ q with the
saliency map (section III.B, Algorithm 3)::

    α = ∂F_t/∂x_p + ∂F_t/∂x_q            how much the pair raises the target's output
    β = Σ_{j≠t} (∂F_j/∂x_p + ∂F_j/∂x_q)   how much it raises all other outputs
    S(p, q) = −α·β   if α > 0 and β < 0 (θ > 0; α < 0 and β > 0 when θ < 0), else ineligible

and moves the best pair by θ (θ = +1 turns both pixels fully white, −1 fully black). A feature
leaves the search domain once it reaches the end of [0, 1] that θ pushes it to. An image stops
as soon as it meets the goal, when the next pair would take it past γ·D changed features
(D = C·H·W), or when no pair is eligible any more.

F is a choice. The paper differentiates the logits (JSMA-Z in the naming of Carlini and
Wagner, "Towards Evaluating the Robustness of Neural Networks", IEEE S&P 2017); the default
here is the softmax probabilities (JSMA-F), which on ``fashion-cnn`` reaches the target about
twice as often with fewer pixels (tests/bench/test_jsma_reference.py). As the probabilities
sum to 1, β = −α for them, and the rule picks the pair that raises the target's probability
most.

Untargeted mode (no target given): each image is pushed towards the most likely class other
than its true one — the second most likely for an image the model gets right — and stops at
the first misclassification, whichever class it is.

Only features inside the mask are in the search domain. The pair scores are the outer sums
α_p + α_q of two N×D gradients, built block by block over the rows so memory stays bounded;
their cost grows with D², so JSMA suits small images such as 28×28.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.registry import ATTACKS
from workbench.core.errors import ParameterError
from workbench.core.norms import flat
from workbench.core.params import param

_BLOCK_ELEMENTS = 1 << 18  # pair scores held at once (N × rows × columns), cache-sized


def target_and_other_gradients(
    problem: Problem, x: torch.Tensor, target: torch.Tensor, derivative: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits, ∂F_t/∂x, Σ_{j≠t} ∂F_j/∂x) at ``x``, the two flattened N×D rows of the Jacobian
    the saliency map needs; F is the softmax (``derivative="probabilities"``) or the logits."""
    with torch.enable_grad():
        x_var = x.detach().requires_grad_(True)
        logits = problem.model(x_var)
        outputs = logits.float().softmax(dim=1) if derivative == "probabilities" else logits.float()
        (towards_target,) = torch.autograd.grad(outputs.gather(1, target[:, None]).sum(), x_var, retain_graph=True)
        (towards_others,) = torch.autograd.grad(outputs.scatter(1, target[:, None], 0.0).sum(), x_var)
    return logits.detach(), flat(towards_target), flat(towards_others)


def most_salient_pairs(
    alpha: torch.Tensor, beta: torch.Tensor, domain: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each row of the N×D feature gradients ``alpha`` (towards the target) and ``beta``
    (towards the other classes), the pair p < q inside ``domain`` (N×D bool) that maximizes
    −(α_p+α_q)(β_p+β_q) subject to α_p+α_q > 0 and β_p+β_q < 0.

    The score is computed as relu(α_p+α_q)·(−β_p−β_q): positive exactly for the eligible pairs,
    where it is that product. Rows of the upper triangle are scored a block at a time.
    Returns (p, q, found); where no pair is eligible, ``found`` is False."""
    n, d = alpha.shape
    towards = alpha.masked_fill(~domain, float("-inf"))  # a pair with a feature outside scores 0
    against = -beta
    best = torch.zeros(n, device=alpha.device)
    p = torch.zeros(n, dtype=torch.long, device=alpha.device)
    q = torch.zeros(n, dtype=torch.long, device=alpha.device)
    start = 0
    while start < d:
        width = d - start  # the columns q ≥ start
        stop = min(d, start + max(1, _BLOCK_ELEMENTS // (n * width)))
        score = (towards[:, start:stop, None] + towards[:, None, start:]).clamp_(min=0)
        score.mul_(against[:, start:stop, None] + against[:, None, start:])
        lower = torch.ones(stop - start, width, dtype=torch.bool, device=alpha.device).tril()
        score.masked_fill_(lower, 0.0)  # keep q > p
        value, index = flat(score).max(dim=1)
        better = value > best
        best = torch.where(better, value, best)
        p = torch.where(better, start + index // width, p)
        q = torch.where(better, start + index % width, q)
        start = stop
    return p, q, best > 0


def most_likely_other_class(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The most likely class other than ``y`` for each sample."""
    return logits.scatter(1, y[:, None], float("-inf")).argmax(dim=1)


@dataclass(frozen=True)
class JSMAParams:
    theta: float = param(1.0, title="θ (change per pixel)", description="Added to each chosen pixel: +1 turns it white (increase), −1 black (decrease); smaller magnitudes move it in steps and it may be chosen again until it reaches the bound", unit="pixel value", low=-1.0, high=1.0)
    derivative: str = param("probabilities", title="Derivative of", description="The model output whose Jacobian ranks the pixels: the softmax probabilities (JSMA-F) or the logits (JSMA-Z, as in the paper)", choices=("probabilities", "logits"))
    gamma: float = param(0.1, title="γ (most pixels changed)", description="Largest fraction of the image's features (pixels × channels) the attack may change", unit="fraction", low=0.0, high=1.0)


@ATTACKS.register
class JSMA(Attack):
    id = "jsma"
    title = "JSMA"
    summary = "Changes the pixel pair the saliency map ranks highest, pair after pair, until the target class wins (untargeted: aims at the runner-up) (L0)."
    paper = "Papernot et al., The Limitations of Deep Learning in Adversarial Settings, IEEE EuroS&P 2016"
    norm = "l0"
    Params = JSMAParams

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        if self.params.theta == 0:
            raise ParameterError("parameter 'theta': must not be 0 (+ increases pixels, − decreases them)")

    def iterate(self, problem: Problem):
        theta = self.params.theta
        x = problem.x
        n, d = x.shape[0], x[0].numel()
        budget = int(self.params.gamma * d)
        target = problem.target if problem.targeted else most_likely_other_class(problem.logits(x), problem.y)
        bound = 1.0 if theta > 0 else 0.0
        domain = flat(problem.mask.expand_as(x) > 0) & (flat(x) != bound)
        # Ascend (α, β) for θ > 0 and (−α, −β) for θ < 0: the same eligibility rule then holds.
        direction = 1.0 if theta > 0 else -1.0
        total = math.ceil(budget * math.ceil(1 / abs(theta)) / 2) + 1
        x_adv = x.clone()
        done = torch.zeros(n, dtype=torch.bool, device=x.device)
        success = torch.zeros(n, dtype=torch.bool, device=x.device)
        logits_all = torch.zeros(n, problem.model.num_classes, device=x.device)
        loss_all = torch.zeros(n, device=x.device)
        for iteration in range(1, total + 1):
            index = (~done).nonzero().squeeze(1)
            if index.numel() == 0:  # the last images ran out of eligible pairs
                break
            logits, alpha, beta = target_and_other_gradients(problem, x_adv[index], target[index], self.params.derivative)
            logits_all[index], loss_all[index] = logits, problem.loss(logits, index)
            success[index] = problem.is_success(logits, index)
            changed = flat(x_adv[index] != x[index]).sum(dim=1)
            going_on = ~success[index] & (changed + 2 <= budget) & (domain[index].sum(dim=1) >= 2)
            yield step_event(problem, iteration, total, x_adv, logits_all, loss_all, success)
            done[index[~going_on]] = True
            index, alpha, beta = index[going_on], alpha[going_on], beta[going_on]
            if index.numel() == 0 or iteration == total:
                break
            p, q, found = most_salient_pairs(direction * alpha, direction * beta, domain[index])
            done[index[~found]] = True
            index, p, q = index[found], p[found], q[found]
            moved = flat(x_adv).clone()
            for feature in (p, q):
                moved[index, feature] = (moved[index, feature] + theta).clamp(0.0, 1.0)
            x_adv = moved.view_as(x)
            domain[index] &= moved[index] != bound
        return x_adv

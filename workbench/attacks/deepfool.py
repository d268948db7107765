"""DeepFool (Moosavi-Dezfooli, Fawzi and Frossard, "DeepFool: a simple and accurate method to
fool deep neural networks", CVPR 2016), in L2 and L∞: a minimal perturbation by repeated
linearization of the decision boundaries.

At each step the boundary between the true class y and each candidate class k is linearized,
``f_k = z_k − z_y`` with gradient ``w_k = ∇f_k``, and the image moves onto the nearest of these
hyperplanes — the k minimizing ``|f_k| / ‖w_k‖_q`` with q the dual norm (2 for L2, 1 for L∞) —
by ``r = (|f_k| + 10⁻⁴)·w_k/‖w_k‖₂²`` (L2) or ``(|f_k| + 10⁻⁴)·sign(w_k)/‖w_k‖₁`` (L∞). The
steps add up to ``r_total`` and the image is ``x + (1 + overshoot)·r_total``, clipped to
[0, 1], until it is misclassified. ``r_total`` keeps only what the clipping let through, so
that a step the box cut short is not counted as taken (otherwise pixels pushed past 0 or 1
hold a reserve that later steps must first use up, and the iteration crawls). The candidates
are the most likely other classes on the clean image. A targeted attack linearizes only the boundary between the target and the
currently strongest other class. Gradients are projected onto the mask, so the steps change
only pixels inside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.blackbox import per_sample
from workbench.attacks.losses import goal_margin, ranked_others
from workbench.attacks.registry import ATTACKS
from workbench.core.norms import flat
from workbench.core.params import param

_SLACK = 1e-4  # added to |f_k|, as in the paper's code, so that a step crosses the hyperplane
_TINY = 1e-12


@dataclass(frozen=True)
class DeepFoolParams:
    steps: int = param(50, title="Steps", description="Largest number of linearization steps", low=1, high=10000)
    overshoot: float = param(0.02, title="Overshoot", description="Relative amount by which the summed step goes past the linearized boundary", low=0.0, high=10.0)
    candidates: int = param(9, title="Candidate classes", description="Untargeted: how many of the most likely other classes (on the clean image) are linearized at each step", low=1, high=1000)


class DeepFoolAttack(Attack):
    """DeepFool in the norm given by :meth:`step`."""

    Params = DeepFoolParams
    dual_order: ClassVar[float]  # q of the dual norm that measures the distance to a hyperplane

    @staticmethod
    def step(size: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The step of length ``size`` (in the attack's norm) onto the hyperplane of normal ``w``."""
        raise NotImplementedError

    def iterate(self, problem: Problem):
        p = self.params
        x, mask = problem.x, problem.mask
        n = x.shape[0]
        candidates = None if problem.targeted else ranked_others(problem.logits(x), problem.y, p.candidates)
        x_adv, r_total = x.clone(), torch.zeros_like(x)
        done = torch.zeros(n, dtype=torch.bool, device=x.device)
        logits_all = torch.zeros(n, problem.model.num_classes, device=x.device)
        loss_all = torch.zeros(n, device=x.device)
        for iteration in range(1, p.steps + 1):
            index = (~done).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            with torch.enable_grad():
                x_var = x_adv[index].requires_grad_(True)
                logits = problem.model(x_var)
                towards, away = self.boundaries(problem, logits.detach(), index, candidates)
                differences = logits.gather(1, towards) - logits.gather(1, away)
                gradients = torch.stack([
                    torch.autograd.grad(differences[:, j].sum(), x_var, retain_graph=j + 1 < differences.shape[1])[0]
                    for j in range(differences.shape[1])
                ], dim=1)
            logits = logits.detach()
            logits_all[index] = logits
            loss_all[index] = -goal_margin(logits, problem.goal[index], problem.targeted)
            reached = problem.is_success(logits, index)
            done[index] = reached
            yield step_event(problem, iteration, p.steps, x_adv, logits_all, loss_all, done)
            moving = ~reached
            index = index[moving]
            if index.numel():
                f = differences.detach()[moving].abs()
                w = gradients[moving] * mask[index].unsqueeze(1)
                dual = w.flatten(2).norm(p=self.dual_order, dim=2) + _TINY
                nearest = (f / dual).argmin(dim=1)
                rows = torch.arange(index.numel(), device=x.device)
                size = (f[rows, nearest] + _SLACK) / dual[rows, nearest]
                scaled = (1 + p.overshoot) * (r_total[index] + self.step(size, w[rows, nearest]))
                x_adv[index] = problem.restrict(x[index] + scaled, index)
                r_total[index] = (x_adv[index] - x[index]) / (1 + p.overshoot)
        return x_adv

    @staticmethod
    def boundaries(
        problem: Problem, logits: torch.Tensor, index: torch.Tensor, candidates: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """For the samples at ``index``, the classes (M×k) whose logits the step raises and
        lowers: each candidate against the true class, or the target against the strongest
        other class."""
        if candidates is None:
            target = problem.target[index]
            return target.unsqueeze(1), ranked_others(logits, target, 1)
        towards = candidates[index]
        return towards, problem.y[index].unsqueeze(1).expand_as(towards)


@ATTACKS.register
class DeepFool(DeepFoolAttack):
    id = "deepfool"
    title = "DeepFool (L2)"
    summary = "Steps onto the nearest linearized decision boundary until the label changes; minimal L2."
    paper = "Moosavi-Dezfooli, Fawzi and Frossard, DeepFool: a simple and accurate method to fool deep neural networks, CVPR 2016"
    norm = "l2"
    dual_order = 2.0

    @staticmethod
    def step(size: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return per_sample(size / (flat(w).norm(dim=1) + _TINY), w) * w


@ATTACKS.register
class DeepFoolLinf(DeepFoolAttack):
    id = "deepfool-linf"
    title = "DeepFool (L∞)"
    summary = "Signed steps onto the nearest linearized decision boundary until the label changes; minimal L∞."
    paper = DeepFool.paper
    norm = "linf"
    dual_order = 1.0

    @staticmethod
    def step(size: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return per_sample(size, w) * w.sign()

"""The lecture's toy example: a greedy pixel search in two variants that spend the same idea —
follow the loss gradient, one step at a time — on opposite budgets.

- **Sparse** (``greedy-sparse``, L0): few pixels, each changed as much as possible. Each step
  picks the one pixel, and the extreme colour to paint it (black or white for grey images, a
  corner of the RGB cube for colour ones), that raises the loss most, and paints it. The
  gradient proposes: to first order, painting pixel i with colour v changes the loss by
  Σ_c ∂loss/∂x_ci · (v_c − x_ci). A forward pass decides: the ``candidates`` best proposals are
  tried exactly and the best one is kept. Each step changes one new pixel, so after k steps
  the L0 distance is k. In the spirit of JSMA (Papernot et al., "The Limitations of Deep
  Learning in Adversarial Settings", EuroS&P 2016), one pixel at a time.
- **Dense** (``greedy-dense``, L∞): every pixel, each changed a little. Each step moves all
  pixels by α along the sign of the gradient and clips to ±ε around the image: the basic
  iterative method (Kurakin, Goodfellow and Bengio, "Adversarial Examples in the Physical
  World", ICLR workshop 2017), FGSM (Goodfellow et al., ICLR 2015) taken in small steps.

Side by side they show the two faces of adversarial examples: a handful of pixels changed
completely, or hundreds changed invisibly. Both only touch pixels inside the mask, stop each
image once it meets the goal (misclassified, or classified as the target) and are
deterministic.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from workbench.attacks.balls import LinfBall
from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.pgd import projected_gradient_ascent
from workbench.attacks.registry import ATTACKS
from workbench.core.params import param


def extreme_colours(channels: int, device: torch.device) -> torch.Tensor:
    """The 2^C corners of the colour cube (O×C): black and white for one channel."""
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=channels)), device=device)


def estimated_gains(x: torch.Tensor, grad: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """First-order change of the loss (N×O×P) from painting each of the P = H·W pixels of ``x``
    with each of the O ``colours``: Σ_c ∂loss/∂x_c · (colour_c − x_c)."""
    n, c = x.shape[:2]
    grad, x = grad.reshape(n, c, -1), x.reshape(n, c, -1)
    return torch.einsum("oc,ncp->nop", colours, grad) - (grad * x).sum(dim=1, keepdim=True)


def paint(x: torch.Tensor, pixels: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` (N×C×H×W) with pixel ``pixels[i]`` (flat index) of image i set to
    ``colours[i]`` (N×C)."""
    n, c, h, w = x.shape
    painted = x.reshape(n, c, h * w).clone()
    painted[torch.arange(n, device=x.device), :, pixels] = colours
    return painted.view(n, c, h, w)


def best_paintings(
    problem: Problem,
    x: torch.Tensor,
    index: torch.Tensor,
    grad: torch.Tensor,
    paintable: torch.Tensor,
    colours: torch.Tensor,
    candidates: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For the images ``x`` (the problem's samples at ``index``, with loss gradient ``grad``):
    the pixel and colour whose painting raises the loss most, among the ``candidates`` best
    by the gradient's estimate, each tried with a forward pass. Only ``paintable`` pixels
    (N×1×P) that the colour would change are proposed.

    Returns (pixel indices N, colours N×C, found N); ``found`` is False where no pixel is left."""
    n, c, h, w = x.shape
    gains = estimated_gains(x, grad, colours)
    changes = (colours.view(1, -1, c, 1) != x.reshape(n, 1, c, h * w)).any(dim=2)
    gains = gains.masked_fill(~(changes & paintable), float("-inf"))
    proposed, options = gains.flatten(1).topk(min(candidates, gains.shape[1] * gains.shape[2]), dim=1)
    k = options.shape[1]
    tried_index = index.repeat_interleave(k)
    tried = paint(x.repeat_interleave(k, dim=0), options.flatten() % (h * w), colours[options.flatten() // (h * w)])
    exact = problem.loss(problem.logits(tried), tried_index).view(n, k)
    exact = exact.masked_fill(proposed == float("-inf"), float("-inf"))
    chosen = options.gather(1, exact.argmax(dim=1, keepdim=True)).squeeze(1)
    return chosen % (h * w), colours[chosen // (h * w)], proposed[:, 0] > float("-inf")


@dataclass(frozen=True)
class GreedySparseParams:
    max_pixels: int = param(20, title="Most pixels changed", description="Steps at most; each step changes one more pixel (the L0 budget)", unit="pixels", low=1, high=100000)
    candidates: int = param(10, title="Candidates tried", description="The best pixels by the gradient's estimate that are tried exactly at each step; 1 trusts the gradient alone", low=1, high=1000)


@ATTACKS.register
class GreedySparse(Attack):
    """Sparse greedy pixel search: one pixel per step, painted black or white (L0)."""

    id = "greedy-sparse"
    title = "Greedy pixels (sparse)"
    summary = "Few pixels, big changes: paints one pixel per step black or white, the one that raises the loss most (L0)."
    paper = "Lecture toy example; in the spirit of Papernot et al., The Limitations of Deep Learning in Adversarial Settings, IEEE EuroS&P 2016"
    norm = "l0"
    Params = GreedySparseParams

    def iterate(self, problem: Problem):
        x, mask = problem.x, problem.mask
        n, c, h, w = x.shape
        colours = extreme_colours(c, x.device)
        steps = self.params.max_pixels
        x_adv = x.clone()
        paintable = mask.reshape(n, 1, h * w) > 0  # pixels that may still be painted
        done = torch.zeros(n, dtype=torch.bool, device=x.device)
        success = torch.zeros(n, dtype=torch.bool, device=x.device)
        logits_all = torch.zeros(n, problem.model.num_classes, device=x.device)
        loss_all = torch.zeros(n, device=x.device)
        for iteration in range(1, steps + 2):
            index = (~done).nonzero().squeeze(1)
            if index.numel() == 0:
                break
            logits, loss, grad = problem.loss_and_gradient(x_adv[index], index)
            logits_all[index], loss_all[index] = logits, loss
            reached = problem.is_success(logits, index)
            success[index] = reached
            yield step_event(problem, iteration, steps + 1, x_adv, logits_all, loss_all, success)
            done[index[reached]] = True
            index, grad = index[~reached], grad[~reached]
            if iteration > steps or index.numel() == 0:
                break
            pixels, painted, found = best_paintings(
                problem, x_adv[index], index, grad, paintable[index], colours, self.params.candidates
            )
            done[index[~found]] = True  # nothing left to paint
            index, pixels, painted = index[found], pixels[found], painted[found]
            x_adv[index] = problem.restrict(paint(x_adv[index], pixels, painted), index)
            paintable[index, 0, pixels] = False
        return x_adv


@dataclass(frozen=True)
class GreedyDenseParams:
    eps: float = param(0.1, title="ε (L∞ budget)", description="Largest change of any pixel value", unit="pixel value", low=0.0, high=1.0)
    step_size: float = param(0.01, title="Step size α", description="Change of every pixel per step", unit="pixel value", low=0.0, high=1.0)
    steps: int = param(20, title="Steps", description="Number of steps", low=1, high=10000)


@ATTACKS.register
class GreedyDense(Attack):
    """Dense greedy search: every pixel moves a little per step, within ±ε (L∞)."""

    id = "greedy-dense"
    title = "Greedy pixels (dense)"
    summary = "Many tiny changes: moves every pixel by α along the gradient's sign per step, within ±ε (L∞)."
    paper = "Lecture toy example; Kurakin, Goodfellow and Bengio, Adversarial Examples in the Physical World, ICLR workshop 2017"
    norm = "linf"
    Params = GreedyDenseParams

    def iterate(self, problem: Problem):
        p = self.params
        return (
            yield from projected_gradient_ascent(
                problem, LinfBall(p.eps), step_size=p.step_size, steps=p.steps, random_start=False, early_stop=True
            )
        )

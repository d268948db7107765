"""Norm balls for gradient attacks: steepest-ascent direction, projection and random start.

The steepest ascent under an L∞ constraint is the sign of the gradient; under L2, the
gradient scaled to unit norm (Madry et al., "Towards Deep Learning Models Resistant to
Adversarial Attacks", ICLR 2018, section 2).
"""
from __future__ import annotations

import torch

from workbench.core.norms import flat

_TINY = 1e-12


class LinfBall:
    norm = "linf"

    def __init__(self, eps: float) -> None:
        self.eps = eps

    def ascent(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()

    def project(self, delta: torch.Tensor) -> torch.Tensor:
        return delta.clamp(-self.eps, self.eps)

    def random(self, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Uniform in the ball."""
        noise = torch.rand(like.shape, generator=generator, dtype=torch.float32)
        return ((noise * 2 - 1) * self.eps).to(like.device)


class L2Ball:
    norm = "l2"

    def __init__(self, eps: float) -> None:
        self.eps = eps

    def ascent(self, grad: torch.Tensor) -> torch.Tensor:
        norms = flat(grad).norm(dim=1).clamp_min(_TINY)
        return grad / norms.view(-1, *([1] * (grad.dim() - 1)))

    def project(self, delta: torch.Tensor) -> torch.Tensor:
        norms = flat(delta).norm(dim=1)
        factor = (self.eps / norms.clamp_min(_TINY)).clamp(max=1.0)
        return delta * factor.view(-1, *([1] * (delta.dim() - 1)))

    def random(self, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Uniform in the ball: a Gaussian direction with radius eps·u^(1/d)."""
        direction = torch.randn(like.shape, generator=generator, dtype=torch.float32)
        direction = self.ascent(direction)
        d = direction[0].numel()
        radius = torch.rand(like.shape[0], generator=generator) ** (1.0 / d) * self.eps
        return (direction * radius.view(-1, *([1] * (like.dim() - 1)))).to(like.device)

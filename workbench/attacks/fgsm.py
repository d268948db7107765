"""Fast gradient sign method (Goodfellow, Shlens and Szegedy, "Explaining and Harnessing
Adversarial Examples", ICLR 2015): one signed-gradient step of size ε."""
from __future__ import annotations

from dataclasses import dataclass

from workbench.attacks.balls import LinfBall
from workbench.attacks.base import Attack, Problem
from workbench.attacks.pgd import projected_gradient_ascent
from workbench.attacks.registry import ATTACKS
from workbench.core.params import param


@dataclass(frozen=True)
class FGSMParams:
    eps: float = param(0.03, title="ε (L∞ budget)", description="Size of the single signed-gradient step", unit="pixel value", low=0.0, high=1.0)


@ATTACKS.register
class FGSM(Attack):
    id = "fgsm"
    title = "FGSM"
    summary = "One step of size ε along the sign of the loss gradient."
    paper = "Goodfellow, Shlens and Szegedy, Explaining and Harnessing Adversarial Examples, ICLR 2015"
    norm = "linf"
    Params = FGSMParams

    def iterate(self, problem: Problem):
        eps = self.params.eps
        return (
            yield from projected_gradient_ascent(
                problem, LinfBall(eps), step_size=eps, steps=1, random_start=False, early_stop=False
            )
        )

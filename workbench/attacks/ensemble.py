"""An AutoAttack-style ensemble (Croce and Hein, "Reliable evaluation of adversarial robustness
with an ensemble of diverse parameter-free attacks", ICML 2020, section 5) in L∞.

Three diverse attacks run in turn, each only on the images that the earlier ones left robust,
so every image ends at its first adversarial point (the worst case over the ensemble):

1. APGD with the cross-entropy loss;
2. APGD-T: APGD with the targeted DLR loss towards each of the most likely other classes in
   turn (towards the target alone in a targeted attack);
3. the score-based Square attack, through an :class:`~workbench.core.oracle.Oracle` over the
   same model — it needs no gradients, so it catches gradient masking.

The sub-attacks' steps are this attack's events, numbered on across the stages.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from workbench.attacks.apgd import auto_pgd, cross_entropy_loss, eps_param, steps_param, targeted_runs
from workbench.attacks.balls import LinfBall
from workbench.attacks.base import Attack, Problem
from workbench.attacks.registry import ATTACKS
from workbench.attacks.square import Square
from workbench.core.events import AttackResult, AttackStep
from workbench.core.oracle import Oracle
from workbench.core.params import param


@dataclass(frozen=True)
class EnsembleParams:
    eps: float = eps_param(0.03, "linf")
    steps: int = steps_param()
    targets: int = param(9, title="APGD-T target classes", description="How many of the most likely other classes APGD-T attacks in turn (untargeted)", low=1, high=1000)
    square_queries: int = param(5000, title="Square queries", description="Queries per image for the Square attack on the images still robust; 0 = no Square stage", unit="queries", low=0, high=10**7)


@ATTACKS.register
class AutoAttackEnsemble(Attack):
    id = "autoattack"
    title = "AutoAttack-style ensemble (L∞)"
    summary = "APGD-CE, then APGD-T, then Square on what is left; keeps each image's first adversarial."
    paper = "Croce and Hein, Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks, ICML 2020"
    norm = "linf"
    Params = EnsembleParams

    def iterate(self, problem: Problem):
        p = self.params
        losses = [cross_entropy_loss(problem), *targeted_runs(problem, p.targets)]
        total = len(losses) * p.steps + p.square_queries
        steps = auto_pgd(problem, LinfBall(p.eps), losses, steps=p.steps)
        last = None
        while True:
            try:
                last = next(steps)
            except StopIteration as stop:
                x_adv = stop.value
                break
            yield dataclasses.replace(last, total=total)
        robust = (~problem.is_success(problem.logits(x_adv))).nonzero().squeeze(1)
        if p.square_queries and robust.numel():
            x_adv = yield from self._square(problem, x_adv, robust, last, total)
        return x_adv

    def _square(self, problem: Problem, x_adv: torch.Tensor, robust: torch.Tensor, last: AttackStep, total: int):
        """Square on the images at ``robust``; yields whole-batch steps numbered on from
        ``last`` (the APGD stages' last step); returns the batch."""
        device = x_adv.device
        shown, rows = x_adv.cpu().clone(), robust.cpu()
        probs, loss, success = last.probs.clone(), last.loss.clone(), last.success.clone()
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=problem.generator))
        attack = Square(eps=self.params.eps, max_queries=self.params.square_queries)
        events = attack.run(
            Oracle(problem.model), problem.x[robust].cpu(), problem.y[robust].cpu(),
            mask=problem.mask[robust].cpu(),
            target=None if problem.target is None else problem.target[robust].cpu(), seed=seed,
        )
        try:
            for event in events:
                shown[rows] = event.x_adv
                if isinstance(event, AttackResult):
                    break
                probs[rows], loss[rows], success[rows] = event.probs, event.loss, event.success
                yield AttackStep(
                    iteration=last.iteration + event.iteration, total=total, x_adv=shown.clone(),
                    probs=probs.clone(), loss=loss.clone(), success=success.clone(), queries=event.queries,
                )
        finally:
            events.close()
        return shown.to(device)

"""Warnings about an evaluation that may overstate robustness, after Carlini et al., "On
Evaluating Adversarial Robustness" (arXiv 1902.06705, 2019), section 5 and appendix checklist.

Each check takes what an evaluation already measured and returns a sentence for the user, or
None. They are shown wherever robustness results appear (the CLI, the Defenses lab).
"""
from __future__ import annotations

from workbench.defenses.base import Adaptive, DefendedModel

# Accuracy points by which a black-box attack must beat the white-box one to raise the alarm.
BLACKBOX_MARGIN = 0.02
# Robust accuracy that an unbounded-looking attack should get below.
LARGE_EPS_CEILING = 0.05


def randomness_without_eot(model: DefendedModel, adaptive: Adaptive) -> str | None:
    if model.randomized and adaptive.eot == 1:
        return ("The defense is randomized but the attack used no EOT: its gradients follow one random "
                "draw. Re-run with EOT (Athalye et al. 2018) before trusting this robust accuracy.")
    return None


def obfuscation_without_bpda(model: DefendedModel, adaptive: Adaptive) -> str | None:
    if model.obfuscated and not adaptive.bpda:
        return ("A defense step gives no useful gradient, and the attack did not use BPDA: a plain "
                "gradient attack is expected to fail here. Re-run with BPDA before trusting it.")
    return None


def blackbox_beats_whitebox(white_box_robust: float | None, black_box_robust: float | None) -> str | None:
    if white_box_robust is None or black_box_robust is None:
        return None
    if black_box_robust < white_box_robust - BLACKBOX_MARGIN:
        return (f"A black-box attack ({black_box_robust:.0%} robust accuracy) beat the white-box one "
                f"({white_box_robust:.0%}): the gradients are likely masked, so the white-box result is "
                "not an upper bound.")
    return None


def large_eps_not_broken(robust_at_large_eps: float | None, eps: float) -> str | None:
    if robust_at_large_eps is not None and robust_at_large_eps > LARGE_EPS_CEILING:
        return (f"At ε = {eps:g}, far beyond any meaningful budget, robust accuracy is still "
                f"{robust_at_large_eps:.0%} instead of about 0: the attack is not working properly.")
    return None


def attack_warnings(model: DefendedModel, adaptive: Adaptive) -> list[str]:
    """The warnings that follow from how a defended model was attacked."""
    return [w for w in (randomness_without_eot(model, adaptive), obfuscation_without_bpda(model, adaptive)) if w]

"""Warnings about an evaluation that may overstate robustness, after Carlini et al., "On
Evaluating Adversarial Robustness" (arXiv 1902.06705, 2019), section 5 and appendix checklist.

Each check takes what an evaluation already measured and returns a sentence for the user, or
None. They are shown wherever robustness results appear (the CLI, the Defenses lab).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from workbench.defenses.base import Adaptive, DefendedModel

# Accuracy points by which a black-box attack must beat the white-box one to raise the alarm, and
# the fewest images that must make the difference (one image more or less is chance, above all
# under a randomized defense).
BLACKBOX_MARGIN = 0.02
BLACKBOX_MIN_IMAGES = 2
# Robust accuracy that an unbounded-looking attack should get below.
LARGE_EPS_CEILING = 0.05
# "A very large ε" for that sanity check: an L∞ budget of half the pixel range (every image can
# be turned into flat grey), or the L2 ball around that L∞ ball.
LARGE_LINF = 0.5


def large_eps(attack: Any, input_shape: Sequence[int]) -> float | None:
    """``attack``'s ε if it is "very large" (see :data:`LARGE_LINF`) for inputs of
    ``input_shape`` (C, H, W), else None."""
    eps = getattr(getattr(attack, "params", None), "eps", None)
    if not isinstance(eps, (int, float)):
        return None
    limit = LARGE_LINF if attack.norm == "linf" else LARGE_LINF * math.sqrt(math.prod(input_shape))
    return float(eps) if eps >= limit else None


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


def blackbox_beats_whitebox(white_box_robust: float | None, black_box_robust: float | None,
                            images: int = 0) -> str | None:
    """The alarm when a black-box attack leaves less robust accuracy than the white-box one
    (Carlini et al. 2019: a white-box attack that knows the gradients must do at least as well;
    when it does not, the gradients are masked). The black-box attack must win by
    :data:`BLACKBOX_MARGIN` and, where the number of labelled ``images`` is given, by at least
    :data:`BLACKBOX_MIN_IMAGES` of them."""
    if white_box_robust is None or black_box_robust is None:
        return None
    margin = max(BLACKBOX_MARGIN, BLACKBOX_MIN_IMAGES / images if images > 0 else 0.0)
    if black_box_robust < white_box_robust - margin + 1e-9:
        return (f"Without any gradient, a black-box attack did better ({black_box_robust:.0%} against "
                f"{white_box_robust:.0%} robust accuracy): the gradients are masked, so this result "
                "overstates the defense.")
    return None


def large_eps_not_broken(robust_at_large_eps: float | None, eps: float) -> str | None:
    if robust_at_large_eps is not None and robust_at_large_eps > LARGE_EPS_CEILING:
        return (f"At ε = {eps:g}, far beyond any meaningful budget, robust accuracy is still "
                f"{robust_at_large_eps:.0%} instead of about 0: the attack is not working properly.")
    return None


def attack_warnings(model: DefendedModel, adaptive: Adaptive) -> list[str]:
    """The warnings that follow from how a defended model was attacked."""
    return [w for w in (randomness_without_eot(model, adaptive), obfuscation_without_bpda(model, adaptive)) if w]


def comparison_warnings(
    defended: DefendedModel,
    adaptive: Adaptive,
    robust: dict[str, float | None],
    *,
    large_eps: float | None = None,
    images: int = 0,
) -> dict[str, list[str]]:
    """The warnings of each finished stage of a comparison
    (:func:`~workbench.defenses.evaluation.compare_defense`), from the robust accuracies measured
    so far by stage: how the naive and the adaptive attacks differentiated ``defended``, whether
    the black-box stage beat them (on ``images`` labelled images), and, where the ε was
    ``large_eps`` ("very large"), whether robust accuracy stayed above about 0."""
    black_box = robust.get("black-box")
    warnings = {}
    for stage, value in robust.items():
        found = []
        if stage in ("naive", "adaptive"):
            found += attack_warnings(defended, adaptive if stage == "adaptive" else Adaptive())
            found.append(blackbox_beats_whitebox(value, black_box, images))
        if large_eps is not None:
            found.append(large_eps_not_broken(value, large_eps))
        warnings[stage] = [w for w in found if w]
    return warnings

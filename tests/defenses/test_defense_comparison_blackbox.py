"""The comparison's black-box stage: Square (Andriushchenko et al. 2020), by queries alone, breaks
a defense that only masks gradients where naive PGD fails, and that raises the warning of
Carlini et al. (2019) on the white-box result it beats."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS
from workbench.core.errors import WorkbenchError
from workbench.defenses import DEFENSES, Adaptive, DefendedModel
from workbench.defenses.evaluation import (
    COMPARISON_STAGES,
    DefenseEvaluation,
    StageEvent,
    adaptive_for,
    black_box_counterpart,
    compare_defense,
)
from workbench.defenses.evaluation_warnings import (
    blackbox_beats_whitebox,
    comparison_warnings,
)

PGD = {"eps": 0.1, "steps": 5}


def _results(events) -> tuple[list[str], dict[str, DefenseEvaluation]]:
    order, results = [], {}
    for event in events:
        assert isinstance(event, StageEvent)
        if not order or order[-1] != event.stage:
            order.append(event.stage)
        if isinstance(event.event, DefenseEvaluation):
            results[event.stage] = event.event
    return order, results


@pytest.mark.parametrize("defense_id, params", [("bit-depth", {"bits": 3}), ("jpeg", {"quality": 50})])
def test_square_breaks_what_masks_gradients_and_raises_the_warning(defense_id, params, fashion_model, fashion_batch):
    x, y = fashion_batch
    x, y = x[:16], y[:16]
    attack = ATTACKS.get("pgd")(**PGD)
    defenses = [DEFENSES.get(defense_id)(**params)]
    square = black_box_counterpart(attack, 300)
    order, results = _results(compare_defense(attack, fashion_model, defenses, adaptive_for(defenses), x, y,
                                               black_box=square, seed=0))

    assert order == list(COMPARISON_STAGES)
    naive, blind = results["naive"].robust_accuracy, results["black-box"].robust_accuracy
    assert blind <= naive - 0.5, (naive, blind)  # zero gradients stop PGD, not Square
    evaluation = results["black-box"].evaluation
    assert evaluation.queries > 0 and int(evaluation.queries_per_image.max()) <= 300
    warnings = comparison_warnings(DefendedModel(fashion_model, defenses), adaptive_for(defenses),
                                   {stage: r.robust_accuracy for stage, r in results.items()}, images=len(y))
    assert any("black-box attack" in w for w in warnings["naive"])
    assert any("BPDA" in w for w in warnings["naive"])
    assert warnings["reference"] == [] and warnings["black-box"] == []


def test_without_a_black_box_attack_the_comparison_has_three_stages(fashion_model, fashion_batch):
    x, y = fashion_batch
    defenses = [DEFENSES.get("bit-depth")(bits=3)]
    order, results = _results(compare_defense(ATTACKS.get("fgsm")(eps=0.1), fashion_model, defenses, Adaptive(bpda=True),
                                              x[:4], y[:4]))
    assert order == ["reference", "naive", "adaptive"] and set(results) == set(order)


def test_randomized_defense_answers_every_query_with_a_fresh_draw(fashion_model, fashion_batch):
    x, y = fashion_batch
    defenses = [DEFENSES.get("gaussian-noise")(sigma=0.1, clip=True)]
    square = black_box_counterpart(ATTACKS.get("pgd")(eps=0.1), 20)
    _order, results = _results(compare_defense(ATTACKS.get("fgsm")(eps=0.1), fashion_model, defenses,
                                               adaptive_for(defenses, eot=2), x[:4], y[:4], black_box=square))
    assert results["black-box"].robust_accuracy is not None
    defended = DefendedModel(fashion_model, defenses, seed=0)
    assert not torch.equal(defended.predict(x[:1]), defended.predict(x[:1]))  # what the oracle sees, query by query


def test_black_box_counterpart_matches_norm_and_budget():
    linf = black_box_counterpart(ATTACKS.get("pgd")(eps=0.07), 400)
    assert (linf.id, linf.params.eps, linf.params.max_queries) == ("square", 0.07, 400)
    l2 = black_box_counterpart(ATTACKS.get("pgd-l2")(eps=1.5), 200)
    assert (l2.id, l2.params.eps, l2.params.max_queries) == ("square-l2", 1.5, 200)
    with pytest.raises(WorkbenchError, match="no black-box attack"):
        black_box_counterpart(ATTACKS.get("deepfool")(), 100)


def test_black_box_warning_needs_a_meaningful_margin():
    assert blackbox_beats_whitebox(None, 0.0) is None and blackbox_beats_whitebox(0.9, None) is None
    assert blackbox_beats_whitebox(0.5, 0.5) is None
    assert blackbox_beats_whitebox(0.5, 0.49) is None  # within 2 points
    assert blackbox_beats_whitebox(0.5, 0.45, images=20) is None  # one image of 20: chance
    warning = blackbox_beats_whitebox(0.5, 0.4, images=20)  # two images
    assert warning is not None and "40%" in warning and "50%" in warning


def test_adaptive_switches_follow_the_stack_alone():
    stack = [DEFENSES.get("bit-depth")(bits=3), DEFENSES.get("gaussian-noise")(sigma=0.1)]
    assert adaptive_for(stack, eot=4) == Adaptive(bpda=True, eot=4)
    assert adaptive_for([DEFENSES.get("median")()]) == adaptive_for([DEFENSES.get("median")()], eot=9)
    assert adaptive_for([]) == Adaptive()

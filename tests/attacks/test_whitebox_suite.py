"""Behaviour of the white-box suite beyond the attack table: the shared losses on hand-made
logits, APGD's checkpoints and its strength against PGD, the minimal-distance attacks (CW,
DeepFool) against PGD-L2, CW's confidence margin, the ensemble's worst case over its members,
and progress made inside a mask without touching the rest."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.attacks.apgd import checkpoints
from workbench.attacks.losses import dlr, goal_margin, ranked_others, targeted_dlr
from workbench.core.errors import ParameterError, WorkbenchError
from workbench.core.events import AttackStep
from workbench.core.oracle import Oracle


def _run(attack_id, model, x, y, **options):
    params = options.pop("params", {})
    return run_to_end(ATTACKS.get(attack_id)(**params).run(model, x, y, seed=0, **options))


def test_dlr_losses_on_hand_made_logits():
    logits = torch.tensor([[3.0, 1.0, 2.0, 0.0, -1.0], [0.0, 4.0, 1.0, 3.0, 2.0]])
    # sorted: 3, 2, 1, 0, -1  and  4, 3, 2, 1, 0
    assert dlr(logits, torch.tensor([0, 0])).tolist() == pytest.approx([-(3 - 2) / (3 - 1), -(0 - 4) / (4 - 2)])
    expected = [-(3 - (-1)) / (3 - (1 + 0) / 2), -(0 - 3) / (4 - (2 + 1) / 2)]
    assert targeted_dlr(logits, torch.tensor([0, 0]), torch.tensor([4, 3])).tolist() == pytest.approx(expected)


def test_dlr_losses_ignore_shifts_and_scales_of_the_logits():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 10, generator=generator)
    y = torch.randint(0, 10, (16,), generator=generator)
    target = (y + 3) % 10
    assert torch.allclose(dlr(7 * logits - 2, y), dlr(logits, y), atol=1e-5)
    assert torch.allclose(targeted_dlr(7 * logits - 2, y, target), targeted_dlr(logits, y, target), atol=1e-5)


def test_dlr_losses_refuse_too_few_classes():
    with pytest.raises(WorkbenchError, match="at least 3 classes"):
        dlr(torch.zeros(2, 2), torch.tensor([0, 1]))
    with pytest.raises(WorkbenchError, match="at least 4 classes"):
        targeted_dlr(torch.zeros(2, 3), torch.tensor([0, 1]), torch.tensor([1, 2]))


def test_goal_margin_and_ranked_classes():
    logits = torch.tensor([[3.0, 1.0, 2.0]])
    assert goal_margin(logits, torch.tensor([0]), targeted=False).item() == 1.0  # 3 − 2
    assert goal_margin(logits, torch.tensor([1]), targeted=True).item() == 2.0  # 3 − 1
    assert ranked_others(logits, torch.tensor([0]), 5).tolist() == [[2, 1]]


def test_apgd_checkpoints_follow_the_paper():
    # p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 of the iterations
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(10) == [3, 5, 6, 7, 8, 9, 10]


def test_apgd_rejects_an_unknown_loss():
    with pytest.raises(ParameterError, match="'loss'"):
        ATTACKS.get("apgd")(loss="hinge")


def test_apgd_fools_at_least_as_many_images_as_pgd(fashion_model, fashion_batch):
    x, y = fashion_batch
    budget = {"eps": 0.02, "steps": 20}
    pgd = _run("pgd", fashion_model, x, y, params=budget)
    apgd = _run("apgd", fashion_model, x, y, params=budget)
    assert 0 < pgd.success.float().mean() < 1, "ε must leave the comparison open"
    assert apgd.success.sum() >= pgd.success.sum()
    assert apgd.metrics["linf"].max() <= 0.02 + 1e-6


@pytest.mark.parametrize("attack_id, params", [
    ("cw", {"steps": 20, "binary_steps": 3, "learning_rate": 0.1}),
    ("deepfool", {"steps": 30}),
])
def test_minimal_distance_attacks_find_smaller_changes_than_pgd_l2(attack_id, params, fashion_model, fashion_batch):
    x, y = fashion_batch[0][::2], fashion_batch[1][::2]
    pgd = _run("pgd-l2", fashion_model, x, y, params={"eps": 1.0, "steps": 20})
    minimal = _run(attack_id, fashion_model, x, y, params=params)
    assert minimal.success.float().mean() >= pgd.success.float().mean()
    both = minimal.success & pgd.success
    assert minimal.metrics["l2"][both].median() < 0.7 * pgd.metrics["l2"][both].median()


def test_cw_meets_the_goal_by_the_confidence_margin(fashion_model, fashion_batch):
    x, y = fashion_batch[0][::2], fashion_batch[1][::2]
    kappa = 2.0
    params = {"steps": 20, "binary_steps": 3, "learning_rate": 0.1, "confidence": kappa}
    result = _run("cw", fashion_model, x, y, params=params)
    assert result.success.float().mean() >= 0.8
    margin = goal_margin(result.probs.log(), y, targeted=False)  # log-softmax keeps logit gaps
    assert (margin[result.success] <= -kappa + 1e-3).all()
    assert torch.equal(result.x_adv[~result.success], x[~result.success])


def test_deepfool_lands_just_past_the_boundary(fashion_model, fashion_batch):
    x, y = fashion_batch
    result = _run("deepfool", fashion_model, x, y, params={"steps": 30})
    assert result.success.all()
    halfway = x + 0.5 * (result.x_adv - x)
    still_correct = fashion_model.predict(halfway).argmax(dim=1) == y
    assert still_correct.float().mean() >= 0.9


def test_ensemble_is_at_least_as_strong_as_each_member(fashion_model, fashion_batch):
    x, y = fashion_batch[0][::2], fashion_batch[1][::2]
    eps, steps, targets, queries = 0.02, 10, 3, 50
    params = {"eps": eps, "steps": steps, "targets": targets, "square_queries": queries}
    events = list(ATTACKS.get("autoattack")(**params).run(fashion_model, x, y, seed=0))
    *stages, ensemble = events
    members = [
        _run("apgd", fashion_model, x, y, params={"eps": eps, "steps": steps}),
        _run("apgd-t", fashion_model, x, y, params={"eps": eps, "steps": steps, "targets": targets}),
        run_to_end(ATTACKS.get("square")(eps=eps, max_queries=queries).run(Oracle(fashion_model), x, y, seed=0)),
    ]
    assert not ensemble.success.all(), "ε must leave images for the Square stage"
    for member in members:
        assert ensemble.success.sum() >= member.success.sum()
    assert all(isinstance(step, AttackStep) for step in stages)
    assert stages[-1].queries > 0, "the Square stage did not run"
    assert ensemble.metrics["linf"].max() <= eps + 1e-6


@pytest.mark.parametrize("attack_id, params, minimum", [
    ("apgd", {"eps": 0.3, "steps": 10}, 0.75),
    ("apgd-t", {"eps": 0.3, "steps": 10, "targets": 2}, 0.75),
    ("autoattack", {"eps": 0.3, "steps": 10, "targets": 2, "square_queries": 0}, 0.75),
    ("cw", {"steps": 20, "binary_steps": 3, "learning_rate": 0.1}, 0.8),
    ("deepfool", {"steps": 30}, 0.8),
    ("deepfool-linf", {"steps": 30}, 0.8),
])
def test_masked_attacks_succeed_inside_the_mask_alone(attack_id, params, minimum, fashion_model, fashion_batch):
    x, y = fashion_batch[0][::2], fashion_batch[1][::2]
    mask = torch.zeros(1, 1, 28, 28)
    mask[..., 7:21, 7:21] = 1  # the central quarter
    result = _run(attack_id, fashion_model, x, y, mask=mask, params=params)
    outside = (mask == 0).expand_as(x)
    assert torch.equal(result.x_adv[outside], x[outside])
    assert result.success.float().mean() >= minimum

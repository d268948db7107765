"""Behaviour particular to each black-box attack, beyond the attack table: NES's
partial-information mode, SimBA's pixel basis, the distance that the boundary walkers shrink,
and a transfer from a surrogate that differs from the target."""
from __future__ import annotations

import copy

import pytest
import torch

from workbench.attacks import ATTACKS
from workbench.core.errors import ParameterError
from workbench.core.events import AttackStep
from workbench.core.model import ModelHandle
from workbench.core.oracle import Oracle, OracleParams


def _linf(a, b):
    return (a - b).flatten(1).abs().amax(dim=1)


def _l2(a, b):
    return (a - b).flatten(1).norm(dim=1)


def test_nes_partial_information_shrinks_from_a_target_image(fashion_model, fashion_batch):
    x, y = fashion_batch[0][::4], fashion_batch[1][::4]  # one image of each of 8 classes
    target = (y + 1) % fashion_model.num_classes
    oracle = Oracle(fashion_model, OracleParams(top_k=3))
    attack = ATTACKS.get("nes")(eps=0.1, max_queries=300, samples=10, step_size=0.02)
    *steps, result = list(attack.run(oracle, x, y, target=target, seed=0))
    started = _linf(steps[0].x_adv, x) > 0.1  # began at an image labelled as the target
    assert started.sum() >= 6
    for step in steps:
        listed = (step.seen.labels == target.unsqueeze(1)).any(dim=1)
        assert listed[started].all(), "a kept step lost the target from the top 3"
    assert (_linf(steps[-1].x_adv, x)[started] < _linf(steps[0].x_adv, x)[started]).all()
    assert _linf(result.x_adv, x).max() <= 0.1 + 1e-6


def test_simba_in_the_pixel_basis_changes_one_pixel_per_step(fashion_model, fashion_batch):
    x, y = fashion_batch[0][::4], fashion_batch[1][::4]
    attack = ATTACKS.get("simba")(eps=0.5, max_queries=150, basis="pixel")
    steps = [e for e in attack.run(Oracle(fashion_model), x, y, seed=0) if isinstance(e, AttackStep)]
    changed = [((s.x_adv != x).flatten(1).sum(dim=1)) for s in steps]
    assert all(((b - a) <= 1).all() for a, b in zip(changed, changed[1:]))
    assert steps[-1].success.float().mean() >= 0.25


@pytest.mark.parametrize("attack_id", ["hopskipjump", "boundary"])
def test_boundary_walkers_shrink_the_distance_and_stay_adversarial(attack_id, fashion_model, fashion_batch):
    x, y = fashion_batch[0][::8], fashion_batch[1][::8]
    oracle = Oracle(fashion_model, OracleParams(label_only=True))
    *steps, result = list(ATTACKS.get(attack_id)(max_queries=300).run(oracle, x, y, seed=0))
    assert result.success.all()
    distances = torch.stack([_l2(step.x_adv, x) for step in steps])
    assert (distances[1:] <= distances[:-1] + 1e-5).all(), "the distance grew"
    assert (distances[-1] < 0.9 * distances[0]).all()


def test_transfer_from_a_different_surrogate(fashion_model, fashion_batch):
    x, y = fashion_batch
    inner = copy.deepcopy(fashion_model.module.inner)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in inner.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * p.std() * 0.15)
    surrogate = ModelHandle(inner, spec=fashion_model.spec, labels=fashion_model.labels, model_id="noisy", device="cpu")
    attack = ATTACKS.get("transfer")(surrogate_model=surrogate, white_box="pgd", white_box_params="eps=0.1,steps=10")
    oracle = Oracle(fashion_model, OracleParams(label_only=True))
    *steps, result = list(attack.run(oracle, x, y, seed=0))
    assert not any(s.success.any() for s in steps[:-1])  # nothing known about the target while crafting
    assert oracle.queries.tolist() == [1] * x.shape[0]
    assert result.success.float().mean() >= 0.5
    assert _linf(result.x_adv, x).max() <= 0.1 + 1e-6


def test_transfer_checks_its_white_box_attack():
    with pytest.raises(ParameterError, match="'white_box': 'square' is not a registered white-box attack"):
        ATTACKS.get("transfer")(white_box="square")
    with pytest.raises(ParameterError, match="unknown parameter 'epsilon'"):
        ATTACKS.get("transfer")(white_box_params="epsilon=0.1")

"""Table-driven checks of every registered attack on the shipped model (ARCHITECTURE.md,
"Tests and benchmarks"): untargeted and targeted success, the norm bound, the mask invariant,
determinism under a seed, and that closing the generator mid-run leaves nothing behind.

Black-box attacks run through an oracle over the same model (label-only for label-based ones)
with small query budgets, on every fourth image of the batch to keep the table fast."""
from __future__ import annotations

import threading

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.events import AttackResult, AttackStep
from workbench.core.oracle import Oracle, OracleParams

# id → (params, minimum untargeted success, minimum targeted success, norm, bound); the bound
# is None for attacks that minimize the distance instead of bounding it.
TABLE = {
    "fgsm": ({"eps": 0.15}, 0.6, 0.1, "linf", 0.15),
    "pgd": ({"eps": 0.1, "steps": 20}, 0.95, 0.6, "linf", 0.1),
    "pgd-l2": ({"eps": 3.0, "steps": 20}, 0.95, 0.6, "l2", 3.0),
    "apgd": ({"eps": 0.1, "steps": 10}, 0.95, 0.7, "linf", 0.1),
    "apgd-l2": ({"eps": 3.0, "steps": 10}, 0.95, 0.85, "l2", 3.0),
    "apgd-t": ({"eps": 0.1, "steps": 10, "targets": 2}, 0.95, 0.55, "linf", 0.1),
    "autoattack": ({"eps": 0.1, "steps": 5, "targets": 2, "square_queries": 20}, 0.95, 0.4, "linf", 0.1),
    "cw": ({"steps": 10, "binary_steps": 3, "learning_rate": 0.1}, 0.9, 0.45, "l2", None),
    "deepfool": ({"steps": 30}, 0.95, 0.8, "l2", None),
    "deepfool-linf": ({"steps": 30}, 0.95, 0.85, "linf", None),
    "square": ({"eps": 0.1, "max_queries": 100}, 0.5, 0.1, "linf", 0.1),
    "square-l2": ({"eps": 3.0, "max_queries": 100}, 0.4, 0.1, "l2", 3.0),
    "simba": ({"eps": 0.5, "max_queries": 100}, 0.5, 0.1, "l2", None),
    "nes": ({"eps": 0.1, "max_queries": 300, "samples": 5, "step_size": 0.04}, 0.4, 0.1, "linf", 0.1),
    "hopskipjump": ({"max_queries": 50}, 1.0, 0.8, "l2", None),
    "boundary": ({"max_queries": 50}, 1.0, 0.8, "l2", None),
    "transfer": ({"surrogate": "fashion-cnn", "white_box_params": "eps=0.1,steps=10"}, 0.95, 0.6, "linf", 0.1),
    "jsma": ({"gamma": 0.1}, 0.9, 0.55, "l0", 78),  # 78 = γ·784 features
    "greedy-sparse": ({"max_pixels": 20, "candidates": 3}, 0.9, 0.2, "l0", 20),
    "greedy-dense": ({"eps": 0.1, "step_size": 0.01, "steps": 20}, 0.95, 0.9, "linf", 0.1),
    # Physical attacks: any colour inside the mask (here the whole image), so no bound.
    "eyeglasses": ({"steps": 10, "samples": 2}, 0.9, 0.8, "l0", None),
    "rp2": ({"steps": 10, "samples": 2}, 0.9, 0.8, "l0", None),
    "patch": ({"steps": 12, "samples": 1, "size": 0.5, "step_size": 0.1}, 0.25, 0.05, "l0", None),
}
# black-box id → the oracle it queries
ORACLE = {
    attack.id: OracleParams(label_only=attack.access == "label")
    for attack in ATTACKS if attack.access != "white-box"
}
TOLERANCE = {"linf": 1e-6, "l2": 1e-4, "l0": 0}


def test_every_registered_attack_has_a_row():
    assert set(ATTACKS.ids()) == set(TABLE), "add a row to TABLE for every new attack"


def _events(attack_id, model, x, y, **options):
    """The attack's event stream: white-box on ``model``, black-box through an oracle over it."""
    attack = ATTACKS.get(attack_id)(**TABLE[attack_id][0])
    if attack_id in ORACLE:
        return attack.run(Oracle(model, ORACLE[attack_id]), x, y, **options)
    return attack.run(model, x, y, **options)


def _batch(attack_id, batch):
    x, y = batch
    return (x[::4], y[::4]) if attack_id in ORACLE else (x, y)


def _norms(result, x):
    delta = result.x_adv.double() - x.double()
    return {
        "linf": delta.flatten(1).abs().amax(1),
        "l2": delta.flatten(1).norm(dim=1),
        "l0": (delta != 0).any(dim=1).flatten(1).sum(dim=1),  # pixels changed
    }


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_untargeted_success_and_norm_bound(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    _, minimum, _, norm, bound = TABLE[attack_id]
    result = run_to_end(_events(attack_id, fashion_model, x, y, seed=0))
    predicted = result.probs.argmax(1)
    assert torch.equal(result.success, predicted != y)
    assert result.success.float().mean() >= minimum
    assert bound is None or _norms(result, x)[norm].max() <= bound + TOLERANCE[norm]
    assert result.x_adv.min() >= 0 and result.x_adv.max() <= 1


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_targeted_success(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    target = (y + 1) % fashion_model.num_classes
    minimum, norm, bound = TABLE[attack_id][2:]
    result = run_to_end(_events(attack_id, fashion_model, x, y, target=target, seed=0))
    assert torch.equal(result.success, result.probs.argmax(1) == target)
    assert result.success.float().mean() >= minimum
    assert bound is None or _norms(result, x)[norm].max() <= bound + TOLERANCE[norm]


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_mask_invariant(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    generator = torch.Generator().manual_seed(1)
    mask = (torch.rand(x.shape[0], 1, *x.shape[2:], generator=generator) < 0.4).float()
    result = run_to_end(_events(attack_id, fashion_model, x, y, mask=mask, seed=0))
    outside = (mask == 0).expand_as(x)
    assert torch.equal(result.x_adv[outside], x[outside])
    assert result.x_adv.min() >= 0 and result.x_adv.max() <= 1
    assert (result.x_adv != x).any(), "the attack changed nothing inside the mask"


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_every_step_respects_the_mask(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    mask = torch.zeros(1, 1, *x.shape[2:])
    mask[..., 8:20, 8:20] = 1
    steps = [e for e in _events(attack_id, fashion_model, x, y, mask=mask, seed=0)
             if isinstance(e, AttackStep)]
    assert steps
    outside = (mask == 0).expand_as(x)
    for step in steps:
        assert torch.equal(step.x_adv[outside], x[outside])


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_same_seed_same_result(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    first = run_to_end(_events(attack_id, fashion_model, x, y, seed=7))
    second = run_to_end(_events(attack_id, fashion_model, x, y, seed=7))
    assert torch.equal(first.x_adv, second.x_adv)
    assert torch.equal(first.success, second.success)


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_closing_mid_run_leaves_nothing_behind(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    threads_before = set(threading.enumerate())
    grad_before = torch.is_grad_enabled()
    events = _events(attack_id, fashion_model, x, y, seed=3)
    first = next(events)
    assert isinstance(first, (AttackStep, AttackResult))
    events.close()
    assert torch.is_grad_enabled() == grad_before
    assert set(threading.enumerate()) <= threads_before
    assert not any(p.requires_grad for p in fashion_model.module.parameters())
    # The model is untouched: a fresh run gives the same result as one on a fresh handle.
    again = run_to_end(_events(attack_id, fashion_model, x, y, seed=3))
    reference = run_to_end(_events(attack_id, fashion_model, x.clone(), y.clone(), seed=3))
    assert torch.equal(again.x_adv, reference.x_adv)


@pytest.mark.parametrize("attack_id", sorted(TABLE))
def test_events_are_consistent(attack_id, fashion_model, fashion_batch):
    x, y = _batch(attack_id, fashion_batch)
    events = list(_events(attack_id, fashion_model, x, y, seed=0))
    *steps, result = events
    assert isinstance(result, AttackResult)
    assert all(isinstance(s, AttackStep) for s in steps)
    assert [s.iteration for s in steps] == list(range(1, len(steps) + 1))
    for step in steps:
        assert step.x_adv.shape == x.shape and step.probs.shape == (x.shape[0], fashion_model.num_classes)
        assert torch.allclose(step.probs.sum(1), torch.ones(x.shape[0]), atol=1e-4)
    assert result.iterations == len(steps)

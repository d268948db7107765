"""The input defenses: what they do to images, their gradients as a naive attacker, BPDA and EOT
see them, and the adaptive-attack check of issue 6 on the shipped model."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.errors import WorkbenchError
from workbench.defenses import DEFENSES, Adaptive, DefendedModel
from workbench.defenses.evaluation import adaptive_for, evaluate_defense
from workbench.defenses.evaluation_warnings import attack_warnings

# The settings under which each defense is checked against PGD at ε = 0.1.
CHECKED = {
    "gaussian-noise": {"sigma": 0.1, "clip": True},
    "resize-pad": {"min_scale": 0.8},
    "jpeg": {"quality": 50},
    "bit-depth": {"bits": 3},
    "thermometer": {"levels": 16},
}
SETTINGS = {**CHECKED, "median": {"size": 3}}


def test_every_registered_defense_is_checked():
    assert set(DEFENSES.ids()) == set(SETTINGS)


@pytest.mark.parametrize("defense_id", sorted(SETTINGS))
def test_defense_keeps_shape_and_repeats_under_a_seed(defense_id, fashion_model, fashion_batch):
    x, _ = fashion_batch
    defense = DEFENSES.get(defense_id)(**SETTINGS[defense_id])
    first = defense.apply(x, torch.Generator().manual_seed(3))
    again = defense.apply(x, torch.Generator().manual_seed(3))
    assert first.shape == x.shape and torch.isfinite(first).all()
    assert torch.equal(first, again)
    other = defense.apply(x, torch.Generator().manual_seed(4))
    assert torch.equal(first, other) != defense.randomized
    assert (first - x).abs().max() > 0


@pytest.mark.parametrize("defense_id", ["jpeg", "bit-depth", "thermometer"])
def test_obfuscated_defense_hides_its_gradient_until_bpda(defense_id, fashion_model, fashion_batch):
    x, y = fashion_batch
    defended = DefendedModel(fashion_model, [DEFENSES.get(defense_id)(**SETTINGS[defense_id])])
    assert defended.obfuscated

    def gradient(model):
        x_var = x[:8].clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(x_var), y[:8])
        return torch.autograd.grad(loss, x_var)[0]

    assert gradient(defended).abs().max() == 0
    bpda = gradient(defended.adapted(Adaptive(bpda=True)))
    assert bpda.abs().max() > 0
    # Forward answers do not depend on how the backward pass is taken.
    with torch.no_grad():
        assert torch.equal(defended(x), defended.adapted(Adaptive(bpda=True))(x))


def test_eot_averages_logits_over_draws(fashion_model, fashion_batch):
    x, _ = fashion_batch
    noise = DEFENSES.get("gaussian-noise")(sigma=0.2)
    eot = DefendedModel(fashion_model, [noise], adaptive=Adaptive(eot=4), seed=5)
    single = DefendedModel(fashion_model, [noise], seed=5)
    with torch.no_grad():
        averaged = eot(x[:6])
        draws = single(x[:6].repeat(4, 1, 1, 1)).view(4, 6, -1).mean(0)
    assert torch.allclose(averaged, draws, atol=1e-5)


def test_defended_models_do_not_nest_and_name_their_stack(fashion_model):
    stack = DefendedModel(fashion_model, [DEFENSES.get("jpeg")(), DEFENSES.get("gaussian-noise")()])
    assert stack.model_id == "fashion-cnn+jpeg+gaussian-noise"
    assert stack.randomized and stack.obfuscated
    assert adaptive_for(stack, eot=4) == Adaptive(bpda=True, eot=4)
    with pytest.raises(WorkbenchError):
        DefendedModel(stack, [])


def test_naive_evaluation_of_a_random_defense_is_warned_about(fashion_model):
    defended = DefendedModel(fashion_model, [DEFENSES.get("resize-pad")()])
    assert len(attack_warnings(defended, Adaptive())) == 1
    assert attack_warnings(defended, Adaptive(eot=8)) == []


def _robust(attack, defended, x, y, adaptive):
    events = evaluate_defense(attack, defended, x, y, adaptive=adaptive, seed=0)
    return list(events)[-1].robust_accuracy


@pytest.mark.parametrize("defense_id", sorted(CHECKED))
def test_defense_fools_plain_pgd_and_falls_to_the_adaptive_attack(defense_id, fashion_model, fashion_batch):
    """Issue 6: plain PGD (ε = 0.1) leaves ≥ 20 points more robust accuracy than on the bare
    model; the adaptive attack (BPDA / EOT) brings it back within 10 points."""
    x, y = fashion_batch
    x, y = x[:24], y[:24]
    plain = ATTACKS.get("pgd")(eps=0.1, steps=20)
    undefended = float((run_to_end(plain.run(fashion_model, x, y)).probs.argmax(1) == y).float().mean())
    defended = DefendedModel(fashion_model, [DEFENSES.get(defense_id)(**CHECKED[defense_id])], seed=1)
    naive = _robust(plain, defended, x, y, Adaptive())
    strong = ATTACKS.get("pgd")(eps=0.1, steps=30, early_stop=False)
    adaptive = _robust(strong, defended, x, y, adaptive_for(defended, eot=8))
    assert naive >= undefended + 0.2, (naive, undefended)
    assert adaptive <= undefended + 0.1, (adaptive, undefended)

"""Every registered defense on a grey model and on colour models (issue 12, item 4): the
transform keeps the input's shape and pixel range in either memory layout, the defended model
answers finite logits, the adaptive attacker (BPDA / EOT) gets a gradient, and the Trade-off and
Naive-vs-adaptive engines run end to end. JPEG once crashed on three channels; nothing here is
special to it."""
from __future__ import annotations

import pytest
import torch

from workbench.attacks import ATTACKS
from workbench.core.datasets import open_data
from workbench.core.loaders import load_builtin
from workbench.defenses import DEFENSES, DefendedModel
from workbench.defenses.evaluation import (
    COMPARISON_STAGES,
    DefenseEvaluation,
    Tradeoff,
    adaptive_for,
    compare_defense,
    sweep_tradeoff,
)
from workbench.defenses.smoothing import SmoothingParams

# A grey model and two colour ones (32×32 and 64×64), each with its shipped samples.
MODELS = {
    "fashion-cnn": "samples:fashion-mnist",
    "signs-cnn": "samples:signs",
    "faces-cnn": "samples:faces",
}
IMAGES = 4
# Defaults everywhere, except that the noise is clipped so that its output is a valid image
# (unclipped, as smoothing's base models want it, it leaves [0, 1] by design).
SETTINGS = {"gaussian-noise": {"clip": True}}
TINY_PGD = {"eps": 0.05, "steps": 2}
TINY_SMOOTHING = SmoothingParams(n0=8, n=32, batch_size=32)


def make(defense_id: str):
    """The defense ``defense_id`` at its test settings."""
    return DEFENSES.get(defense_id)(**SETTINGS.get(defense_id, {}))


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    """(model, images, labels): a built-in model on the CPU and a few of its samples."""
    model = load_builtin(request.param, device="cpu")
    samples = open_data(MODELS[request.param], model.spec, model.labels, limit=IMAGES)
    return model, samples.images, samples.labels


def test_the_cases_cover_grey_and_colour():
    channels = {load_builtin(model_id, device="cpu").input_shape[0] for model_id in MODELS}
    assert channels == {1, 3}


@pytest.mark.parametrize("defense_id", DEFENSES.ids())
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last], ids=["contiguous", "channels-last"])
def test_transform_keeps_shape_and_range_in_either_layout(defense_id, layout, case):
    _, x, _ = case
    x = x.contiguous(memory_format=layout)
    out = make(defense_id).apply(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out - x).abs().max() > 0  # it did something


@pytest.mark.parametrize("defense_id", DEFENSES.ids())
def test_defended_model_gives_finite_logits(defense_id, case):
    model, x, _ = case
    defended = DefendedModel(model, [make(defense_id)], seed=1)
    with torch.no_grad():
        logits = defended(x)
    assert logits.shape == (len(x), model.num_classes)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("defense_id", DEFENSES.ids())
def test_adaptive_attacker_gets_a_gradient(defense_id, case):
    model, x, y = case
    defended = DefendedModel(model, [make(defense_id)], seed=1)
    adaptive = adaptive_for(defended, eot=2)
    assert adaptive.bpda == defended.obfuscated and (adaptive.eot > 1) == defended.randomized
    x_var = x.clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(defended.adapted(adaptive)(x_var), y)
    (gradient,) = torch.autograd.grad(loss, x_var)
    assert gradient.shape == x.shape
    assert torch.isfinite(gradient).all() and gradient.abs().max() > 0


@pytest.mark.parametrize("defense_id", DEFENSES.ids())
def test_tradeoff_sweep_runs_at_the_default_strength(defense_id, case):
    """The Trade-off page's engine, one strength (the default), a tiny attack."""
    model, x, y = case
    defense_class = DEFENSES.get(defense_id)
    strength = getattr(defense_class().params, defense_class.strength)
    attack = ATTACKS.get("pgd")(**TINY_PGD)
    events = list(sweep_tradeoff(model, defense_id, [strength], attack, x, y, defense_params=SETTINGS.get(defense_id),
                                 eot=2, smoothing=TINY_SMOOTHING, seed=0))
    result = events[-1]
    assert isinstance(result, Tradeoff) and len(result.points) == 1
    point = result.points[0]
    for value in (point.clean_accuracy, point.robust_naive, point.robust_adaptive):
        assert value is not None and 0.0 <= value <= 1.0
    assert (point.certified is not None) == (defense_id == "gaussian-noise" and strength > 0)


def test_comparison_runs_every_defense_stacked(case):
    """The Naive-vs-adaptive page's engine on a stack of every registered defense."""
    model, x, y = case
    defenses = [make(defense_id) for defense_id in DEFENSES.ids()]
    attack = ATTACKS.get("pgd")(**TINY_PGD)
    outcomes = {event.stage: event.event for event in compare_defense(
        attack, model, defenses, adaptive_for(defenses, eot=2), x, y, seed=0)
        if isinstance(event.event, DefenseEvaluation)}
    assert list(outcomes) == list(COMPARISON_STAGES[:3])
    assert outcomes["adaptive"].adaptive == "BPDA + EOT×2"
    for outcome in outcomes.values():
        assert 0.0 <= outcome.robust_accuracy <= 1.0
        assert outcome.evaluation.x_adv.shape == x.shape

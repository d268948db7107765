"""The robust variants of fashion-cnn (issue 6): each card's metric re-measured exactly, and
what training bought: noise-trained models classify noisy images that fashion-cnn cannot, the
PGD-trained model resists PGD that breaks fashion-cnn."""
from __future__ import annotations

import json

import pytest
import torch

from workbench.attacks import ATTACKS, run_to_end
from workbench.core.loaders import load_model
from workbench.zoo.fashion import load_fashion_mnist
from workbench.zoo.robust import NOISE_LEVELS


@pytest.fixture(scope="module")
def test_set():
    return load_fashion_mnist("test")


def _accuracy(model, x, y) -> float:
    return float((model.predict(x, batch_size=1000).argmax(1) == y).float().mean())


@pytest.mark.parametrize("sigma", NOISE_LEVELS)
def test_noise_trained_card_is_remeasured_exactly(sigma, test_set):
    model = load_model(f"fashion-cnn-noise-{sigma}", device="cpu")
    card = model.card
    assert card["noise_sigma"] == sigma
    x, y = test_set
    # The recipe's evaluation noise: seed + 1, drawn over the whole test set at once.
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(card["training"]["seed"] + 1))
    noisy = x + sigma * noise
    measured = _accuracy(model, noisy, y)
    assert round(measured, 4) == card["metrics"]["test_accuracy_under_noise"]
    assert round(_accuracy(model, x, y), 4) == card["metrics"]["clean_test_accuracy"]
    assert measured > _accuracy(load_model("fashion-cnn", device="cpu"), noisy, y) + 0.05


def test_pgd_trained_model_resists_pgd(test_set, fashion_model):
    model = load_model("fashion-cnn-pgd", device="cpu")
    x, y = test_set
    assert round(_accuracy(model, x, y), 4) == model.card["metrics"]["test_accuracy"]
    attack = ATTACKS.get("pgd")(eps=0.1, steps=20)
    robust = {
        name: float((run_to_end(attack.run(m, x[:128], y[:128])).probs.argmax(1) == y[:128]).float().mean())
        for name, m in (("pgd", model), ("plain", fashion_model))
    }
    assert robust["plain"] < 0.05
    assert robust["pgd"] >= 0.5, robust


@pytest.mark.parametrize("model_id, expected", [
    ("fashion-cnn-pgd", "workbench zoo train fashion-cnn-pgd --seed 3 --epochs 1 --train-limit 256 --test-limit 128"),
    ("fashion-cnn-noise-0.25", "workbench zoo train fashion-cnn-noise-0.25 --seed 3 --train-limit 256 --test-limit 128"),
])
def test_recipe_on_a_slice_writes_a_loadable_model_and_its_command(model_id, expected, tmp_path):
    """Each recipe's defaults (PGD: 5 epochs over all images; noise: 1 epoch over 20,000) are
    left out of the recorded command; what differs from them is written down."""
    from workbench.zoo.recipes import train

    list(train(model_id, seed=3, epochs=1, train_limit=256, test_limit=128, out_dir=tmp_path))
    written = json.loads((tmp_path / f"{model_id}.json").read_text())
    assert (tmp_path / written["weights"]).stat().st_size > 0
    assert written["trained_with"] == expected
    assert written["metrics"]["test_images"] == 128

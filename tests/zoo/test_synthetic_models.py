"""What every synthesized built-in model must satisfy, checked for ``signs-cnn`` and
``faces-cnn`` alike: card and weights, accuracy re-measured on the card's held-out stream
(ARCHITECTURE.md, "Where does it go?": a built-in model's card metrics are re-measured by a
test), the sample set exported again the same, the generator's determinism and the recipe's."""

from __future__ import annotations

import pytest
from synthetic_model_checks import (
    builtin,
    card_of,
    check_card,
    check_closing_writes_nothing,
    check_generator_determinism,
    check_recipe_determinism,
    check_samples_re_export,
    held_out_accuracy,
)

from workbench.zoo.faces import FACE_LABELS, FACES_CNN
from workbench.zoo.signs import SIGN_LABELS, SIGNS_CNN

# Each recipe with the number of held-out images its accuracy is measured on and its input shape.
RECIPES = {
    "signs-cnn": (SIGNS_CNN, len(SIGN_LABELS) * 30, (3, 32, 32)),
    "faces-cnn": (FACES_CNN, len(FACE_LABELS) * 20, (3, 64, 64)),
}
recipes = pytest.mark.parametrize("name", list(RECIPES))


@pytest.fixture(scope="module")
def models():
    return {name: builtin(recipe) for name, (recipe, _, _) in RECIPES.items()}


@recipes
def test_card_and_weights(name, models):
    recipe, _, shape = RECIPES[name]
    check_card(recipe, card_of(recipe), models[name])
    assert models[name].input_shape == shape


@recipes
def test_held_out_accuracy(name, models):
    recipe, n, _ = RECIPES[name]
    assert held_out_accuracy(recipe, models[name], card_of(recipe), n=n) >= 0.95


@recipes
def test_samples_are_exported_again_the_same(name, tmp_path, capsys):
    check_samples_re_export(RECIPES[name][0], tmp_path, capsys)


@recipes
def test_generator_is_deterministic(name):
    check_generator_determinism(RECIPES[name][0])


@recipes
def test_recipe_is_deterministic(name, tmp_path):
    check_recipe_determinism(RECIPES[name][0], tmp_path)


@recipes
def test_closing_the_recipe_writes_nothing(name, tmp_path):
    check_closing_writes_nothing(RECIPES[name][0], tmp_path)

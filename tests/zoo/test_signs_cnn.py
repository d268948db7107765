"""What is particular to the shipped ``signs-cnn`` and its generator (the checks every synthesized
model shares are in test_synthetic_models.py): the sample set with its sign quads, and that the
classes look different."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from synthetic_model_checks import builtin, check_samples, inside

from workbench.core.errors import ParameterError
from workbench.zoo.signs import SIGN_LABELS, SIGN_SIZE, SIGNS_CNN, render_signs, sign_template
from workbench.zoo.synthetic import train_synthetic


@pytest.fixture(scope="module")
def model():
    return builtin(SIGNS_CNN)


def test_samples_and_their_sign_quads(model):
    for marks in check_samples(SIGNS_CNN, model):
        (quad,) = marks.values()
        assert set(marks) == {"sign"} and np.shape(quad) == (4, 2)
        assert inside(quad, SIGN_SIZE)


def test_quads_follow_the_signs():
    """The quad is where the sign is: the pixels inside it are more the sign's colour
    (stop: red) than those outside it."""
    images, labels, marks = render_signs(12, 5, classes=["stop"])
    assert (labels == SIGN_LABELS.index("stop")).all()
    for image, mark in zip(images, marks):
        inside_quad = np.zeros((SIGN_SIZE, SIGN_SIZE), np.uint8)
        cv2.fillPoly(inside_quad, [np.round(np.array(mark["sign"])).astype(np.int32)], 1)
        redness = image[..., 0].astype(float) - image[..., 1:].mean(axis=2)
        assert redness[inside_quad == 1].mean() > redness[inside_quad == 0].mean() + 20


def test_the_classes_look_different():
    """Every two signs differ clearly in at least 100 of the 128² pixels of their drawings
    (the closest pair, speed limits 30 and 50, in 144)."""
    assert "stop" in SIGN_LABELS
    templates = {label: sign_template(label) for label in SIGN_LABELS}
    for a, b in itertools.combinations(SIGN_LABELS, 2):
        assert (np.abs(templates[a] - templates[b]).max(axis=2) > 0.5).sum() >= 100, (a, b)
    images, labels, _ = render_signs(2 * len(SIGN_LABELS), 0)
    assert sorted(labels.tolist()) == sorted(list(range(len(SIGN_LABELS))) * 2)


def test_bad_requests():
    with pytest.raises(ParameterError, match="unknown class 'banana'"):
        render_signs(2, 0, classes=["banana"])
    with pytest.raises(ParameterError, match="seed must be a non-negative"):
        render_signs(2, -1)
    with pytest.raises(ParameterError, match="seed must be in 0"):
        next(train_synthetic(SIGNS_CNN, seed=10**7))
    with pytest.raises(ParameterError, match="epochs must be at least 1, not 0"):
        next(train_synthetic(SIGNS_CNN, epochs=0))

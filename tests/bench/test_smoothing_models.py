"""Issue 6's certification checks on the noise-trained built-in models: at radius 0 the
certified accuracy is within 3 points of the smoothed classifier's (PREDICT) accuracy, certified
accuracy falls with the radius, and a larger σ gives lower clean accuracy but higher certified
accuracy at large radii (Cohen et al. 2019, figure 4's trade-off). First 200 Fashion-MNIST test
images, n₀ = 100, n = 1,000, α = 0.001."""
from __future__ import annotations

import json

import pytest

from workbench.core.datasets import open_data
from workbench.core.loaders import load_model
from workbench.defenses.smoothing import Smoothing, SmoothingParams

pytestmark = pytest.mark.bench

SIGMAS = (0.12, 0.25, 0.5)
RADII = (0.0, 0.25, 0.5, 0.75, 1.0)
N = 200


def _last(events):
    for event in events:
        pass
    return event


def test_noise_trained_models_certify_as_cohen_et_al_describe():
    figures = {}
    for sigma in SIGMAS:
        model = load_model(f"fashion-cnn-noise-{sigma}", device="cpu")
        data = open_data("fashion-mnist:test", model.spec, model.labels, limit=N)
        smoothing = Smoothing(model, SmoothingParams(sigma=sigma, n0=100, n=1000, alpha=0.001))
        certified = _last(smoothing.certify(data.images, data.labels))
        predicted = _last(smoothing.predict(data.images, data.labels))
        figures[sigma] = {
            "predict_accuracy": float((predicted.predictions == data.labels).float().mean()),
            "certified": {r: certified.certified_accuracy(r) for r in RADII},
            "abstained": int((certified.predictions < 0).sum()),
        }
    print("\nSmoothing:", json.dumps(figures, indent=2))
    for sigma, f in figures.items():
        values = list(f["certified"].values())
        assert values == sorted(values, reverse=True)
        assert abs(f["certified"][0.0] - f["predict_accuracy"]) <= 0.03
    low, high = figures[SIGMAS[0]], figures[SIGMAS[-1]]
    assert high["predict_accuracy"] < low["predict_accuracy"]
    assert high["certified"][0.75] > low["certified"][0.75]

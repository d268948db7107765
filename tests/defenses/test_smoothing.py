"""Randomized smoothing (Cohen et al. 2019): the soundness of CERTIFY's bound and the shape of
its results."""
from __future__ import annotations

import pytest
import torch

from workbench.core.events import CertifyProgress, CertifyResult
from workbench.core.errors import WorkbenchError
from workbench.defenses.smoothing import ABSTAIN, Smoothing, SmoothingParams, certified_radius, lower_confidence_bound


@pytest.mark.parametrize("p", [0.55, 0.8, 0.97])
def test_lower_bound_covers_the_true_probability(p):
    """On simulated Bernoulli draws the (1 − α) lower bound lies below p in ≥ 1 − α of trials
    (up to three standard errors of the simulation)."""
    alpha, n, trials = 0.05, 200, 2000
    generator = torch.Generator().manual_seed(0)
    successes = torch.binomial(torch.full((trials,), float(n)), torch.full((trials,), p), generator=generator)
    covered = sum(lower_confidence_bound(int(k), n, alpha) <= p for k in successes)
    margin = 3 * (alpha * (1 - alpha) / trials) ** 0.5
    assert covered / trials >= 1 - alpha - margin


def test_radius_grows_with_the_bound_and_vanishes_at_one_half():
    assert certified_radius(0.5, 0.25) == 0.0
    assert 0 < certified_radius(0.7, 0.25) < certified_radius(0.9, 0.25)
    assert certified_radius(0.9, 0.5) == pytest.approx(2 * certified_radius(0.9, 0.25))


def test_certify_streams_counts_and_repeats_under_a_seed(fashion_model, fashion_batch):
    x, y = fashion_batch
    params = SmoothingParams(sigma=0.05, n0=20, n=200, alpha=0.01, batch_size=64)

    def run():
        return list(Smoothing(fashion_model, params, seed=1).certify(x[:3], y[:3]))

    events = run()
    progress = [e for e in events if isinstance(e, CertifyProgress)]
    result = events[-1]
    assert isinstance(result, CertifyResult)
    assert [e.done for e in progress if e.image == 0] == [20, 64, 128, 192, 200]
    assert all(int(e.counts.sum()) == e.done for e in progress)
    assert torch.equal(result.radii, run()[-1].radii)
    certified = result.predictions != ABSTAIN
    assert (result.radii[certified] > 0).all() and (result.radii[~certified] == 0).all()
    accuracies = [result.certified_accuracy(r) for r in (0.0, 0.05, 0.1, 0.2, 1.0)]
    assert accuracies == sorted(accuracies, reverse=True)


def test_certify_rejects_bad_images(fashion_model):
    with pytest.raises(WorkbenchError):
        list(Smoothing(fashion_model).certify(torch.full((1, 1, 28, 28), float("nan"))))


def test_noise_trained_variants_come_from_the_cards_not_the_ids(monkeypatch):
    from workbench.core import loaders
    from workbench.defenses.smoothing import noise_trained_variants

    assert noise_trained_variants("fashion-cnn") == {
        0.12: "fashion-cnn-noise-0.12", 0.25: "fashion-cnn-noise-0.25", 0.5: "fashion-cnn-noise-0.5",
    }
    assert noise_trained_variants("fashion-cnn-pgd") == {} and noise_trained_variants("signs-cnn") == {}
    cards = [{"id": "robust-a", "noise_sigma": 0.3, "base_model": "net"},
             {"id": "net-noise-0.7", "base_model": "net"},  # an id that looks noise-trained, a card that is not
             {"id": "other", "noise_sigma": 0.1, "base_model": "other-net"}]
    monkeypatch.setattr(loaders, "builtin_models", lambda: cards)
    assert noise_trained_variants("net") == {0.3: "robust-a"}

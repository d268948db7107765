"""Randomized smoothing (Cohen, Rosenfeld and Kolter, "Certified Adversarial Robustness via
Randomized Smoothing", ICML 2019).

The smoothed classifier g(x) answers the class that a base classifier f most often returns
under Gaussian noise, x + N(0, σ²I). If the top class has probability at least p_A > ½ under the
noise, g is constant within the L2 radius σ·Φ⁻¹(p_A) around x (Cohen et al., theorem 1).

* PREDICT draws n noisy samples and answers the top class only if a two-sided binomial test
  rejects a tie with the runner-up at level α; otherwise it abstains.
* CERTIFY chooses the class with n₀ samples, then bounds its probability from below with n
  fresh samples (one-sided Clopper–Pearson at level α) and certifies σ·Φ⁻¹(p_A) when p_A > ½.

Both are generators of :class:`CertifyProgress` events (the class counts filling up, one event
per batch of noise samples) ending with a :class:`CertifyResult`. Noise is drawn on the model's
device from a seeded generator, so a run repeats exactly on the same device.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import torch
from scipy.stats import beta, binomtest, norm

from workbench.core.errors import WorkbenchError
from workbench.core.events import CertifyProgress, CertifyResult
from workbench.core.model import ModelHandle
from workbench.core.params import as_dict, param

ABSTAIN = -1


@dataclass(frozen=True)
class SmoothingParams:
    sigma: float = param(0.25, title="σ", description="Standard deviation of the Gaussian noise (match the base model's training noise)", unit="pixel value", low=0.001, high=2.0)
    n0: int = param(100, title="n₀ (selection)", description="Noise samples that choose the top class", low=1, high=10**6)
    n: int = param(1000, title="n (estimation)", description="Noise samples that bound the top class's probability", low=1, high=10**8)
    alpha: float = param(0.001, title="α", description="Allowed probability of a wrong certificate (or of a wrong non-abstained prediction)", low=1e-9, high=0.5)
    batch_size: int = param(1000, title="Batch size", description="Noise samples per forward pass", low=1, high=100000)


def lower_confidence_bound(successes: int, trials: int, alpha: float) -> float:
    """One-sided (1 − α) Clopper–Pearson lower bound on a binomial proportion."""
    if successes <= 0:
        return 0.0
    return float(beta.ppf(alpha, successes, trials - successes + 1))


def certified_radius(p_lower: float, sigma: float) -> float:
    """σ·Φ⁻¹(p_A) for p_A > ½, else 0 (Cohen et al., theorem 1 with p_B = 1 − p_A)."""
    return float(sigma * norm.ppf(p_lower)) if p_lower > 0.5 else 0.0


class Smoothing:
    """The smoothed version of ``model`` with the settings ``params``."""

    def __init__(self, model: ModelHandle, params: SmoothingParams | None = None, *, seed: int = 0) -> None:
        self.model = model
        self.params = params or SmoothingParams()
        self.seed = seed

    def _generator(self) -> torch.Generator:
        return torch.Generator(device=self.model.device).manual_seed(self.seed)

    def _counts(self, x: torch.Tensor, samples: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Running class counts for ``samples`` noisy copies of one image, one tensor per batch."""
        counts = torch.zeros(self.model.num_classes, dtype=torch.long, device=self.model.device)
        x = self.model.to_input(x[None])
        left = samples
        with torch.no_grad():
            while left > 0:
                size = min(left, self.params.batch_size)
                noise = torch.randn((size, *x.shape[1:]), generator=generator, device=x.device)
                batch = x + self.params.sigma * noise
                votes = self.model(batch).argmax(dim=1)
                counts += torch.bincount(votes, minlength=self.model.num_classes)
                left -= size
                yield counts

    def _sample(self, x, samples, generator, image, images, phase) -> Iterator[CertifyProgress]:
        done = 0
        for counts in self._counts(x, samples, generator):
            done = int(counts.sum())
            yield CertifyProgress(image, images, phase, counts.cpu().clone(), done, samples)

    def certify(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Iterator[CertifyProgress | CertifyResult]:
        """CERTIFY every image of ``x`` (N×C×H×W in [0, 1])."""
        return self._run(x, labels, certify=True)

    def predict(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Iterator[CertifyProgress | CertifyResult]:
        """PREDICT every image of ``x``; the result's radii are 0 and p_lower holds the top
        class's empirical frequency."""
        return self._run(x, labels, certify=False)

    def _run(self, x, labels, *, certify: bool):
        x = _checked(x, self.model)
        n_images = x.shape[0]
        labels = torch.full((n_images,), -1, dtype=torch.long) if labels is None else torch.as_tensor(labels).long().reshape(-1)
        if labels.numel() != n_images:
            raise WorkbenchError(f"{labels.numel()} labels for {n_images} images")
        p = self.params
        generator = self._generator()
        predictions = torch.full((n_images,), ABSTAIN, dtype=torch.long)
        radii = torch.zeros(n_images)
        p_lower = torch.zeros(n_images)
        started = time.perf_counter()
        for i in range(n_images):
            if certify:
                counts = None
                for event in self._sample(x[i], p.n0, generator, i, n_images, "select"):
                    counts = event.counts
                    yield event
                top = int(counts.argmax())
                for event in self._sample(x[i], p.n, generator, i, n_images, "estimate"):
                    counts = event.counts
                    yield event
                bound = lower_confidence_bound(int(counts[top]), p.n, p.alpha)
                p_lower[i] = bound
                if bound > 0.5:
                    predictions[i], radii[i] = top, certified_radius(bound, p.sigma)
            else:
                for event in self._sample(x[i], p.n, generator, i, n_images, "estimate"):
                    counts = event.counts
                    yield event
                runner_up, top = (int(c) for c in counts.topk(2).indices.flip(0))
                n_top, n_runner = int(counts[top]), int(counts[runner_up])
                p_lower[i] = n_top / p.n
                if binomtest(n_top, n_top + n_runner, 0.5).pvalue <= p.alpha:
                    predictions[i] = top
        yield CertifyResult(
            predictions=predictions, radii=radii, p_lower=p_lower, labels=labels,
            settings={"mode": "certify" if certify else "predict", "seed": self.seed,
                      "model_id": self.model.model_id, **as_dict(p)},
            seconds=time.perf_counter() - started,
        )


def _checked(x: torch.Tensor, model: ModelHandle) -> torch.Tensor:
    if x.dim() != 4 or tuple(x.shape[1:]) != tuple(model.input_shape):
        raise WorkbenchError(f"images of shape {tuple(x.shape)} do not match the model's input {tuple(model.input_shape)}")
    if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise WorkbenchError("images must have finite values in [0, 1]")
    return x.detach().float()


def noise_trained_variants(model_id: str) -> dict[float, str]:
    """The built-in models trained under Gaussian noise from ``model_id``, by σ: the cards that
    declare a ``noise_sigma`` and name ``model_id`` as their ``base_model`` (smoothing at σ works
    best over the variant trained at that σ)."""
    from workbench.core.loaders import builtin_models

    return {float(card["noise_sigma"]): str(card["id"]) for card in builtin_models()
            if card.get("noise_sigma") is not None and card.get("base_model") == model_id}

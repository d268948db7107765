"""Gaussian input noise: the simplest randomization defense, and the noise of randomized
smoothing (Cohen, Rosenfeld and Kolter, "Certified Adversarial Robustness via Randomized
Smoothing", ICML 2019), whose base classifiers are trained under the same noise."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.params import param
from workbench.defenses.base import Defense
from workbench.defenses.registry import DEFENSES


@dataclass(frozen=True)
class GaussianNoiseParams:
    sigma: float = param(0.25, title="σ", description="Standard deviation of the noise added to every pixel", unit="pixel value", low=0.0, high=2.0)
    clip: bool = param(False, title="Clip to [0, 1]", description="Clip the noisy image back to valid pixel values (smoothing's base models are trained without clipping)")


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` plus N(0, σ²) noise drawn on the CPU from ``generator`` (device-independent draws)."""
    noise = torch.randn(x.shape, generator=generator, dtype=torch.float32)
    return x + sigma * noise.to(x.device, memory_format=torch.preserve_format)


@DEFENSES.register
class GaussianNoise(Defense):
    id = "gaussian-noise"
    title = "Gaussian noise"
    summary = "Adds random Gaussian noise to the input at every prediction."
    paper = "Cohen, Rosenfeld and Kolter, Certified Adversarial Robustness via Randomized Smoothing, ICML 2019"
    randomized = True
    strength = "sigma"
    Params = GaussianNoiseParams

    def apply(self, x, generator):
        noisy = gaussian_noise(x, self.params.sigma, generator)
        return noisy.clamp(0.0, 1.0) if self.params.clip else noisy

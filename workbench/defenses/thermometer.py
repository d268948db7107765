"""Thermometer encoding (Buckman, Roy, Raffel and Goodfellow, "Thermometer Encoding: One Hot Way
To Resist Adversarial Examples", ICLR 2018), the workbench's example of obfuscated gradients.

Each pixel value v becomes L bits τ(v)ᵢ = [v ≥ i/L], i = 1…L. Buckman et al. train a network on
these codes; the workbench's classifiers take pixels, so the code is read back as the fraction of
bits set (v quantized down to L levels) before the unmodified model. Either way the comparisons
give a zero gradient, which is what makes plain gradient attacks fail. The BPDA stand-in is the
soft thermometer of Buckman et al.'s attack section: each bit a steep sigmoid of v − i/L.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.params import param
from workbench.defenses.base import Defense
from workbench.defenses.registry import DEFENSES


@dataclass(frozen=True)
class ThermometerParams:
    levels: int = param(16, title="Levels", description="Number of thermometer bits per pixel value", low=2, high=256)
    softness: float = param(0.01, title="Softness (BPDA)", description="Width of the sigmoid ramps of the soft thermometer that BPDA differentiates", unit="pixel value", low=1e-4, high=0.5)


def thresholds(levels: int, like: torch.Tensor) -> torch.Tensor:
    """The L thresholds i/L, shaped to broadcast over a trailing level axis of ``like``."""
    return torch.arange(1, levels + 1, device=like.device, dtype=like.dtype) / levels


def thermometer_code(x: torch.Tensor, levels: int) -> torch.Tensor:
    """The hard code: x with a trailing axis of L bits, [x ≥ i/L]."""
    return (x.unsqueeze(-1) >= thresholds(levels, x)).to(x.dtype)


@DEFENSES.register
class Thermometer(Defense):
    id = "thermometer"
    title = "Thermometer encoding"
    summary = "Encodes every pixel value as a row of on/off levels (a thermometer)."
    paper = "Buckman et al., Thermometer Encoding: One Hot Way To Resist Adversarial Examples, ICLR 2018"
    differentiable = False
    strength = "levels"
    Params = ThermometerParams

    def apply(self, x, generator):
        return thermometer_code(x, self.params.levels).mean(dim=-1)

    def approximation(self, x):
        ramps = torch.sigmoid((x.unsqueeze(-1) - thresholds(self.params.levels, x)) / self.params.softness)
        return ramps.mean(dim=-1)

"""Feature squeezing (Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in
Deep Neural Networks", NDSS 2018): bit-depth reduction and median smoothing, as defenses and as
a detector.

Rounding has a zero gradient almost everywhere, so bit-depth reduction is an obfuscated-gradient
defense that BPDA's identity stand-in breaks. The median filter passes gradients to the pixels it
selects. As a detector, an input is flagged when the model's softmax moves by more than a
threshold (L1) between the input and its squeezed versions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from workbench.core.model import ModelHandle
from workbench.core.params import param
from workbench.defenses.base import Defense
from workbench.defenses.registry import DEFENSES


@dataclass(frozen=True)
class BitDepthParams:
    bits: int = param(3, title="Bits", description="Bits kept per pixel value (2^bits levels)", low=1, high=8)


def reduce_bit_depth(x: torch.Tensor, bits: int) -> torch.Tensor:
    levels = 2 ** bits - 1
    return torch.round(x.clamp(0, 1) * levels) / levels


@DEFENSES.register
class BitDepth(Defense):
    id = "bit-depth"
    title = "Bit-depth reduction"
    summary = "Rounds every pixel value to a few bits."
    paper = "Xu, Evans and Qi, Feature Squeezing, NDSS 2018"
    differentiable = False
    strength = "bits"
    Params = BitDepthParams

    def apply(self, x, generator):
        return reduce_bit_depth(x, self.params.bits)


@dataclass(frozen=True)
class MedianParams:
    size: int = param(3, title="Window", description="Side of the square median window (odd)", unit="pixels", low=1, high=9)


def median_filter(x: torch.Tensor, size: int) -> torch.Tensor:
    """Each channel's median over a size×size window (reflected at the borders)."""
    if size <= 1:
        return x
    low = (size - 1) // 2
    padded = F.pad(x, (low, size - 1 - low, low, size - 1 - low), mode="reflect")
    windows = padded.unfold(2, size, 1).unfold(3, size, 1)
    return windows.reshape(*x.shape, size * size).median(dim=-1).values


@DEFENSES.register
class MedianSmoothing(Defense):
    id = "median"
    title = "Median smoothing"
    summary = "Replaces every pixel by the median of its neighbourhood."
    paper = "Xu, Evans and Qi, Feature Squeezing, NDSS 2018"
    strength = "size"
    Params = MedianParams

    def apply(self, x, generator):
        return median_filter(x, self.params.size)


def squeezing_scores(model: ModelHandle, x: torch.Tensor, squeezers: Sequence[Defense]) -> torch.Tensor:
    """Xu et al.'s detection score per image: the largest L1 distance between the softmax on
    ``x`` and on each squeezed version of it. Large scores suggest adversarial inputs."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        reference = model.predict(x)
        distances = [
            (model.predict(squeezer.apply(x, generator)) - reference).abs().sum(dim=1)
            for squeezer in squeezers
        ]
    return torch.stack(distances).amax(dim=0)

"""Images as tensors: conversion to a model's input spec.

All image tensors in the engine are float32 N×C×H×W (or C×H×W for one image) in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from workbench.core.spec import InputSpec


def convert_to_spec(images: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """Convert N×C×H×W images in [0, 1] (C = 1, 3 or 4) to ``spec``: channels first
    (grey → RGB by repetition, RGB → grey by ITU-R BT.601 luma, alpha dropped), then size
    (stretch, or resize the short side and center-crop, as the spec's policy says)."""
    x = images.float()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.shape[1] == 4:
        x = x[:, :3]
    if x.shape[1] == 1 and spec.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] == 3 and spec.channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * weights).sum(dim=1, keepdim=True)
    h, w = x.shape[-2:]
    if (h, w) != (spec.height, spec.width):
        if spec.resize == "center-crop":
            scale = max(spec.height / h, spec.width / w)
            nh, nw = max(spec.height, round(h * scale)), max(spec.width, round(w * scale))
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
            top, left = (nh - spec.height) // 2, (nw - spec.width) // 2
            x = x[..., top : top + spec.height, left : left + spec.width]
        else:
            x = F.interpolate(
                x, size=(spec.height, spec.width), mode="bilinear", antialias=True, align_corners=False
            )
    return x.clamp(0.0, 1.0).contiguous()

"""Random resizing and padding (Xie, Wang, Zhang, Ren and Yuille, "Mitigating Adversarial
Effects Through Randomization", ICLR 2018).

Xie et al. enlarge a 299-pixel image to a random size below 331 and pad it at a random offset to
331 pixels. The workbench's models take a fixed size, so the image is instead shrunk by a random factor
between ``min_scale`` and 1 and padded, at a random offset, back to H×W (one bilinear resampling
per image): the same two random, differentiable steps at the model's own resolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workbench.core.params import param
from workbench.defenses.base import Defense
from workbench.defenses.registry import DEFENSES


@dataclass(frozen=True)
class ResizePadParams:
    min_scale: float = param(0.8, title="Smallest scale", description="The image is shrunk to a random size between this fraction of its side and its full side", low=0.3, high=1.0)
    fill: float = param(0.0, title="Padding value", description="Pixel value of the padding", unit="pixel value", low=0.0, high=1.0)


@DEFENSES.register
class ResizePad(Defense):
    id = "resize-pad"
    title = "Random resize and pad"
    summary = "Shrinks the image to a random size and pads it at a random position."
    paper = "Xie et al., Mitigating Adversarial Effects Through Randomization, ICLR 2018"
    randomized = True
    strength = "min_scale"
    Params = ResizePadParams

    def apply(self, x, generator):
        n = x.shape[0]
        # Per image: a scale s in [min_scale, 1] and a centre that keeps the shrunk image inside
        # the frame, in grid_sample's [-1, 1] coordinates; each image of a batch (and each EOT
        # copy) gets its own draw.
        uniform = torch.rand(n, 3, generator=generator, dtype=torch.float32).to(x.device)
        scale = self.params.min_scale + (1.0 - self.params.min_scale) * uniform[:, 0]
        centre = (uniform[:, 1:] * 2.0 - 1.0) * (1.0 - scale).unsqueeze(1)
        theta = torch.zeros(n, 2, 3, device=x.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / scale
        theta[:, :, 2] = -centre / scale.unsqueeze(1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        shrunk = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.params.fill == 0.0:
            return shrunk
        inside = F.grid_sample(torch.ones_like(x[:, :1]), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return shrunk + self.params.fill * (1.0 - inside)

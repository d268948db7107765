"""JPEG compression of the input (Dziugaite, Ghahramani and Roy, "A study of the effect of JPG
compression on adversarial images", 2016; Das et al., "Keeping the Bad Guys Out", 2017).

The compression runs in OpenCV's codec, outside autograd: the defense is not differentiable, so a
naive gradient attack receives a zero gradient. BPDA (Athalye et al., ICML 2018) passes the
gradient straight through, since JPEG at reasonable quality is close to the identity.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from workbench.core.errors import WorkbenchError
from workbench.core.params import param
from workbench.defenses.base import Defense
from workbench.defenses.registry import DEFENSES


@dataclass(frozen=True)
class JPEGParams:
    quality: int = param(50, title="Quality", description="JPEG quality; lower compresses more", low=1, high=100)


def jpeg_roundtrip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image of ``x`` (N×C×H×W in [0, 1], C = 1 or 3) encoded as JPEG at ``quality`` and
    decoded again, in 8 bits, as a new float32 tensor on ``x``'s device and in ``x``'s memory
    layout (a ModelHandle hands its defenses channels_last inputs)."""
    pixels = (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    pixels = pixels.permute(0, 2, 3, 1).contiguous().numpy()
    out = np.empty_like(pixels)
    for i, image in enumerate(pixels):
        ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1] if image.shape[2] == 3 else image),
                                   [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise WorkbenchError("JPEG encoding failed")
        decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
        decoded = decoded[..., ::-1] if decoded.ndim == 3 else decoded[..., None]
        out[i] = decoded
    restored = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255.0
    # ``empty_like`` keeps x's strides; ``Tensor.contiguous`` takes no ``preserve_format``.
    return torch.empty_like(x, dtype=torch.float32).copy_(restored)


@DEFENSES.register
class JPEG(Defense):
    id = "jpeg"
    title = "JPEG compression"
    summary = "Compresses the input as a JPEG image and decodes it before prediction."
    paper = "Dziugaite, Ghahramani and Roy, A study of the effect of JPG compression on adversarial images, 2016"
    differentiable = False
    strength = "quality"
    Params = JPEGParams

    def apply(self, x, generator):
        return jpeg_roundtrip(x, self.params.quality)

"""Robust Physical Perturbations, the sticker attack (RP2: Eykholt et al., "Robust
Physical-World Attacks on Deep Learning Visual Classification", CVPR 2018).

Stickers on a road sign make a classifier read it as another sign (the target) from the
distances, angles and lights a car sees it in. The mask holds the sticker regions (the paper's
M_x; fit the ``stop-stickers`` template to a sign with
:func:`workbench.core.landmarks.fit_template`); the stickers' colours minimize

    λ_d·‖M_x·δ‖₂ + λ_nps·NPS + E_T[ J(f(T(x + M_x·δ)), y*) ]

over random perspective, scale, rotation, shift and lighting T (the paper's synthetic
transformations of X^V), with Adam. With ``shared`` (the default, as in the paper), one set of
stickers is crafted for all views of the same sign in the batch, mapped onto each view's
stickers in perspective (through the quadrilateral around its mask). A small total-variation
weight keeps the stickers printable in blocks of colour.

:func:`sticker_texture` takes the crafted stickers off the views onto the sign's square (what
one prints), and :func:`stick` puts them on other views of a sign through its corners.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workbench.attacks.physical import DESCRIBED, TextureAttack, outer_corners
from workbench.attacks.registry import ATTACKS
from workbench.attacks.transforms import warp_quads
from workbench.core.params import param


@dataclass(frozen=True)
class StickersParams:
    steps: int = param(200, **DESCRIBED["steps"])
    step_size: float = param(0.1, **DESCRIBED["step_size"])
    samples: int = param(8, **DESCRIBED["samples"])
    perspective: float = param(0.1, **DESCRIBED["perspective"])
    scale: float = param(0.25, **DESCRIBED["scale"])
    rotation: float = param(8.0, **DESCRIBED["rotation"])
    shift: float = param(0.05, **DESCRIBED["shift"])
    brightness: float = param(0.3, **DESCRIBED["brightness"])
    distance_weight: float = param(0.01, title="Change weight λ_d", description="Weight of the L2 size of the change inside the stickers (RP2's λ)", low=0.0, high=100.0)
    confidence: float = param(5.0, **DESCRIBED["confidence"])
    tv_weight: float = param(0.02, **DESCRIBED["tv_weight"])
    nps_weight: float = param(0.1, **DESCRIBED["nps_weight"])
    palette: str = param("", **DESCRIBED["palette"])
    shared: bool = param(True, **DESCRIBED["shared"])
    initial: str = param("image", **DESCRIBED["initial"])


@ATTACKS.register
class Stickers(TextureAttack):
    id = "rp2"
    title = "Stickers (RP2)"
    summary = "Stickers that make a road sign read as another sign from many distances, angles and lights."
    paper = "Eykholt et al., Robust Physical-World Attacks on Deep Learning Visual Classification, CVPR 2018"
    norm = "l0"
    Params = StickersParams


def sticker_texture(x_adv: torch.Tensor, masks: torch.Tensor, quads: torch.Tensor, side: int = 128) -> torch.Tensor:
    """The stickers as printed: each view's stickers (``x_adv`` inside ``masks``, N×1×H×W)
    brought to the sign's square (``side``², the sign's ``quads`` — N×4×2, OpenCV's pixel
    convention — onto its corners) and averaged where the views show them: 1×C×side×side."""
    n = x_adv.shape[0]
    square = outer_corners((side, side)).expand(n, 4, 2)
    colours = warp_quads(x_adv * masks, quads, square, (side, side))
    weights = warp_quads(masks, quads, square, (side, side))
    return colours.sum(dim=0, keepdim=True) / weights.sum(dim=0, keepdim=True).clamp_min(1e-6)


def stick(texture: torch.Tensor, images: torch.Tensor, masks: torch.Tensor, quads: torch.Tensor,
          supersampling: int = 4) -> torch.Tensor:
    """``images`` (N×C×H×W) with the sign-square ``texture`` (from :func:`sticker_texture`)
    stuck on each sign's ``quads`` inside its sticker ``masks``, drawn at ``supersampling``
    times the size and averaged down, as a camera sees a printed sticker."""
    n, _, height, width = images.shape
    side = texture.shape[-1]
    k = supersampling
    drawn = warp_quads(texture.expand(n, -1, -1, -1), outer_corners((side, side)).expand(n, 4, 2), (quads + 0.5) * k - 0.5, (height * k, width * k))
    return torch.where(masks > 0, F.avg_pool2d(drawn, k), images)


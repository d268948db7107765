"""Adversarial eyeglass frames (Sharif et al., "Accessorize to a Crime: Real and Stealthy
Attacks on State-of-the-Art Face Recognition", CCS 2016).

The attacker wears printed eyeglass frames: only the pixels of the frame change, and they may
take any colour. Without a target the attack *dodges* (the face is no longer recognized as its
owner); with one it *impersonates* the target identity. The frame's colours are optimized by
gradient steps (Adam) from a solid colour for the classification loss plus total variation
(smooth frames survive printing and the camera) and non-printability against a palette of
printable colours, in expectation over small shifts, turns, changes of size and of light — the
face moves while the glasses are worn. With ``shared``, one frame is crafted for all images of
each person in the batch, as Sharif et al. craft over several photos of the attacker.

The mask is the frame: fit the eyeglass template to each face with
:func:`workbench.core.landmarks.fit_template` (from the sample set's eye landmarks or eyes
detected by OpenCV's cascades; the shipped template is thickened to cover up to 9 % of the
image, its pixel budget), or draw it.
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.attacks.physical import DESCRIBED, TextureAttack
from workbench.attacks.registry import ATTACKS
from workbench.core.params import param


@dataclass(frozen=True)
class EyeglassesParams:
    steps: int = param(200, **DESCRIBED["steps"])
    step_size: float = param(0.1, **DESCRIBED["step_size"])
    samples: int = param(8, **DESCRIBED["samples"])
    shift: float = param(0.03, **DESCRIBED["shift"])
    rotation: float = param(5.0, **DESCRIBED["rotation"])
    scale: float = param(0.05, **DESCRIBED["scale"])
    brightness: float = param(0.15, **DESCRIBED["brightness"])
    confidence: float = param(5.0, **DESCRIBED["confidence"])
    tv_weight: float = param(0.05, **DESCRIBED["tv_weight"])
    nps_weight: float = param(0.1, **DESCRIBED["nps_weight"])
    palette: str = param("", **DESCRIBED["palette"])
    shared: bool = param(False, **DESCRIBED["shared"])
    initial: str = param("grey", **DESCRIBED["initial"])


@ATTACKS.register
class Eyeglasses(TextureAttack):
    id = "eyeglasses"
    title = "Eyeglass frames"
    summary = "Printable eyeglass frames that dodge face recognition or impersonate a chosen person."
    paper = "Sharif et al., Accessorize to a Crime: Real and Stealthy Attacks on State-of-the-Art Face Recognition, CCS 2016"
    norm = "l0"
    Params = EyeglassesParams

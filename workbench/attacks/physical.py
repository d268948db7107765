"""What the physical attacks share: a texture that replaces the pixels inside the mask and is
optimized for its expected loss over random physical changes, kept smooth and printable.

The eyeglass frames of Sharif et al. ("Accessorize to a Crime: Real and Stealthy Attacks on
State-of-the-Art Face Recognition", CCS 2016) and the stickers of Eykholt et al. ("Robust
Physical-World Attacks on Deep Learning Visual Classification", CVPR 2018) solve one problem.
With ``x_adv`` equal to ``x`` outside the mask and to the texture inside it, minimize over the
texture

    E_T[ −ℓ(f(T(x_adv))) ] + λ_tv·TV(x_adv) + λ_nps·NPS(x_adv) + λ_d·‖x_adv − x‖₂

where ℓ is the attack's loss — the margin by which the model's logits meet the goal (away from
the true class, or towards the target), capped at a confidence κ (Carlini and Wagner, IEEE S&P
2017: cross-entropy vanishes in float32 on confidently recognized faces and stalls there) —
T a random physical change of the whole image (:mod:`workbench.attacks.transforms`: what is
worn or stuck on moves with the face or sign), TV the total variation inside the mask (smooth
textures survive printing and the camera's blur; Sharif et al.), NPS the
non-printability score (:mod:`workbench.core.printable`) and the last term RP2's penalty on
the size of the change. The texture holds colours in [0, 1] with no other bound, starts as a
solid colour, the image itself or noise, and is optimized with Adam (Kingma and Ba, ICLR 2015).

A texture is either per image, or *shared*: one texture for all images of the same class and
goal, so that one printed frame or sticker serves every photo of the person or view of the sign
(Sharif et al. craft over several images of the attacker; RP2 over a set of views).
A shared texture lives in *frame coordinates*: it is mapped projectively onto the quadrilateral
around each image's mask, so it follows frames and stickers fitted to each image, in perspective.

Each step evaluates every image under ``samples`` changes, the first of which is the identity,
so the step's event shows the model's answer on the unchanged image at no extra cost.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Generator

import torch
import torch.nn.functional as F

from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.losses import goal_margin
from workbench.attacks.transforms import (
    PhysicalChanges, apply_changes, homography_from_points, normalized_points, sampling_grid, warp_quads,
)
from workbench.core.events import AttackStep
from workbench.core.printable import default_palette, load_palette, non_printability

INITIAL_TEXTURES = ("grey", "image", "random")

# The descriptions of the parameters that the physical attacks share: use as
# ``steps: int = param(200, **DESCRIBED["steps"])``.
DESCRIBED = {
    "steps": dict(title="Steps", description="Number of optimization steps", low=1, high=100000),
    "step_size": dict(title="Step size", description="Adam's learning rate on the texture's colours", unit="pixel value", low=1e-5, high=1.0),
    "samples": dict(title="Samples per step", description="Random physical changes each image is seen under per step (the first is no change)", low=1, high=256),
    "shift": dict(title="Shift", description="Largest random move of the image", unit="fraction of the size", low=0.0, high=0.5),
    "rotation": dict(title="Rotation", description="Largest random turn of the image", unit="degrees", low=0.0, high=90.0),
    "scale": dict(title="Scale change", description="Largest relative change of size (distance to the camera)", unit="fraction", low=0.0, high=0.9),
    "perspective": dict(title="Perspective", description="Largest random move of each image corner (seen from an angle)", unit="fraction of the size", low=0.0, high=0.3),
    "brightness": dict(title="Brightness change", description="Largest relative change of the illumination", unit="fraction", low=0.0, high=0.9),
    "confidence": dict(title="Confidence κ", description="Logit margin by which a changed image must meet the goal before it stops pulling the texture", unit="logits", low=0.0, high=1000.0),
    "tv_weight": dict(title="Smoothness weight λ_tv", description="Weight of the total variation inside the mask (smooth textures print and photograph well)", low=0.0, high=100.0),
    "nps_weight": dict(title="Printability weight λ_nps", description="Weight of the distance to the nearest printable colour", low=0.0, high=100.0),
    "palette": dict(title="Printable palette", description="File of printable colours, one R G B triplet (0…255) per line; empty = the built-in palette"),
    "shared": dict(title="One texture per class", description="Craft one texture for all images of the same class (and target), mapped onto the quadrilateral around each image's mask"),
    "initial": dict(title="Initial texture", description="Start from a solid grey, the image itself or random colours", choices=INITIAL_TEXTURES),
}


class MaskedTexture:
    """The colours inside each image's mask: the variable that the physical attacks optimize.

    Per image, ``values`` is N×C×H×W in image coordinates. Shared, it is G×C×h×w, one texture
    per group of images with the same class and goal, mapped projectively onto each image's
    :func:`mask_quads`, so that it follows frames and stickers seen from other angles. Its size
    h×w is that of the smallest quad: every image shows every texel (none falls between the
    pixels of a smaller view), as a printed texture looks the same from near and far.
    """

    def __init__(self, problem: Problem, *, shared: bool, initial: str, generator: torch.Generator) -> None:
        self.x, self.mask = problem.x, problem.mask
        n, _, height, width = self.x.shape
        self.shared = shared
        if shared:
            keys = torch.stack([problem.y, problem.goal], dim=1)
            _, self.group = torch.unique(keys, dim=0, return_inverse=True)
            quads = mask_quads(self.mask)
            sides = (quads[:, [1, 2, 2, 3]] - quads[:, [0, 1, 3, 0]]).norm(dim=2)  # top, right, bottom, left
            size = (max(2, math.ceil(sides[:, [1, 3]].min())), max(2, math.ceil(sides[:, [0, 2]].min())))
            square = outer_corners(size).expand(n, 4, 2)
            homography = homography_from_points(
                normalized_points(quads, (height, width)), normalized_points(square, size)
            )
            self.grid = sampling_grid(homography, (height, width)).to(self.x)
            firsts = [int((self.group == g).nonzero()[0, 0]) for g in range(int(self.group.max()) + 1)]
            start = warp_quads(self.x[firsts], quads[firsts], square[firsts], size, padding="border")
        else:
            self.group = torch.arange(n, device=self.x.device)
            start = self.x
        if initial == "grey":
            start = torch.full_like(start, 0.5)
        elif initial == "random":
            start = torch.rand(start.shape, generator=generator).to(start)
        self.values = start.clone().requires_grad_(True)

    def images(self) -> torch.Tensor:
        """The batch with the texture inside the masks (differentiable in the texture)."""
        inside = self.values
        if self.shared:
            inside = F.grid_sample(
                self.values[self.group], self.grid, mode="bilinear", padding_mode="border", align_corners=False
            )
        return torch.where(self.mask > 0, inside, self.x)

    def clamp_(self) -> None:
        with torch.no_grad():
            self.values.clamp_(0.0, 1.0)

    def per_texture(self, values: torch.Tensor) -> torch.Tensor:
        """Per-image ``values`` (N) averaged over the images that share each texture."""
        slots = self.values.shape[0]
        total = torch.zeros(slots, device=values.device).index_add_(0, self.group, values.float())
        count = torch.zeros(slots, device=values.device).index_add_(0, self.group, torch.ones_like(values, dtype=torch.float))
        return total / count.clamp_min(1)


class TextureAttack(Attack):
    """An attack whose variable is a :class:`MaskedTexture` optimized by :func:`optimize_texture`;
    its ``Params`` declare the fields of :data:`DESCRIBED` it offers — the ranges of
    :class:`PhysicalChanges` it draws from (absent ones stay 0) and, optionally,
    ``distance_weight``."""

    def physical_changes(self) -> PhysicalChanges:
        p = self.params
        ranges = ("shift", "rotation", "scale", "perspective", "brightness")
        return PhysicalChanges(**{name: getattr(p, name) for name in ranges if hasattr(p, name)})

    def iterate(self, problem: Problem) -> Generator[AttackStep, None, torch.Tensor]:
        p = self.params
        texture = MaskedTexture(problem, shared=p.shared, initial=p.initial, generator=problem.generator)
        return (
            yield from optimize_texture(
                problem,
                texture,
                changes=self.physical_changes(),
                steps=p.steps,
                step_size=p.step_size,
                samples=p.samples,
                confidence=p.confidence,
                tv_weight=p.tv_weight,
                nps_weight=p.nps_weight,
                palette=resolve_palette(p.palette),
                distance_weight=getattr(p, "distance_weight", 0.0),
            )
        )


def resolve_palette(path: str) -> torch.Tensor:
    """The palette of a ``palette`` parameter: the file it names, or the built-in one."""
    return load_palette(Path(path)) if path else default_palette()


def total_variation(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sharif et al.'s total variation of each image, over the pixels inside ``mask``
    whose right and lower neighbours are inside too, divided by the mask's size:
    mean of sqrt((p[i,j] − p[i,j+1])² + (p[i,j] − p[i+1,j])²), colour differences summed."""
    right = images[..., :-1, 1:] - images[..., :-1, :-1]
    down = images[..., 1:, :-1] - images[..., :-1, :-1]
    inside = mask[..., :-1, :-1] * mask[..., :-1, 1:] * mask[..., 1:, :-1]
    variation = ((right.pow(2) + down.pow(2)).sum(dim=1, keepdim=True) + 1e-8).sqrt() * inside
    return variation.flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1).clamp_min(1.0)


def optimize_texture(
    problem: Problem,
    texture: MaskedTexture,
    *,
    changes: PhysicalChanges,
    steps: int,
    step_size: float,
    samples: int,
    confidence: float,
    tv_weight: float,
    nps_weight: float,
    palette: torch.Tensor,
    distance_weight: float = 0.0,
) -> Generator[AttackStep, None, torch.Tensor]:
    """Adam on ``texture`` for the objective in the module documentation; yields the batch
    (unchanged view) at each step and returns the batch with each texture at its best step."""
    x, mask = problem.x, problem.mask
    n = x.shape[0]
    index = torch.arange(n, device=x.device).repeat_interleave(samples)
    unchanged = torch.zeros(n * samples, dtype=torch.bool)
    unchanged[::samples] = True
    optimizer = torch.optim.Adam([texture.values], lr=step_size)
    best = texture.values.detach().clone()
    best_score = torch.full((best.shape[0], 3), -torch.inf, device=x.device)
    for iteration in range(1, steps + 1):
        seen = changes.sample(n * samples, problem.generator, size=tuple(x.shape[2:]), unchanged=unchanged)
        with torch.enable_grad():
            x_adv = texture.images()
            logits = problem.model(apply_changes(x_adv.repeat_interleave(samples, dim=0), seen))
            # The margin loss of Carlini and Wagner, capped at κ: unlike cross-entropy it keeps
            # its gradient on confidently classified faces, and changes already fooled by κ
            # leave the rest of the expectation to the changes that are not.
            margin = goal_margin(logits, problem.goal[index], problem.targeted)
            loss = (-margin).clamp(max=confidence).view(n, samples).mean(dim=1)
            penalty = tv_weight * total_variation(x_adv, mask) + nps_weight * non_printability(x_adv, mask, palette)
            if distance_weight:
                penalty = penalty + distance_weight * (x_adv - x).flatten(1).norm(dim=1)
            optimizer.zero_grad(set_to_none=True)
            (penalty - loss).sum().backward()
        logits, loss = logits.detach(), loss.detach()
        met = problem.is_success(logits, index).view(n, samples)
        # Keep each texture as it was when it met the goal on the unchanged images, then under
        # most changes, then at its best objective: the last step of a stochastic objective
        # need not be the best.
        score = torch.stack([
            texture.per_texture(met[:, 0].float()),
            texture.per_texture(met.float().mean(dim=1)),
            texture.per_texture(loss - penalty.detach()),
        ], dim=1)
        better = _lexicographically_greater(score, best_score)
        best[better], best_score[better] = texture.values.detach()[better], score[better]
        yield step_event(problem, iteration, steps, x_adv, logits[unchanged.to(x.device)], loss, met[:, 0])
        optimizer.step()
        texture.clamp_()
    with torch.no_grad():
        texture.values.copy_(best)
        return texture.images()


def _lexicographically_greater(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise: whether each row of ``a`` (N×K) comes after the row of ``b``, comparing the
    first column, then the next where they tie."""
    greater = torch.zeros(a.shape[0], dtype=torch.bool, device=a.device)
    tied = torch.ones_like(greater)
    for column in range(a.shape[1]):
        greater |= tied & (a[:, column] > b[:, column])
        tied &= a[:, column] == b[:, column]
    return greater


def mask_boxes(mask: torch.Tensor) -> torch.Tensor:
    """The bounding box of each N×1×H×W mask as N×4 (left, top, right, bottom) in pixels,
    right and bottom exclusive; the whole image for an empty mask."""
    n, _, height, width = mask.shape
    rows = mask[:, 0].amax(dim=2) > 0  # N×H
    cols = mask[:, 0].amax(dim=1) > 0  # N×W
    boxes = torch.tensor([[0, 0, width, height]] * n)
    for i in range(n):
        r, c = rows[i].nonzero().squeeze(1), cols[i].nonzero().squeeze(1)
        if r.numel():
            boxes[i] = torch.stack([c.min(), r.min(), c.max() + 1, r.max() + 1]).cpu()
    return boxes


def mask_quads(mask: torch.Tensor) -> torch.Tensor:
    """The quadrilateral around each N×1×H×W mask: N×4×2 corners (top-left, top-right,
    bottom-right, bottom-left) in pixels with OpenCV's convention (pixel centres at integers).

    Each corner is the mask's outermost pixel corner in its diagonal direction (least x + y for
    the top-left, and so on), so the quad is the bounding box of an upright rectangle and
    follows the outline of a frame or a set of stickers seen in perspective; the whole image
    for an empty mask."""
    n, _, height, width = mask.shape
    quads = outer_corners((height, width)).repeat(n, 1, 1)
    offsets = torch.tensor([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], dtype=torch.float64)
    for i in range(n):
        rows, cols = (mask[i, 0] > 0).nonzero(as_tuple=True)
        if rows.numel() == 0:
            continue
        centres = torch.stack([cols, rows], dim=1).cpu().double()
        corners = (centres.unsqueeze(1) + offsets).reshape(-1, 2)  # every pixel's four corners
        x, y = corners[:, 0], corners[:, 1]
        extremes = [(x + y).argmin(), (x - y).argmax(), (x + y).argmax(), (x - y).argmin()]
        quads[i] = corners[torch.stack(extremes)]
    return quads


def outer_corners(size: tuple[int, int]) -> torch.Tensor:
    """The outer corners of an image of ``size`` = (H, W) as a 1×4×2 quad."""
    height, width = size
    return torch.tensor([[[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]]],
                        dtype=torch.float64)

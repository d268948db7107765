"""The universal adversarial patch (Brown et al., "Adversarial Patch", NIPS 2017 workshop).

One patch is trained over all images of the batch at once: at each step every image gets the
patch at ``samples`` random places, sizes and angles (and lights), and the patch's colours
follow the gradient of the mean loss (Adam), so that it works wherever it is stuck. Without a
target the patch pushes every image away from its class; with targets, one patch is trained per
target class (the paper's "toaster" patch makes anything read as a toaster).

The mask contract: the mask says where the patch may lie. Training places the patch anywhere
inside the bounding box of each image's mask and keeps only the part that falls inside the
mask. The result pastes the patch at its nominal size, upright, at the centre of that bounding
box (shrunk to fit a smaller box), again only inside the mask — so ``x_adv`` differs from ``x``
only where the mask is 1. With no mask (all ones) the patch may go anywhere and ends up in the
middle of the image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator

import torch
import torch.nn.functional as F

from workbench.attacks.base import Attack, Problem, step_event
from workbench.attacks.physical import DESCRIBED, mask_boxes
from workbench.attacks.registry import ATTACKS
from workbench.core.events import AttackStep
from workbench.core.params import param

SHAPES = ("circle", "square")


@dataclass(frozen=True)
class PatchParams:
    size: float = param(0.3, title="Patch size", description="Side of the patch at its nominal size", unit="fraction of the image side", low=0.05, high=1.0)
    shape: str = param("circle", title="Shape", description="Outline of the patch", choices=SHAPES)
    steps: int = param(200, **DESCRIBED["steps"])
    step_size: float = param(0.05, **DESCRIBED["step_size"])
    samples: int = param(4, title="Placements per step", description="Random placements of the patch on each image per step", low=1, high=256)
    scale: float = param(0.2, **DESCRIBED["scale"])
    rotation: float = param(20.0, **DESCRIBED["rotation"])
    brightness: float = param(0.1, **DESCRIBED["brightness"])


@ATTACKS.register
class UniversalPatch(Attack):
    id = "patch"
    title = "Universal patch"
    summary = "One patch, trained over all the images, that changes their class wherever it is stuck."
    paper = "Brown et al., Adversarial Patch, NIPS 2017 workshop on Machine Learning and Computer Security"
    norm = "l0"
    Params = PatchParams

    def iterate(self, problem: Problem) -> Generator[AttackStep, None, torch.Tensor]:
        p = self.params
        x, mask = problem.x, problem.mask
        n, channels, height, width = x.shape
        side = max(2, round(p.size * min(height, width)))
        # One patch per target class (a single one without targets).
        goals = problem.target if problem.targeted else torch.zeros_like(problem.y)
        _, group = torch.unique(goals, return_inverse=True)
        patches = torch.rand(int(group.max()) + 1, channels, side, side, generator=problem.generator)
        patches = patches.to(x.device).requires_grad_(True)
        outline = _outline(p.shape, side).to(x.device)
        boxes = mask_boxes(mask)
        index = torch.arange(n, device=x.device).repeat_interleave(p.samples)
        optimizer = torch.optim.Adam([patches], lr=p.step_size)
        for iteration in range(1, p.steps + 1):
            theta, gain = _random_placements(boxes[index.cpu()], side, (height, width), p, problem.generator)
            with torch.enable_grad():
                grid = F.affine_grid(theta.to(x), [index.numel(), channels, height, width], align_corners=False)
                placed = F.grid_sample(patches[group[index]], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
                cover = F.grid_sample(outline.expand(index.numel(), 1, side, side), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
                cover = cover * mask[index]
                seen = ((x[index] * (1 - cover) + placed * cover) * gain.to(x).view(-1, 1, 1, 1)).clamp(0, 1)
                loss = problem.loss(problem.model(seen), index).view(n, p.samples).mean(dim=1)
                optimizer.zero_grad(set_to_none=True)
                (-loss.sum()).backward()
            with torch.no_grad():
                x_adv = _paste(x, mask, boxes, patches[group], outline)
            logits = problem.logits(x_adv)
            yield step_event(problem, iteration, p.steps, x_adv, logits, loss, problem.is_success(logits))
            optimizer.step()
            with torch.no_grad():
                patches.clamp_(0.0, 1.0)
        with torch.no_grad():
            return _paste(x, mask, boxes, patches[group], outline)


def _outline(shape: str, side: int) -> torch.Tensor:
    """The patch's outline, 1×1×side×side of 0 and 1."""
    if shape == "square":
        return torch.ones(1, 1, side, side)
    centres = torch.arange(side, dtype=torch.float32) + 0.5 - side / 2
    return ((centres.view(-1, 1) ** 2 + centres.view(1, -1) ** 2) <= (side / 2) ** 2).float().view(1, 1, side, side)


def _random_placements(
    boxes: torch.Tensor, side: int, size: tuple[int, int], p: PatchParams, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each box (M×4): the affine_grid map (M×2×3) from image to patch coordinates of a
    patch scaled and turned at random, placed uniformly where it lies wholly inside the box (at
    the box's middle if it does not fit); and the gains."""
    height, width = size
    m = boxes.shape[0]
    u = torch.rand(m, 5, generator=generator, dtype=torch.float64)
    left, top, right, bottom = (boxes[:, k].double() for k in range(4))
    half_side = side / 2 * (1 + (u[:, 3] * 2 - 1) * p.scale)  # pixels
    # The centre where the whole patch lies inside the box (the box's middle if it is smaller).
    room_x = (right - left - 2 * half_side).clamp_min(0)
    room_y = (bottom - top - 2 * half_side).clamp_min(0)
    centre_x = (left + right - room_x) / 2 + u[:, 0] * room_x  # pixels
    centre_y = (top + bottom - room_y) / 2 + u[:, 1] * room_y
    angle = (u[:, 2] * 2 - 1) * math.radians(p.rotation)
    gain = 1 + (u[:, 4] * 2 - 1) * p.brightness
    # Patch coordinate q = R(−angle)·(pixel − centre) / half_side, where pixel = (u + 1)·W/2.
    cos, sin = torch.cos(angle) / half_side, torch.sin(angle) / half_side
    theta = torch.zeros(m, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1] = cos * width / 2, sin * height / 2
    theta[:, 1, 0], theta[:, 1, 1] = -sin * width / 2, cos * height / 2
    offset_x, offset_y = width / 2 - centre_x, height / 2 - centre_y
    theta[:, 0, 2] = cos * offset_x + sin * offset_y
    theta[:, 1, 2] = -sin * offset_x + cos * offset_y
    return theta.float(), gain.float()


def _paste(
    x: torch.Tensor, mask: torch.Tensor, boxes: torch.Tensor, patches: torch.Tensor, outline: torch.Tensor
) -> torch.Tensor:
    """Each image with its patch (N×C×s×s) upright at the centre of its mask's bounding box,
    shrunk to fit a smaller box, only inside the mask."""
    result = x.clone()
    side = patches.shape[-1]
    for i, (left, top, right, bottom) in enumerate(boxes.tolist()):
        fit = min(side, right - left, bottom - top)
        patch, cover = patches[i : i + 1], outline
        if fit < side:
            patch = F.interpolate(patch, size=(fit, fit), mode="area")
            cover = (F.interpolate(outline, size=(fit, fit), mode="area") >= 0.5).float()
        x0 = left + (right - left - fit) // 2
        y0 = top + (bottom - top - fit) // 2
        region = (slice(None), slice(y0, y0 + fit), slice(x0, x0 + fit))
        inside = (cover[0] * mask[i][region]) > 0
        result[i][region] = torch.where(inside, patch[0], x[i][region])
    return result

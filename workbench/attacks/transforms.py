"""Random physical changes of images, for attacks that must survive the physical world.

Expectation over transformation (Athalye et al., "Synthesizing Robust Adversarial Examples",
ICML 2018) optimizes the expected loss over a distribution of the changes an image undergoes
between the attacker and the camera: a face that wears printed eyeglasses moves a little,
turns and is lit differently (Sharif et al., CCS 2016); a stop sign with stickers
is seen from other distances and angles and in other light (Eykholt et al., CVPR 2018).
:class:`PhysicalChanges` declares the ranges; :meth:`PhysicalChanges.sample` draws
one change per image; :func:`apply_changes` applies them — a projective warp of the whole
image (so that whatever is worn or stuck on it moves with it) and a gain of the illumination —
differentiably, with :func:`torch.nn.functional.grid_sample`.

Warps act in grid_sample's normalized coordinates ([-1, 1] across the image, pixel centres
at (2j + 1)/W − 1), so one change applies alike to an image and to its mask at any size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Columns of one draw of uniform numbers: shift x, y; rotation; scale; 4 corners × (x, y); gain.
_DRAWS = 13


@dataclass(frozen=True)
class Changes:
    """Sampled changes, one per image: ``homography`` N×3×3 maps each *output* pixel's
    normalized coordinates to where it is read in the input; ``gain`` N multiplies the
    brightness."""

    homography: torch.Tensor
    gain: torch.Tensor


@dataclass(frozen=True)
class PhysicalChanges:
    """Ranges of random physical changes; 0 turns a change off.

    ``shift``: largest move, as a fraction of the image's width and height; ``rotation``:
    largest turn in degrees; ``scale``: the size changes by a factor in [1 − scale, 1 + scale];
    ``perspective``: largest move of each corner, as a fraction of the image size (a view from
    an angle); ``brightness``: the illumination changes by a factor in [1 − b, 1 + b].
    """

    shift: float = 0.0
    rotation: float = 0.0
    scale: float = 0.0
    perspective: float = 0.0
    brightness: float = 0.0

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        *,
        size: tuple[int, int],
        unchanged: torch.Tensor | None = None,
    ) -> Changes:
        """Draw ``n`` changes for images of ``size`` = (H, W) from ``generator`` (always the
        same amount of randomness, so a seed gives the same sequence whatever the ranges).
        Where ``unchanged`` (bool, N) is True the change is the identity."""
        u = torch.rand(n, _DRAWS, generator=generator, dtype=torch.float64) * 2 - 1  # in [-1, 1]
        height, width = size
        half = torch.tensor([width / 2, height / 2], dtype=torch.float64)
        # The content's motion in pixel units about the image centre: perspective, then scale,
        # rotation and shift.
        corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64) * half
        moved = corners + u[:, 4:12].view(n, 4, 2) * self.perspective * 2 * half
        motion = homography_from_points(corners.expand(n, 4, 2), moved)
        angle = u[:, 2] * math.radians(self.rotation)
        factor = 1 + u[:, 3] * self.scale
        similarity = torch.zeros(n, 3, 3, dtype=torch.float64)
        similarity[:, 0, 0] = similarity[:, 1, 1] = factor * torch.cos(angle)
        similarity[:, 0, 1] = -factor * torch.sin(angle)
        similarity[:, 1, 0] = factor * torch.sin(angle)
        similarity[:, :2, 2] = u[:, :2] * self.shift * 2 * half
        similarity[:, 2, 2] = 1
        motion = similarity @ motion
        to_pixels = torch.diag(torch.cat([half, half.new_ones(1)]))
        # grid_sample reads each output pixel from the input: the inverse of the motion.
        homography = torch.linalg.inv(to_pixels) @ torch.linalg.inv(motion) @ to_pixels
        gain = 1 + u[:, 12] * self.brightness
        if unchanged is not None:
            keep = unchanged.cpu().bool()
            homography[keep] = torch.eye(3, dtype=torch.float64)
            gain[keep] = 1.0
        return Changes(homography=homography.float(), gain=gain.float())


def homography_from_points(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The N×3×3 projective maps taking each of N sets of 4 ``source`` points (N×4×2) to its 4
    ``target`` points (the direct linear transform, solved in float64)."""
    source, target = source.double(), target.double()
    n = source.shape[0]
    x, y = source[..., 0], source[..., 1]
    u, v = target[..., 0], target[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], dim=-1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], dim=-1)
    system = torch.cat([rows_u, rows_v], dim=1)  # N×8×8
    values = torch.cat([u, v], dim=1).unsqueeze(-1)  # N×8×1
    solution = torch.linalg.solve(system, values).squeeze(-1)
    return torch.cat([solution, torch.ones(n, 1, dtype=torch.float64)], dim=1).view(n, 3, 3)


def warp(images: torch.Tensor, homography: torch.Tensor, *, padding: str = "border") -> torch.Tensor:
    """Resample N×C×H×W ``images``: output pixel p reads the input at ``homography``·p
    (normalized coordinates), bilinearly; outside the input, ``padding`` ("border" repeats
    the edge, "zeros" gives 0)."""
    grid = sampling_grid(homography, tuple(images.shape[2:])).to(images)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def sampling_grid(homography: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """grid_sample's N×H×W×2 grid (float64) reading each output pixel p of ``size`` = (H, W)
    at ``homography``·p, in normalized coordinates."""
    height, width = size
    ys = (torch.arange(height, dtype=torch.float64) * 2 + 1) / height - 1
    xs = (torch.arange(width, dtype=torch.float64) * 2 + 1) / width - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x, grid_y, torch.ones_like(grid_x)], dim=-1).view(1, -1, 3)
    mapped = points @ homography.cpu().double().transpose(1, 2)  # N×HW×3
    return (mapped[..., :2] / mapped[..., 2:].clamp_min(1e-6)).view(-1, height, width, 2)


def apply_changes(images: torch.Tensor, changes: Changes) -> torch.Tensor:
    """The images as the camera sees them after ``changes``: warped (edges repeated) and
    brightened, clipped to [0, 1]. Differentiable in ``images``."""
    warped = warp(images, changes.homography)
    return (warped * changes.gain.to(images).view(-1, 1, 1, 1)).clamp(0.0, 1.0)



def warp_quads(
    images: torch.Tensor,
    source: torch.Tensor,
    target: torch.Tensor,
    size: tuple[int, int],
    *,
    padding: str = "zeros",
) -> torch.Tensor:
    """Move the content of quads to other quads: output image n (``size`` = (H, W)) shows, in
    its ``target[n]`` quad, what ``images[n]`` shows in its ``source[n]`` quad (4×2 corners in
    pixels, OpenCV's convention — pixel centres at integers), projectively and bilinearly;
    outside the input, ``padding`` as in :func:`warp`. How views of a sign are brought to one
    pose, and how a sticker crafted in one view is stuck onto another, through the sign's
    corners."""
    height, width = size
    homography = homography_from_points(
        normalized_points(target, (height, width)), normalized_points(source, tuple(images.shape[2:]))
    )
    grid = sampling_grid(homography, (height, width)).to(images)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def normalized_points(points: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Pixel coordinates (pixel centres at integers) in an image of ``size`` = (H, W) as
    grid_sample's normalized coordinates."""
    return (2 * points.double() + 1) / points.new_tensor([size[1], size[0]]).double() - 1


@torch.no_grad()
def survival_rate(
    model,
    images: torch.Tensor,
    goal: torch.Tensor,
    *,
    targeted: bool,
    changes: PhysicalChanges,
    samples: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """For each image, the fraction of ``samples`` random ``changes`` under which ``model``'s
    class still meets the goal: equals ``goal`` (targeted) or differs from it (untargeted).
    How well an adversarial example survives being printed, worn or seen from elsewhere."""
    hits = torch.zeros(images.shape[0])
    for _ in range(samples):
        seen = apply_changes(images, changes.sample(images.shape[0], generator, size=tuple(images.shape[2:])))
        predicted = model(seen).argmax(dim=1).cpu()
        hits += (predicted == goal.cpu()) if targeted else (predicted != goal.cpu())
    return hits / samples

"""Synthetic colour traffic signs for the built-in ``signs-cnn`` model.

Each class is drawn in code with OpenCV on a square canvas, after the European (Vienna
Convention) designs: the red octagon with white STOP, the inverted yield triangle, the yellow
priority diamond, the no-entry disc, speed limits with their digits, red-rimmed warning
triangles and blue mandatory-direction discs. A rendered view puts one sign on a random
background (a crop of a bundled photo, or a procedural one), seen under a random 3-D rotation
in perspective, at a random scale and place, sometimes on a pole and partly hidden by an
occluder, with faded paint, uneven light, a colour cast, blur and sensor noise — the
variation that Eykholt et al. (CVPR 2018, "Robust Physical-World Attacks on Deep Learning
Visual Classification") sample to make their stickers survive the physical world.

:func:`render_signs` returns the images, their labels and, per image, the sign's outer quad
(the corners of the sign's square, top-left, top-right, bottom-right, bottom-left, in the
image's pixel coordinates), which sticker templates are fitted to.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from workbench.core.errors import ParameterError
from workbench.zoo.rendering import (
    blur,
    class_indices,
    composite,
    draw_circle,
    draw_ellipse,
    fill_polygon,
    fixed,
    image_rngs,
    random_background,
    relight,
    shrink,
    to_output_coordinates,
    to_uint8,
)
from workbench.zoo.synthetic import SyntheticRecipe

SIGN_LABELS = [
    "stop", "yield", "priority road", "no entry",
    "speed limit 30", "speed limit 50", "speed limit 70", "speed limit 100",
    "general caution", "traffic signals", "ahead only", "keep left", "keep right",
]  # fmt: skip
SIGN_SIZE = 32  # output images are SIGN_SIZE × SIGN_SIZE
_FACTOR = 4  # drawn at 4× the output size, then shrunk
_CANVAS = 128  # side of the canonical sign drawing

_RED = (200, 24, 32)
_WHITE = (245, 245, 240)
_BLACK = (20, 20, 20)
_YELLOW = (250, 196, 18)
_BLUE = (16, 78, 176)
_AMBER = (250, 160, 10)
_GREEN = (20, 160, 60)
_MIDDLE = (63.5, 63.5)  # the canvas's centre


# -- drawing the canonical signs ------------------------------------------------------------------
def _regular(sides: int, radius: float, rotation: float, centre=_MIDDLE) -> np.ndarray:
    """Corners of a regular polygon (rotation in degrees, y pointing down)."""
    angles = np.deg2rad(rotation + 360 * np.arange(sides) / sides)
    return np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], 1)


def _shrunk(points: np.ndarray, factor: float, centre: np.ndarray | None = None) -> np.ndarray:
    centre = points.mean(0) if centre is None else centre
    return centre + (points - centre) * factor


def _text(canvas: np.ndarray, text: str, width: float, height: float, colour, centre=_MIDDLE,
          font: int = cv2.FONT_HERSHEY_DUPLEX, weight: float = 0.11) -> None:
    """``text`` scaled to fit ``width``×``height`` pixels, centred, with strokes ``weight``×
    its height thick."""
    (w, h), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = min(width / w, height / h)
    thickness = max(1, int(round(weight * h * scale)))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = (int(round(centre[0] - w / 2)), int(round(centre[1] + h / 2)))
    cv2.putText(canvas, text, origin, font, scale, (*colour, 255), thickness, cv2.LINE_AA)


def _digits(canvas: np.ndarray, digits: str, colour, height: float, stroke: float) -> None:
    """A number in the narrow style of road-sign lettering, centred: zeros as ovals (the
    Hershey font's zero is slashed), the other digits in Hershey Simplex."""
    cell, gap = 0.6 * height, 0.12 * height
    left = 63.5 - (len(digits) * cell + (len(digits) - 1) * gap) / 2
    for k, digit in enumerate(digits):
        centre = (left + k * (cell + gap) + cell / 2, 63.5)
        if digit == "0":
            axes = (cell / 2 - stroke / 2, height / 2 - stroke / 2)
            draw_ellipse(canvas, centre, axes, colour, thickness=int(round(stroke)))
        else:
            _text(canvas, digit, cell, height, colour, centre=centre, font=cv2.FONT_HERSHEY_SIMPLEX,
                  weight=stroke / height)


def _arrow(direction_degrees: float) -> np.ndarray:
    """A straight arrow through the centre, pointing ``direction_degrees`` clockwise from up."""
    shaft, head, head_length, half_length = 10, 30, 34, 42
    local = np.array([
        (-shaft, half_length), (-shaft, -half_length + head_length), (-head, -half_length + head_length),
        (0, -half_length), (head, -half_length + head_length), (shaft, -half_length + head_length),
        (shaft, half_length),
    ], dtype=np.float64)  # fmt: skip
    a = np.deg2rad(direction_degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return local @ rotation.T + 63.5


def _triangle(up: bool) -> np.ndarray:
    if up:
        return np.array([(63.5, 6.0), (126.5, 115.0), (0.5, 115.0)])
    return np.array([(0.5, 12.0), (126.5, 12.0), (63.5, 121.0)])


def _draw(label: str) -> np.ndarray:
    """The sign as a straight-alpha RGBA uint8 image of _CANVAS² pixels filling the canvas."""
    canvas = np.zeros((_CANVAS, _CANVAS, 4), np.uint8)
    outer = _CANVAS / 2
    if label == "stop":
        apothem_to_radius = 1 / np.cos(np.pi / 8)
        fill_polygon(canvas, _regular(8, outer * apothem_to_radius, 22.5), _WHITE)
        fill_polygon(canvas, _regular(8, (outer - 5) * apothem_to_radius, 22.5), _RED)
        _text(canvas, "STOP", 96, 40, _WHITE, weight=0.13)
    elif label == "yield":
        triangle = _triangle(up=False)
        fill_polygon(canvas, triangle, _RED)
        fill_polygon(canvas, _shrunk(triangle, 0.6), _WHITE)
    elif label == "priority road":
        diamond = _regular(4, outer, -90)
        fill_polygon(canvas, diamond, _WHITE)
        fill_polygon(canvas, _shrunk(diamond, 0.78), _BLACK)
        fill_polygon(canvas, _shrunk(diamond, 0.72), _YELLOW)
    elif label == "no entry":
        draw_circle(canvas, _MIDDLE, outer, _RED)
        fill_polygon(canvas, np.array([(18, 52), (110, 52), (110, 76), (18, 76)], float) - 0.5, _WHITE)
    elif label.startswith("speed limit "):
        draw_circle(canvas, _MIDDLE, outer, _RED)
        draw_circle(canvas, _MIDDLE, outer * 0.78, _WHITE)
        digits = label.removeprefix("speed limit ")
        height = 48 if len(digits) < 3 else 38
        _digits(canvas, digits, _BLACK, height=height, stroke=height / 6)
    elif label in ("general caution", "traffic signals"):
        triangle = _triangle(up=True)
        fill_polygon(canvas, triangle, _RED)
        fill_polygon(canvas, _shrunk(triangle, 0.66), _WHITE)
        if label == "general caution":
            fill_polygon(canvas, np.array([(58.5, 46), (68.5, 46), (66, 84), (61, 84)]), _BLACK)
            draw_circle(canvas, (63.5, 94), 5.5, _BLACK)
        else:
            fill_polygon(canvas, np.array([(53.5, 44), (73.5, 44), (73.5, 103), (53.5, 103)]), _BLACK)
            for y, colour in ((54, _RED), (73.5, _AMBER), (93, _GREEN)):
                draw_circle(canvas, (63.5, y), 7, colour)
    elif label in ("ahead only", "keep left", "keep right"):
        draw_circle(canvas, _MIDDLE, outer, _WHITE)
        draw_circle(canvas, _MIDDLE, outer - 4, _BLUE)
        direction = {"ahead only": 0, "keep left": 225, "keep right": 135}[label]
        fill_polygon(canvas, _arrow(direction), _WHITE)
    else:
        raise ParameterError(f"unknown traffic sign '{label}' (signs: {', '.join(SIGN_LABELS)})")
    return canvas


@lru_cache(maxsize=None)
def sign_template(label: str) -> np.ndarray:
    """The canonical drawing of a sign as float32 RGBA in [0, 1] (straight alpha); shared,
    so read-only."""
    template = _draw(label).astype(np.float32) / 255
    template.flags.writeable = False
    return template


# -- views ----------------------------------------------------------------------------------------
def _random_quad(rng: np.random.Generator, canvas: int) -> np.ndarray:
    """Where the sign's square lands: its corners rotated in 3-D (yaw ±40°, pitch ±25°, roll
    ±10°), projected by a pinhole camera 4 sign half-widths away, and scaled and placed to a
    random size (55–92 % of the canvas) and position inside the canvas."""
    yaw, pitch, roll = np.deg2rad(rng.uniform([-40, -25, -10], [40, 25, 10]))
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    corners = np.array([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], float) @ (rz @ rx @ ry).T
    distance = 4.0
    projected = corners[:, :2] / (corners[:, 2:] + distance) * distance
    low, high = projected.min(0), projected.max(0)
    size = rng.uniform(0.55, 0.92) * canvas
    scale = size / (high - low).max()
    extent = (high - low) * scale
    centre = (canvas - 1) / 2 + rng.uniform(-1, 1, size=2) * (canvas - extent) / 2
    return (projected - (low + high) / 2) * scale + centre


def _occlude(image: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An object in front of the sign: an ellipse at a random point of the sign's edge,
    filled with a background texture or a dark colour, covering a few % of the sign."""
    size = np.linalg.norm(quad[1] - quad[0])
    edge = int(rng.integers(4))
    point = quad[edge] + rng.uniform() * (quad[(edge + 1) % 4] - quad[edge])
    point = point + (quad.mean(0) - point) * rng.uniform(0, 0.25)
    axes = (size * rng.uniform(0.1, 0.3), size * rng.uniform(0.05, 0.15))
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(mask, fixed(point), fixed(axes), rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, shift=4)
    if rng.random() < 0.5:
        filler = random_background(rng, image.shape[0])
    else:
        filler = np.broadcast_to(rng.uniform(0.05, 0.4, size=3).astype(np.float32), image.shape)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    return image * (1 - alpha) + filler * alpha


def _pole(image: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> None:
    """A grey post from the middle of the sign's bottom edge down to the image's edge."""
    bottom = (quad[2] + quad[3]) / 2
    width = np.linalg.norm(quad[1] - quad[0]) * rng.uniform(0.06, 0.1)
    grey = float(rng.uniform(0.35, 0.75))
    x0, x1 = int(round(bottom[0] - width / 2)), int(round(bottom[0] + width / 2))
    image[int(max(bottom[1] - width, 0)) :, max(x0, 0) : max(x1, 0)] = grey


def _render_one(label: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One view of a sign: the uint8 image and the sign's quad in its pixel coordinates."""
    canvas = SIGN_SIZE * _FACTOR
    image = random_background(rng, canvas)
    quad = _random_quad(rng, canvas)
    if rng.random() < 0.5:
        _pole(image, quad, rng)
    template = sign_template(label)
    corners = np.array([(0, 0), (_CANVAS, 0), (_CANVAS, _CANVAS), (0, _CANVAS)], np.float32) - 0.5
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    layer = cv2.warpPerspective(template, homography, (canvas, canvas), flags=cv2.INTER_LINEAR)
    paint = np.ascontiguousarray(layer[..., :3])
    grey = cv2.cvtColor(paint, cv2.COLOR_RGB2GRAY)[..., None]
    fade, brightness = rng.uniform(0, 0.3), rng.uniform(0.7, 1.1)  # weathered paint, shade
    layer[..., :3] = paint * np.float32((1 - fade) * brightness) + grey * np.float32(fade * brightness)
    image = composite(image, layer)
    if rng.random() < 0.3:
        image = _occlude(image, quad, rng)
    image = blur(relight(shrink(image, _FACTOR), rng), rng, max_sigma=0.7)
    return to_uint8(image, rng), to_output_coordinates(quad, _FACTOR)


def render_signs(
    n: int, seed: int, classes: Sequence[str | int] | None = None, *, start: int = 0
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """``n`` random views of traffic signs: uint8 images N×32×32×3 (RGB), int64 labels
    (indices into :data:`SIGN_LABELS`) and one annotation per image,
    ``{"sign": [[x, y], …]}`` with the sign's outer quad (top-left, top-right, bottom-right,
    bottom-left).

    Image ``i`` shows class ``classes[i % len(classes)]`` (all classes by default, names or
    indices) and depends only on ``seed`` and ``i``; ``start`` skips the stream's first images,
    so ``render_signs(n, s, start=k)`` continues ``render_signs(k, s)``.
    """
    chosen = class_indices(classes, SIGN_LABELS)
    images = np.zeros((n, SIGN_SIZE, SIGN_SIZE, 3), np.uint8)
    labels = np.zeros(n, np.int64)
    annotations = []
    for k, rng in enumerate(image_rngs(seed, start, n)):
        labels[k] = chosen[(start + k) % len(chosen)]
        images[k], quad = _render_one(SIGN_LABELS[labels[k]], rng)
        annotations.append({"sign": quad.round(3).tolist()})
    return images, labels, annotations


SIGNS_CNN = SyntheticRecipe(
    model_id="signs-cnn",
    title="Traffic-sign CNN",
    description=(
        "A small convolutional network that reads 13 kinds of traffic sign in 32×32 colour "
        "images drawn by the workbench's sign generator (perspective, scale, lighting, blur, "
        "occlusion, photo backgrounds); trained by the zoo recipe."
    ),
    dataset="signs",
    generator="workbench.zoo.signs.render_signs",
    render=render_signs,
    labels=SIGN_LABELS,
    size=SIGN_SIZE,
    architecture="small-cnn",
    train_images=12_000,
    held_out_images=1_300,
    epochs=3,
    batch_size=128,
    max_lr=3e-3,
    weight_decay=5e-4,
    folder=lambda label: label.replace(" ", "-"),
)

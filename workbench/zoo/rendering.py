"""Shared steps of the zoo's synthetic image generators (``signs``, ``faces``): random
backgrounds, compositing, anti-aliased downsampling, lighting, blur and sensor noise.

Images here are float32 H×W×3 RGB arrays in [0, 1] (alpha layers H×W×4); shapes are drawn
on uint8 RGBA canvases with OpenCV, anti-aliased and at sub-pixel precision. The generators draw
at a multiple of the output size and :func:`shrink` the drawing, so edges come out
anti-aliased the way a camera's pixels average the light that falls on them; the photometric
steps (:func:`relight`, :func:`blur`, :func:`to_uint8`) then run at the output size.

Backgrounds are crops of the photographs in ``resources/backgrounds/`` (public-domain and CC0
pictures from scikit-image's data folder; the folder's README says which) or procedural
gradients with low-frequency texture.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from workbench.core.errors import ParameterError
from workbench.core.images import read_image_array
from workbench.core.resources import resource_path

PHOTO_SHARE = 0.75  # the rest of the backgrounds are procedural
_SUB = 16  # OpenCV draws at 1/16-pixel precision (shift = 4 bits)
RGB = tuple[int, int, int]


@lru_cache(maxsize=1)
def background_photos() -> tuple[np.ndarray, ...]:
    """The bundled background photographs as float32 RGB arrays, in file-name order."""
    files = sorted(resource_path("backgrounds").glob("*.jpg"))
    return tuple(read_image_array(path).astype(np.float32) / 255 for path in files)


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-0.5, 0.5]: (x, y) arrays of shape h×w."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return (xs + 0.5) / w - 0.5, (ys + 0.5) / h - 0.5


def random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size``×``size`` background: a random square crop (at a random scale, possibly
    mirrored) of a bundled photo with jittered colours, or a procedural one."""
    if rng.random() < PHOTO_SHARE:
        photo = background_photos()[rng.integers(len(background_photos()))]
        side = int(rng.integers(40, photo.shape[0] + 1))
        top, left = rng.integers(0, photo.shape[0] - side + 1, size=2)
        crop = photo[top : top + side, left : left + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = crop * rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    else:
        crop = _procedural_background(rng, 16)
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)


def _procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A linear gradient between two random muted colours plus smooth random blotches."""
    grey = rng.uniform(0.1, 0.9)
    start, end = (grey + rng.uniform(-0.25, 0.25, size=(2, 3))).astype(np.float32)
    xs, ys = _grid(size, size)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.clip(0.5 + xs * np.float32(np.cos(angle)) + ys * np.float32(np.sin(angle)), 0, 1)[..., None]
    grid = int(rng.integers(3, 9))
    blotches = rng.normal(0, rng.uniform(0.02, 0.15), size=(grid, grid, 3)).astype(np.float32)
    blotches = cv2.resize(blotches, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(start * (1 - t) + end * t + blotches, 0, 1)


def fixed(values) -> tuple[int, ...]:
    """Coordinates or lengths → OpenCV's fixed-point integers for ``shift=4``."""
    return tuple(int(round(v * _SUB)) for v in values)


def fill_polygon(canvas: np.ndarray, points: np.ndarray, colour: RGB) -> None:
    """An anti-aliased, opaque filled polygon on an RGBA uint8 canvas."""
    pts = np.round(np.asarray(points) * _SUB).astype(np.int32)
    cv2.fillPoly(canvas, [pts], (*colour, 255), cv2.LINE_AA, shift=4)


def draw_circle(canvas: np.ndarray, centre, radius: float, colour: RGB) -> None:
    """An anti-aliased, opaque filled disc on an RGBA uint8 canvas."""
    cv2.circle(canvas, fixed(centre), int(round(radius * _SUB)), (*colour, 255), -1, cv2.LINE_AA, shift=4)


def draw_ellipse(
    canvas: np.ndarray, centre, axes, colour: RGB, angle: float = 0, thickness: int = -1, arc=(0, 360)
) -> None:
    """An anti-aliased, opaque ellipse (filled when ``thickness`` is −1, else its outline,
    or the outline's ``arc`` in degrees) on an RGBA uint8 canvas."""
    cv2.ellipse(canvas, fixed(centre), fixed(axes), angle, arc[0], arc[1], (*colour, 255),
                thickness, cv2.LINE_AA, shift=4)  # fmt: skip


def draw_polyline(canvas: np.ndarray, points: np.ndarray, colour: RGB, thickness: float) -> None:
    """An anti-aliased, opaque open polyline on an RGBA uint8 canvas."""
    pts = np.round(np.asarray(points) * _SUB).astype(np.int32)
    cv2.polylines(canvas, [pts], False, (*colour, 255), max(1, int(round(thickness))), cv2.LINE_AA, shift=4)


def composite(background: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """An RGBA ``layer`` (straight alpha) painted over an RGB ``background``."""
    alpha = layer[..., 3:4]
    return background * (1 - alpha) + layer[..., :3] * alpha


def shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """The drawing shrunk by ``factor`` with area averaging (anti-aliased edges)."""
    h, w = image.shape[:2]
    return cv2.resize(image, (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def relight(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    gain: tuple[float, float] = (0.55, 1.25),
    cast: float = 0.12,
    gradient: float = 0.3,
) -> np.ndarray:
    """Lighting of a scene: overall brightness in ``gain``, a colour cast of up to ±``cast``
    per channel, a brightness ramp of up to ±``gradient`` in a random direction (light from
    one side), and a gamma change (0.8–1.25)."""
    xs, ys = _grid(*image.shape[:2])
    angle = rng.uniform(0, 2 * np.pi)
    ramp = xs * np.float32(np.cos(angle)) + ys * np.float32(np.sin(angle))
    light = np.float32(rng.uniform(*gain)) * (1 + np.float32(rng.uniform(-gradient, gradient) * 2) * ramp)
    tint = 1 + rng.uniform(-cast, cast, size=3).astype(np.float32)
    lit = np.clip(image * light[..., None] * tint, 0, 1)
    return cv2.pow(lit, float(rng.uniform(0.8, 1.25)))


def blur(image: np.ndarray, rng: np.random.Generator, max_sigma: float, motion: float = 0.15) -> np.ndarray:
    """Defocus (Gaussian blur of σ up to ``max_sigma`` pixels) and, with probability
    ``motion``, a straight motion blur of up to 3 pixels in a random direction."""
    sigma = rng.uniform(0, max_sigma)
    if sigma > 0.15:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if rng.random() < motion:
        length = int(rng.integers(2, 4))
        kernel = np.zeros((5, 5), np.float32)
        kernel[2, 2 - length // 2 : 2 - length // 2 + length] = 1
        rotation = cv2.getRotationMatrix2D((2, 2), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rotation, (5, 5))
        image = cv2.filter2D(image, -1, kernel / kernel.sum())
    return image


def to_uint8(image: np.ndarray, rng: np.random.Generator, max_noise: float = 0.03) -> np.ndarray:
    """Sensor noise of σ up to ``max_noise``, then quantization to uint8."""
    noisy = image + rng.normal(0, rng.uniform(0, max_noise), size=image.shape).astype(np.float32)
    return np.clip(noisy * 255 + 0.5, 0, 255).astype(np.uint8)


def to_output_coordinates(points: np.ndarray, factor: int) -> np.ndarray:
    """Pixel coordinates on the drawing canvas (pixel centres at integers, OpenCV's
    convention) → the same points on the canvas shrunk by ``factor``."""
    return (np.asarray(points, dtype=np.float64) + 0.5) / factor - 0.5


def image_rngs(seed: int, start: int, count: int) -> list[np.random.Generator]:
    """Independent random generators for images ``start`` … ``start + count - 1`` of the
    stream ``seed``, image ``i`` seeded from (``seed``, ``i``) alone: a set's first k images
    are the images of the smaller set, and consecutive ranges continue one stream."""
    for name, value in (("seed", seed), ("start", start), ("image count", count)):
        if value < 0:
            raise ParameterError(f"the {name} must be a non-negative integer, not {value}")
    return [np.random.default_rng([seed, i]) for i in range(start, start + count)]


def class_indices(classes: Sequence[str | int] | None, labels: Sequence[str]) -> list[int]:
    """Class names or indices → indices into ``labels`` (all classes when None)."""
    if classes is None:
        return list(range(len(labels)))
    indices = []
    for item in classes:
        if isinstance(item, (int, np.integer)) and 0 <= item < len(labels):
            indices.append(int(item))
        elif isinstance(item, str) and item in labels:
            indices.append(labels.index(item))
        else:
            raise ParameterError(f"unknown class {item!r} (classes: {', '.join(labels)})")
    if not indices:
        raise ParameterError("give at least one class")
    return indices

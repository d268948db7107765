"""Masks: where an attacker may change pixels (ARCHITECTURE.md, contract 2).

A mask tensor is N×1×H×W float32 holding exactly 0 and 1 (1 = the pixel may change),
broadcast over channels. Users draw masks on a *display* canvas (e.g. 280×280 for a 28×28
image shown ten times larger), so a mask is first described as vector shapes in display
coordinates, and :func:`rasterize` — the one function that goes from display to model
resolution — turns it into a tensor.

**Description.** Each shape draws itself with ``draw((width, height))`` as a bool array
H×W. A :class:`Mask` is an immutable, ordered list of operations: add (union),
subtract (the eraser), intersect, or invert, applied to shapes (:class:`Rect`,
:class:`Ellipse`, :class:`Polygon`, :class:`Stroke` for brush strokes, :class:`Bitmap` for
PNG masks, :class:`Everything`) or to other masks. Every edit returns a new mask, which makes
undo a list of masks.

**Display coordinates** are continuous, in display pixels: (0, 0) is the top-left corner of
the top-left pixel, and the pixel in column j, row i covers [j, j+1) × [i, i+1). A pixel is
inside a shape when its centre is (for strokes: when its centre lies within the brush radius
of the stroke's path). Shapes are clipped to the canvas.

**Rasterization rule.** The composed display mask is area-averaged onto the model grid
(``cv2.INTER_AREA``), which gives the fraction of each model pixel's area that is covered; a
model pixel is in the mask when at least half of it is covered. So that small or thin drawings
do not vanish, every connected region of the display mask that would end up with no model
pixel keeps the model pixel(s) holding most of its display pixels (a dot therefore becomes at
least one model pixel, a hairline a one-pixel line). When display and model sizes are equal, the mask is
taken as drawn.

Sizes: ``display_size`` is (width, height) like a canvas; ``model_size`` is (height, width)
like a tensor.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

import cv2
import numpy as np
import torch

from workbench.core.errors import MaskError
from workbench.core.images import read_image_array, save_png, to_unit_float

_HALF = 0.5 - 1e-4  # "at least half covered", tolerant of float rounding in area averaging
_SUBPIXEL_BITS = 4  # cv2.fillPoly's fixed-point precision: 1/16 display pixel


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: corner (x, y) and size; a negative size extends leftwards
    or upwards (as when dragging)."""

    x: float
    y: float
    width: float
    height: float

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        canvas = np.zeros((size[1], size[0]), dtype=bool)
        canvas[_centres_within(self.y, self.height, size[1]), _centres_within(self.x, self.width, size[0])] = True
        return canvas


@dataclass(frozen=True)
class Ellipse:
    """The ellipse inscribed in the rectangle (x, y, width, height)."""

    x: float
    y: float
    width: float
    height: float

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        canvas = np.zeros((size[1], size[0]), dtype=bool)
        rx, ry = abs(self.width) / 2, abs(self.height) / 2
        if rx == 0 or ry == 0:
            return canvas
        cx, cy = self.x + self.width / 2, self.y + self.height / 2
        rows, cols = np.ogrid[: size[1], : size[0]]
        return ((cols + 0.5 - cx) / rx) ** 2 + ((rows + 0.5 - cy) / ry) ** 2 <= 1.0


@dataclass(frozen=True)
class Polygon:
    """A closed polygon through ``points`` ((x, y) pairs), filled as ``cv2.fillPoly`` fills
    (self-intersecting outlines alternate inside and outside)."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _point_tuple(self.points))

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        canvas = np.zeros((size[1], size[0]), dtype=np.uint8)
        if len(self.points) >= 3:
            cv2.fillPoly(canvas, [_fixed_point(self.points)], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        return canvas.astype(bool)


@dataclass(frozen=True)
class Stroke:
    """A brush stroke: the pixels whose centres lie within ``radius`` of the polyline through
    ``points`` as drawn on the pixel grid (a single point makes a round dot). Subtracted, it
    is the eraser."""

    points: tuple[tuple[float, float], ...]
    radius: float

    def __post_init__(self) -> None:
        if self.radius < 0:
            raise MaskError(f"a brush radius cannot be negative ({self.radius})")
        object.__setattr__(self, "points", _point_tuple(self.points))

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        # The one-pixel path on a canvas padded by the radius (so that parts of the path just
        # outside still paint), then every pixel within the radius of it by a distance transform.
        width, height = size
        pad = int(np.ceil(self.radius)) + 1
        path = np.zeros((height + 2 * pad, width + 2 * pad), dtype=np.uint8)
        if self.points:
            ends = _fixed_point([*self.points, self.points[-1]], offset=pad)  # a lone point draws as a dot
            cv2.polylines(path, [ends], False, 1, thickness=1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        if not path.any():
            return np.zeros((height, width), dtype=bool)
        distance = cv2.distanceTransform(1 - path, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        return distance[pad : pad + height, pad : pad + width] <= self.radius


@dataclass(frozen=True, eq=False)
class Bitmap:
    """A raster mask (H×W, nonzero = in the mask) stretched over the whole canvas, resampled
    by the rasterization rule when its size differs: how PNG masks enter a mask."""

    pixels: np.ndarray

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        return _resample(np.asarray(self.pixels) != 0, (size[1], size[0]))


@dataclass(frozen=True)
class Everything:
    """The whole canvas."""

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        return np.ones((size[1], size[0]), dtype=bool)


Drawable = Union[Rect, Ellipse, Polygon, Stroke, Bitmap, Everything, "Mask"]
_KINDS = ("add", "subtract", "intersect", "invert")


@dataclass(frozen=True)
class Operation:
    """One step of a mask: ``kind`` is add, subtract, intersect (with ``shape``) or invert."""

    kind: str
    shape: Drawable | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise MaskError(f"unknown mask operation '{self.kind}' (known: {', '.join(_KINDS)})")
        if (self.shape is None) != (self.kind == "invert"):
            raise MaskError(f"mask operation '{self.kind}' {'takes no' if self.kind == 'invert' else 'needs a'} shape")


@dataclass(frozen=True)
class Mask:
    """An ordered list of operations, applied to an empty canvas. Immutable: each edit
    returns a new mask."""

    operations: tuple[Operation, ...] = ()

    def add(self, shape: Drawable) -> "Mask":
        """Union with ``shape``."""
        return Mask(self.operations + (Operation("add", shape),))

    def subtract(self, shape: Drawable) -> "Mask":
        """Remove ``shape`` (the eraser)."""
        return Mask(self.operations + (Operation("subtract", shape),))

    def intersect(self, shape: Drawable) -> "Mask":
        """Keep only what lies inside ``shape``."""
        return Mask(self.operations + (Operation("intersect", shape),))

    def invert(self) -> "Mask":
        return Mask(self.operations + (Operation("invert"),))

    def fill(self) -> "Mask":
        """The mask covering everything (history dropped: nothing before it matters)."""
        return Mask((Operation("add", Everything()),))

    def clear(self) -> "Mask":
        """The empty mask."""
        return Mask()

    def draw(self, size: tuple[int, int]) -> np.ndarray:
        """The mask on a display canvas of ``size`` = (width, height): a bool array H×W."""
        canvas = np.zeros((size[1], size[0]), dtype=bool)
        for operation in self.operations:
            if operation.kind == "invert":
                canvas = ~canvas
                continue
            layer = operation.shape.draw(size)
            if operation.kind == "add":
                canvas |= layer
            elif operation.kind == "subtract":
                canvas &= ~layer
            else:
                canvas &= layer
        return canvas


def rasterize(
    mask: Drawable | Iterable[Drawable],
    display_size: tuple[int, int],
    model_size: tuple[int, int],
) -> torch.Tensor:
    """THE rasterizer: ``mask`` (a :class:`Mask`, a shape, or shapes to unite) drawn on a
    display canvas of ``display_size`` = (width, height) and brought to ``model_size`` =
    (height, width) by the rule in the module documentation. Returns a 1×1×h×w float32
    tensor of exactly 0 and 1."""
    width, height = (int(v) for v in display_size)
    rows, cols = (int(v) for v in model_size)
    if min(width, height, rows, cols) < 1:
        raise MaskError(f"sizes must be positive: display {width}×{height}, model {cols}×{rows}")
    drawn = _as_mask(mask).draw((width, height))
    return torch.from_numpy(_resample(drawn, (rows, cols)).astype(np.float32))[None, None]


def clip_rect(x: int, y: int, w: int, h: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The part of the rectangle with corner (x, y) and size w×h (model pixels) that lies in an
    image of ``size`` = (H, W), as (x, y, w, h); an empty or wholly outside rectangle raises
    :class:`MaskError`."""
    rows, cols = size
    if w < 1 or h < 1:
        raise MaskError(f"rectangle {x},{y},{w},{h}: width and height must be at least 1")
    if x >= cols or y >= rows or x + w <= 0 or y + h <= 0:
        raise MaskError(f"rectangle {x},{y},{w},{h} lies outside the {cols}×{rows} image")
    left, top = max(x, 0), max(y, 0)
    return left, top, min(x + w, cols) - left, min(y + h, rows) - top


def rect_mask(x: int, y: int, w: int, h: int, size: tuple[int, int]) -> torch.Tensor:
    """A 1×1×H×W mask of the rectangle with corner (x, y) and size w×h in *model* pixels
    (``size`` = (H, W)), clipped to the image (see :func:`clip_rect`); an empty or wholly
    outside rectangle is an error."""
    rows, cols = size
    x, y, w, h = clip_rect(x, y, w, h, size)
    return rasterize(Rect(x, y, w, h), display_size=(cols, rows), model_size=size)


def require_nonempty(mask: torch.Tensor, source: str) -> torch.Tensor:
    """``mask`` itself, or :class:`MaskError` ("the mask is empty: …") when it allows no pixel
    to change, so that an attack never runs that cannot change anything."""
    if not bool(torch.as_tensor(mask).any()):
        raise MaskError(f"the mask is empty: {source} has no white (or opaque) pixel, so no pixel could change")
    return mask


def same_aspect(size: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two (H, W) sizes have the same aspect ratio, to within a pixel (scaling one to
    the other's height gives its width ± one pixel, or the other way round)."""
    (h, w), (oh, ow) = size, other
    return abs(w * oh - h * ow) <= max(h, oh)


def load_mask_png(path: str | Path, model_size: tuple[int, int]) -> torch.Tensor:
    """A 1×1×H×W mask from an image file (``model_size`` = (H, W)).

    A pixel is in the mask when its value is above half the full scale (> 127 for 8 bits) in
    any colour channel; when the file has an alpha channel that is not fully opaque, the alpha
    channel alone decides (so a sticker with a transparent background is its opaque part).
    Another size of the same aspect ratio as the model's is resampled by the rasterization
    rule; another aspect ratio would stretch the mask and raises :class:`MaskError` naming both
    sizes. An unreadable file raises :class:`DataLoadError` naming it.
    """
    pixels = to_unit_float(read_image_array(path, keep_alpha=True), path)
    file_size = tuple(int(v) for v in pixels.shape[1:])
    if not same_aspect(file_size, tuple(int(v) for v in model_size)):
        raise MaskError(
            f"{path}: the mask is {file_size[1]}×{file_size[0]} (W×H) but the model takes "
            f"{model_size[1]}×{model_size[0]}: a mask of another aspect ratio would be stretched"
        )
    if pixels.shape[0] == 4 and (pixels[3] <= 0.5).any():
        inside = pixels[3] > 0.5
    else:
        inside = (pixels[:3] > 0.5).any(dim=0)
    height, width = inside.shape
    return rasterize(Bitmap(inside.numpy()), display_size=(width, height), model_size=model_size)


def save_mask_png(path: str | Path, mask: torch.Tensor) -> None:
    """Write a mask (1×1×H×W, 1×H×W or H×W of 0 and 1) as a grey PNG: white where the mask is 1."""
    values = torch.as_tensor(mask).detach().cpu().float()
    if values.dim() not in (2, 3, 4) or values.numel() != values.shape[-1] * values.shape[-2]:
        raise MaskError(f"a mask to save must be one H×W plane, not {'×'.join(map(str, values.shape))}")
    if not ((values == 0) | (values == 1)).all():
        raise MaskError("a mask must hold only the values 0 and 1")
    save_png(path, values.reshape(values.shape[-2:]))


# -- drawing and resampling -----------------------------------------------------------------------


def _as_mask(mask: Drawable | Iterable[Drawable]) -> Drawable:
    if hasattr(mask, "draw"):
        return mask
    result = Mask()
    for shape in mask:
        result = result.add(shape)
    return result


def _centres_within(start: float, length: float, limit: int) -> slice:
    """The pixels 0…limit−1 whose centres lie in [start, start + length) (or the mirrored
    interval for a negative length)."""
    low, high = sorted((start, start + length))
    first = min(max(int(np.ceil(low - 0.5)), 0), limit)
    stop = min(max(int(np.ceil(high - 0.5)), first), limit)
    return slice(first, stop)


def _point_tuple(points: Iterable[Iterable[float]]) -> tuple[tuple[float, float], ...]:
    """(x, y) pairs as a hashable tuple of float pairs."""
    return tuple((float(x), float(y)) for x, y in points)


def _fixed_point(points: Sequence[tuple[float, float]], offset: int = 0) -> np.ndarray:
    """Display coordinates as cv2's fixed-point pixel coordinates (``shift`` =
    :data:`_SUBPIXEL_BITS`); cv2 puts integer coordinates at pixel centres, ours at corners."""
    shifted = np.asarray(points, dtype=np.float64).reshape(-1, 2) + offset - 0.5
    return np.rint(shifted * (1 << _SUBPIXEL_BITS)).astype(np.int32)


def _resample(drawn: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask brought to ``size`` = (rows, cols) by the rasterization rule: at least
    half covered, and no drawn region lost entirely."""
    if drawn.shape == tuple(size):
        return drawn.copy()
    rows, cols = size
    coverage = cv2.resize(drawn.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA)
    result = coverage >= _HALF
    _keep_lost_regions(drawn, result)
    return result


def _keep_lost_regions(drawn: np.ndarray, result: np.ndarray) -> None:
    """Add to ``result`` (in place), for every connected region (8-neighbourhood) of ``drawn``
    that has no pixel in it, the model pixel(s) holding most of the region's pixels."""
    count, regions = cv2.connectedComponents(drawn.astype(np.uint8), connectivity=8)
    if count <= 1:
        return
    rows = (np.arange(drawn.shape[0]) * result.shape[0]) // drawn.shape[0]
    cols = (np.arange(drawn.shape[1]) * result.shape[1]) // drawn.shape[1]
    cell = rows[:, None] * result.shape[1] + cols[None, :]  # the model pixel of each display pixel
    kept = np.unique(regions[result.ravel()[cell] & drawn])
    lost = np.isin(regions, kept, invert=True) & drawn
    if not lost.any():
        return
    cells = result.size
    pairs, counts = np.unique(regions[lost].astype(np.int64) * cells + cell[lost], return_counts=True)
    region, pixel = pairs // cells, pairs % cells
    most = np.zeros(count, dtype=counts.dtype)
    np.maximum.at(most, region, counts)
    np.put(result, pixel[counts == most[region]], True)

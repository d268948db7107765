"""Landmarks — where a face's eyes or a sign's corners are — and mask templates fitted to them.

Landmarks are a dict per image: ``{"left_eye": [x, y], "right_eye": [x, y]}`` for faces (left
= left in the image), ``{"sign": [[x, y] × 4]}`` for signs (the outer quad: top-left,
top-right, bottom-right, bottom-left). Coordinates are floats in the image's own pixels with
OpenCV's convention: x right, y down, the centre of pixel (column j, row i) at (j, i).

They come from a sample set's ``landmarks.json`` (an object keyed by each image's path in the
set, as :attr:`ImageSet.names` gives it), from the generators of the built-in data, or, for
faces, from OpenCV's Haar cascades (Viola and Jones, CVPR 2001) with :func:`detect_eyes`.

A mask template is a PNG in ``resources/masks/`` (or any PNG; white or opaque = mask) with a
sidecar JSON of the same name, ``{"anchors": {"left_eye": [x, y], …}}``: the template's points
that go onto the landmarks of the same names. :func:`fit_template` maps two anchor points by a
similarity (rotation, uniform scale, shift — eyeglasses keep their shape), three by an affine
map and four or more by a homography (stickers follow the sign's perspective), and brings the
warped template to the image's size by :func:`workbench.core.masks.rasterize`.

The JSON may also give a pixel budget, ``"coverage": f``: the fitted template is then thickened
(dilated on the supersampled canvas, never thinned) as far as it can be while it covers at most
the fraction f of the image. A frame drawn at one thickness covers 5 % of a small face's image
and 10 % of a close-up's; with a budget every face gets the frame its image can afford, as an
attacker who prints a frame for a known camera distance would choose it (Sharif et al., CCS
2016, size their frames to about 6.5 % of an aligned face image).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from workbench.core.datasets import ImageSet
from workbench.core.errors import DataLoadError, MaskError, WorkbenchError
from workbench.core.images import read_image_array
from workbench.core.masks import Bitmap, load_mask_png, rasterize
from workbench.core.resources import resource_path

LANDMARKS_FILE = "landmarks.json"
_SUPERSAMPLING = 8  # the template is warped onto a canvas this many times the image's size
_DETECTION_SIDE = 256  # small images are enlarged to about this size for the cascades
_MAX_GROWTH = 3  # image pixels by which a template with a coverage budget may grow, at most


def load_landmarks(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The landmarks of the images in ``folder`` (from its ``landmarks.json``), keyed by the
    image's path relative to the folder; empty when the folder has none. A file that is not a
    JSON object of landmark dicts raises :class:`DataLoadError` naming it."""
    path = Path(folder) / LANDMARKS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataLoadError(f"{path}: not readable JSON: {error}") from error
    if not isinstance(data, dict):
        raise DataLoadError(f"{path}: expected an object keyed by image name")
    for name, marks in data.items():
        if not isinstance(marks, dict) or not all(_is_points(value) for value in marks.values()):
            raise DataLoadError(f"{path}: the landmarks of '{name}' are not named [x, y] points or lists of them")
    return data


def landmarks_for(image_set: ImageSet, index: int) -> dict[str, Any] | None:
    """The landmarks of image ``index`` of ``image_set`` in the coordinates of its images
    (``image_set.images``), or None when its source has none for it.

    Sources with landmarks are sample sets (``samples:<set>``) and folders holding a
    ``landmarks.json``. Landmarks are stored in the files' pixels; when the set's images were
    resized to the model's input, the points are scaled the same way (stretched).
    """
    scheme, _, name = image_set.source.partition(":")
    folder = resource_path("samples", name) if scheme == "samples" and name else Path(image_set.source)
    if not folder.is_dir():
        return None
    image_name = image_set.names[index]
    marks = load_landmarks(folder).get(image_name)
    if marks is None:
        return None
    file_pixels = read_image_array(folder / image_name)
    scale = np.array(image_set.images.shape[:1:-1], np.float64) / np.array(file_pixels.shape[1::-1], np.float64)
    return {key: _scaled(points, scale) for key, points in marks.items()}


def detect_eyes(image: np.ndarray) -> dict[str, list[float]] | None:
    """The eyes of the largest face in ``image`` (H×W×3 RGB or H×W grey, uint8), found with
    OpenCV's bundled Haar cascades (face, then eyes in its upper part; the whole image counts as
    the face when no face is found, as in a tight face crop), or None when two eyes side by side
    are not found. Images smaller than about 256 pixels are enlarged first."""
    pixels = np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise DataLoadError(f"eye detection takes an H×W×3 uint8 image, not {pixels.dtype} {pixels.shape}")
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    factor = max(1, int(np.ceil(_DETECTION_SIDE / min(grey.shape))))
    grey = cv2.equalizeHist(cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC))
    height, width = grey.shape
    faces = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        grey, scaleFactor=1.1, minNeighbors=4, minSize=(width // 5, height // 5)
    )
    regions = sorted((tuple(int(v) for v in face) for face in faces), key=lambda f: f[2] * f[3], reverse=True)
    for x, y, w, h in [*regions, (0, 0, width, height)]:
        eyes = _eye_pair(grey[y : y + h * 3 // 5, x : x + w], w)
        if eyes is not None:
            return {
                key: [round((x + ex + 0.5) / factor - 0.5, 3), round((y + ey + 0.5) / factor - 0.5, 3)]
                for key, (ex, ey) in zip(("left_eye", "right_eye"), eyes)
            }
    return None


def template_files(name_or_path: str | Path) -> tuple[Path, Path]:
    """The PNG and anchor JSON of a template: a name in ``resources/masks/``, or a PNG path
    with its JSON beside it. Raises :class:`MaskError` naming what is missing."""
    builtin = resource_path("masks", f"{name_or_path}.png")
    png = builtin if builtin.is_file() else Path(name_or_path)
    if not png.is_file():
        known = sorted(p.stem for p in resource_path("masks").glob("*.json"))
        raise MaskError(f"no mask template '{name_or_path}' (built-in with anchors: {', '.join(known)}; or a PNG file)")
    anchors = png.with_suffix(".json")
    if not anchors.is_file():
        raise MaskError(f"{png}: the template has no anchor file {anchors.name} to fit it with")
    return png, anchors


def fit_template(
    name_or_path: str | Path, landmarks: dict[str, Any], size: tuple[int, int]
) -> torch.Tensor:
    """The template ``name_or_path`` mapped onto ``landmarks`` of an image of ``size`` = (H, W):
    a 1×1×H×W float32 mask of 0 and 1. Raises :class:`MaskError` when a landmark the template
    needs is missing or the fitted template misses the image."""
    png, anchor_file = template_files(name_or_path)
    try:
        spec = json.loads(anchor_file.read_text(encoding="utf-8"))
        anchors, coverage = spec["anchors"], spec.get("coverage")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise MaskError(f"{anchor_file}: not an anchor file ({{\"anchors\": {{name: [x, y], …}}}}): {error}") from error
    if coverage is not None and not (isinstance(coverage, (int, float)) and 0 < coverage <= 1):
        raise MaskError(f"{anchor_file}: 'coverage' must be a fraction of the image in (0, 1], not {coverage!r}")
    missing = [key for key in anchors if key not in landmarks]
    if missing:
        raise MaskError(
            f"the template '{png.stem}' needs the landmark '{missing[0]}' "
            f"(the image has: {', '.join(landmarks) or 'none'})"
        )
    source = np.concatenate([_points(anchors[key]) for key in anchors])
    target = np.concatenate([_points(landmarks[key]) for key in anchors])
    height, width = (int(v) for v in size)
    k = _SUPERSAMPLING
    # Pixel centres at integers on both canvases: a point x of the image is k·x + (k − 1)/2.
    to_canvas = np.array([[k, 0, (k - 1) / 2], [0, k, (k - 1) / 2], [0, 0, 1]])
    mapping = to_canvas @ _point_map(source, target, png)
    pixels = read_image_array(png, keep_alpha=True)
    template = load_mask_png(png, pixels.shape[:2])[0, 0].numpy().astype(np.float32)
    warped = cv2.warpPerspective(template, mapping, (width * k, height * k), flags=cv2.INTER_LINEAR) >= 0.5
    mask = rasterize(Bitmap(warped), display_size=(width * k, height * k), model_size=(height, width))
    if not mask.any():
        raise MaskError(f"the template '{png.stem}' fitted to these landmarks lies outside the {width}×{height} image")
    if coverage is not None:
        mask = _thickened(warped, mask, coverage, (height, width))
    return mask


# -- helpers -------------------------------------------------------------------------------------


def _thickened(canvas: np.ndarray, mask: torch.Tensor, coverage: float, size: tuple[int, int]) -> torch.Tensor:
    """``mask`` (the template rasterized from the supersampled boolean ``canvas``) dilated by the
    largest radius, in canvas pixels up to :data:`_MAX_GROWTH` image pixels, whose mask still
    covers at most ``coverage`` of the image; ``mask`` itself when it already covers more.
    Dilation only grows a mask, so the radius is found by bisection."""
    height, width = size
    k = _SUPERSAMPLING
    pixels = canvas.astype(np.uint8)

    def grown(radius: int) -> torch.Tensor:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        dilated = cv2.dilate(pixels, disc) > 0
        return rasterize(Bitmap(dilated), display_size=(width * k, height * k), model_size=(height, width))

    best, low, high = mask, 0, _MAX_GROWTH * k
    while low < high:
        radius = (low + high + 1) // 2
        candidate = grown(radius)
        if candidate.mean().item() <= coverage:
            best, low = candidate, radius
        else:
            high = radius - 1
    return best



def _is_points(value: Any) -> bool:
    try:
        return _points(value).size > 0
    except (MaskError, TypeError, ValueError):
        return False


def _points(value: Any) -> np.ndarray:
    """[x, y] or [[x, y], …] as an M×2 float64 array."""
    points = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).all():
        raise MaskError("landmark coordinates must be finite numbers")
    return points


def _scaled(points: Any, scale: np.ndarray) -> Any:
    """Points stretched by ``scale`` (x, y) with pixel centres staying pixel centres."""
    values = (np.asarray(points, np.float64) + 0.5) * scale - 0.5
    return values.round(3).tolist()


def _point_map(source: np.ndarray, target: np.ndarray, png: Path) -> np.ndarray:
    """The 3×3 map taking the template's ``source`` points to the image's ``target`` points:
    a similarity for 2 points, affine for 3, a homography (least squares) for 4 or more."""
    if len(source) == 2:
        (a, b), (c, d) = source[1] - source[0], target[1] - target[0]
        norm = a * a + b * b
        if norm == 0:
            raise MaskError(f"{png}: the template's two anchors coincide")
        # The complex ratio (c + di)/(a + bi) is the rotation and scale.
        cos, sin = (a * c + b * d) / norm, (a * d - b * c) / norm
        linear = np.array([[cos, -sin], [sin, cos]])
        shift = target[0] - linear @ source[0]
        return np.vstack([np.column_stack([linear, shift]), [0, 0, 1]])
    if len(source) == 3:
        return np.vstack([cv2.getAffineTransform(source.astype(np.float32), target.astype(np.float32)), [0, 0, 1]])
    if len(source) >= 4:
        homography, _ = cv2.findHomography(source, target, 0)
        if homography is not None:
            return homography
    raise MaskError(f"{png}: cannot fit the template's {len(source)} anchors to the landmarks")


def _cascade(file_name: str) -> "cv2.CascadeClassifier":
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = os.path.join(folder, file_name)
    if not hasattr(cv2, "CascadeClassifier") or not os.path.isfile(path):
        raise WorkbenchError(
            f"OpenCV {cv2.__version__} lacks its bundled Haar cascades ({file_name}): "
            "eye detection needs opencv-python-headless 4.x"
        )
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise WorkbenchError(f"OpenCV could not load its cascade {path}")
    return classifier


def _eye_pair(region: np.ndarray, face_width: int) -> list[tuple[float, float]] | None:
    """Centres of the two eyes in the upper part of a face (``region``): of the eyes the cascade
    finds there, the largest pair side by side at about the same height, left first."""
    if min(region.shape) < 8:
        return None
    smallest = max(8, face_width // 10)
    found = _cascade("haarcascade_eye.xml").detectMultiScale(
        region, scaleFactor=1.05, minNeighbors=3, minSize=(smallest, smallest), maxSize=(face_width // 2, face_width // 2)
    )
    eyes = [(x + w / 2 - 0.5, y + h / 2 - 0.5, w) for x, y, w, h in (tuple(int(v) for v in e) for e in found)]
    best = None
    for i, first in enumerate(eyes):
        for second in eyes[i + 1 :]:
            left, right = sorted((first, second))
            apart = right[0] - left[0]
            if not (0.2 * face_width <= apart <= 0.7 * face_width and abs(right[1] - left[1]) <= 0.25 * apart):
                continue
            if best is None or left[2] + right[2] > best[0][2] + best[1][2]:
                best = (left, right)
    return None if best is None else [(left_or_right[0], left_or_right[1]) for left_or_right in best]

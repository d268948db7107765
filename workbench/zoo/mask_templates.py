"""The anchors of the shipped mask templates, and the stop-sign sticker template.

A template PNG in ``resources/masks/`` (white = mask) has a sidecar ``<name>.json`` whose
``anchors`` say which landmarks it is fitted to (see :func:`workbench.core.landmarks.fit_template`),
in the template's pixels with OpenCV's convention (pixel centres at integers):

* ``eyeglasses``: the centres of the two eye holes, measured on the drawn frame, and a pixel
  budget (:data:`EYEGLASS_COVERAGE`): the frame fitted to a face is thickened to cover up to
  that fraction of the image;
* ``stop-stickers``: two bars above and below the STOP lettering, in the arrangement of
  Eykholt et al.'s sticker attack (CVPR 2018), drawn on the 128×128 square of the
  sign (the canvas that ``workbench.zoo.signs`` draws a sign on, whose corners are the sign's
  quad).

Run ``python -m workbench.zoo.mask_templates`` to rewrite these resources.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from workbench.core.files import write_json_atomic
from workbench.core.images import read_image_array, save_png
from workbench.core.resources import resource_path

SIGN_SQUARE = 128  # side of the sign's square in the sticker template, in template pixels
# The bars in the sign's square: (left, top, right, bottom), right and bottom exclusive.
STOP_STICKER_BARS = ((24, 22, 104, 38), (24, 90, 104, 106))
# The fraction of a face image an eyeglass frame may cover (issue 4 allows 10 %; Sharif et al.'s
# frames cover about 6.5 % of an aligned face image, which fills the whole image).
EYEGLASS_COVERAGE = 0.09


def eye_hole_centres(frame: np.ndarray) -> list[list[float]]:
    """The centres of the two eye holes of an eyeglass frame (H×W, nonzero = frame): the two
    largest regions off the frame that do not touch the image's edge, left one first."""
    off_frame = (np.asarray(frame) == 0).astype(np.uint8)
    count, _, stats, centres = cv2.connectedComponentsWithStats(off_frame, connectivity=4)
    height, width = off_frame.shape
    enclosed = [
        i for i in range(1, count)
        if stats[i, cv2.CC_STAT_LEFT] > 0 and stats[i, cv2.CC_STAT_TOP] > 0
        and stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] < width
        and stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] < height
    ]
    if len(enclosed) < 2:
        raise ValueError("the eyeglass frame has fewer than two enclosed eye holes")
    holes = sorted(enclosed, key=lambda i: stats[i, cv2.CC_STAT_AREA])[-2:]
    return sorted([round(float(v), 1) for v in centres[i]] for i in holes)


def draw_stop_stickers() -> np.ndarray:
    """The sticker bars on the sign's square, white on black, SIGN_SQUARE² uint8."""
    image = np.zeros((SIGN_SQUARE, SIGN_SQUARE), np.uint8)
    for left, top, right, bottom in STOP_STICKER_BARS:
        image[top:bottom, left:right] = 255
    return image


def write_resources(folder: Path | None = None) -> list[Path]:
    """Write ``eyeglasses.json`` (measured on ``eyeglasses.png``) and ``stop-stickers.png`` and
    ``.json`` into ``folder`` (the shipped masks by default); returns the files written."""
    folder = folder or resource_path("masks")
    glasses = read_image_array(resource_path("masks", "eyeglasses.png"))
    left_eye, right_eye = eye_hole_centres(glasses if glasses.ndim == 2 else glasses.max(axis=2))
    corner = SIGN_SQUARE - 0.5
    written = [folder / "eyeglasses.json", folder / "stop-stickers.png", folder / "stop-stickers.json"]
    write_json_atomic(written[0], {"anchors": {"left_eye": left_eye, "right_eye": right_eye},
                                   "coverage": EYEGLASS_COVERAGE})
    save_png(written[1], draw_stop_stickers().astype(np.float32) / 255)
    write_json_atomic(
        written[2], {"anchors": {"sign": [[-0.5, -0.5], [corner, -0.5], [corner, corner], [-0.5, corner]]}}
    )
    return written


if __name__ == "__main__":
    for path in write_resources():
        print("wrote", path)

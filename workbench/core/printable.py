"""Printing a physical perturbation: the printable colours, the non-printability score and the
export of the perturbed region at a physical size.

A printer reproduces only part of the colours a screen shows. Sharif et al. ("Accessorize to
a Crime: Real and Stealthy Attacks on State-of-the-Art Face Recognition", CCS 2016) keep the eyeglass frames printable with a *non-printability score* (NPS) against a palette
of colours that the printer reproduces; Eykholt et al. (RP2, "Robust Physical-World Attacks on
Deep Learning Visual Classification", CVPR 2018) add the same term to the sticker attack.

Sharif's NPS of a pixel is the product of its distances to the palette's colours. With a
palette of 30 colours that product is vanishingly small and its gradient useless in float32, so
the score here is the distance to the *nearest* printable colour: it has the same zeros —
exactly the printable colours — and a gradient of unit size everywhere else.

:data:`DEFAULT_PALETTE` stands in for a measured palette: a 3-level grid of the colours that
inks reach between their darkest (0.1) and lightest (0.9) tones, three greys and the paper's
white. For real prints, print a colour chart, photograph it, and load the colours found with
:func:`load_palette` (a text file of ``R G B`` triplets in 0…255, one per line, ``#`` starting a
comment).
"""
from __future__ import annotations

import itertools
import re
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import torch

from workbench.core.errors import DataLoadError, MaskError
from workbench.core.files import write_bytes_atomic
from workbench.core.images import to_uint8_hwc

_INK_LEVELS = (0.1, 0.5, 0.9)
DEFAULT_PALETTE: tuple[tuple[float, float, float], ...] = (
    *itertools.product(_INK_LEVELS, repeat=3),
    (0.3, 0.3, 0.3),
    (0.7, 0.7, 0.7),
    (1.0, 1.0, 1.0),
)
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as core.images converts RGB to grey
_MM_PER_INCH = 25.4
_LARGEST_PRINT = 30000  # pixels per side: beyond that the size is a typing error
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def default_palette() -> torch.Tensor:
    """The built-in palette as a K×3 float32 tensor in [0, 1]."""
    return torch.tensor(DEFAULT_PALETTE, dtype=torch.float32)


def load_palette(path: str | Path) -> torch.Tensor:
    """A palette file (``R G B`` per line, values 0…255, separated by spaces or commas; ``#``
    starts a comment) as a K×3 float32 tensor in [0, 1]. Raises :class:`DataLoadError` naming
    the file and line of anything else."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataLoadError(f"{path}: cannot read the palette: {error}") from error
    colours = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = [f for f in re.split(r"[\s,;]+", line.split("#", 1)[0].strip()) if f]
        if not fields:
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = []
        if len(values) != 3 or not all(0.0 <= v <= 255.0 for v in values):
            raise DataLoadError(f"{path}, line {number}: '{line.strip()}' is not an R G B triplet in 0…255")
        colours.append(values)
    if not colours:
        raise DataLoadError(f"{path}: the palette holds no colours")
    return torch.tensor(colours, dtype=torch.float32) / 255.0


def save_palette(path: str | Path, palette: torch.Tensor) -> None:
    """Write a K×3 palette in [0, 1] as a palette file (``R G B`` in 0…255 per line)."""
    values = torch.as_tensor(palette, dtype=torch.float32)
    if values.dim() != 2 or values.shape[1] != 3 or values.shape[0] == 0:
        raise DataLoadError(f"a palette is K×3 RGB colours, not {'×'.join(map(str, values.shape))}")
    lines = ["# printable colours: R G B in 0…255"]
    lines += [" ".join(f"{v:.6g}" for v in (colour.clamp(0, 1) * 255).tolist()) for colour in values]
    write_bytes_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))


def palette_for_channels(palette: torch.Tensor, channels: int) -> torch.Tensor:
    """The palette for images of ``channels`` channels: as it is for RGB, its luma for grey."""
    if channels == 3:
        return palette
    return (palette * palette.new_tensor(_LUMA)).sum(dim=1, keepdim=True)


def non_printability(images: torch.Tensor, mask: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """The non-printability score of each image of an N×C×H×W batch: the mean, over the pixels
    where ``mask`` (N×1×H×W) is 1, of the distance to the nearest colour of ``palette`` (K×3,
    brought to C channels). Differentiable in ``images``; 0 for an empty mask."""
    colours = palette_for_channels(palette.to(images), images.shape[1])  # K×C
    pixels = images.permute(0, 2, 3, 1).unsqueeze(3)  # N×H×W×1×C
    squared = (pixels - colours).pow(2).sum(dim=-1)  # N×H×W×K
    nearest = squared.amin(dim=-1).add(1e-12).sqrt()  # N×H×W (ε keeps the gradient finite at 0)
    weights = mask[:, 0].to(images)
    return (nearest * weights).flatten(1).sum(dim=1) / weights.flatten(1).sum(dim=1).clamp_min(1.0)


def print_size_pixels(width_mm: float, dpi: float, aspect: float) -> tuple[int, int]:
    """(width, height) in pixels of a print ``width_mm`` wide at ``dpi`` whose height is
    ``aspect`` times its width. Raises :class:`ValueError` for a size that cannot be printed."""
    if not (width_mm > 0 and dpi > 0):
        raise ValueError(f"a print needs a positive width and resolution, not {width_mm} mm at {dpi} dpi")
    width = round(width_mm / _MM_PER_INCH * dpi)
    height = round(width * aspect)
    if min(width, height) < 1 or max(width, height) > _LARGEST_PRINT:
        raise ValueError(
            f"{width_mm} mm at {dpi} dpi gives {width}×{height} pixels; "
            f"a print must be 1 to {_LARGEST_PRINT} pixels a side"
        )
    return width, height


def write_printable(
    path: str | Path, x_adv: torch.Tensor, mask: torch.Tensor, width_mm: float, dpi: float
) -> tuple[int, int]:
    """Write the perturbed region of ``x_adv`` (C×H×W or 1×C×H×W in [0, 1]) as a PNG to print.

    The image is cropped to the bounding box of ``mask`` (H×W, 1×H×W or 1×1×H×W; 1 = part of
    the frame or sticker), transparent outside the mask, and enlarged (nearest neighbour: every
    image pixel a sharp square of one colour) to ``width_mm`` millimetres at ``dpi`` dots per
    inch. The PNG records that resolution in its ``pHYs`` chunk, so that printing it at 100 %
    gives the physical size. Returns the (width, height) written, in pixels.
    """
    image = torch.as_tensor(x_adv).detach().cpu().float()
    image = image[0] if image.dim() == 4 and image.shape[0] == 1 else image
    inside = torch.as_tensor(mask).detach().cpu().float().squeeze()
    if image.dim() != 3 or inside.shape != image.shape[1:]:
        raise MaskError(
            f"a printable needs one C×H×W image and its H×W mask, not {tuple(image.shape)} and {tuple(inside.shape)}"
        )
    rows, cols = (inside > 0).nonzero(as_tuple=True)
    if rows.numel() == 0:
        raise MaskError("the mask is empty: there is nothing to print")
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    crop = to_uint8_hwc(image[:, top:bottom, left:right])
    if crop.shape[2] == 1:
        crop = np.repeat(crop, 3, axis=2)
    alpha = ((inside[top:bottom, left:right] > 0).numpy() * 255).astype(np.uint8)
    rgba = np.dstack([crop, alpha])
    width, height = print_size_pixels(width_mm, dpi, (bottom - top) / (right - left))
    enlarged = cv2.resize(rgba, (width, height), interpolation=cv2.INTER_NEAREST)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(enlarged, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise DataLoadError(f"{path}: the printable could not be encoded as PNG")
    write_bytes_atomic(path, with_resolution(encoded.tobytes(), dpi))
    return width, height


def with_resolution(png: bytes, dpi: float) -> bytes:
    """PNG bytes with their ``pHYs`` chunk (pixels per metre) set to ``dpi``: any existing one
    is dropped and the new one follows the header chunk."""
    per_metre = round(dpi / (_MM_PER_INCH / 1000.0))
    body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
    physical = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    kept = [chunk for kind, chunk in _png_chunks(png) if kind != b"pHYs"]
    return _PNG_SIGNATURE + kept[0] + physical + b"".join(kept[1:])


def read_resolution(path: str | Path) -> float | None:
    """The resolution (dots per inch) that a PNG file records in its ``pHYs`` chunk, or None."""
    for kind, chunk in _png_chunks(Path(path).read_bytes()):
        if kind == b"pHYs":
            per_metre, _, unit = struct.unpack(">IIB", chunk[8:17])
            return per_metre * (_MM_PER_INCH / 1000.0) if unit == 1 else None
    return None


def _png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of PNG data as (type, the whole chunk with length and CRC)."""
    if not png.startswith(_PNG_SIGNATURE):
        raise DataLoadError("not PNG data")
    chunks = []
    offset = len(_PNG_SIGNATURE)
    while offset + 12 <= len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        end = offset + 12 + length
        chunks.append((png[offset + 4 : offset + 8], png[offset:end]))
        offset = end
    return chunks

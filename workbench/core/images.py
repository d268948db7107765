"""Images as tensors: reading and writing image files, conversion to a model's input spec.

All image tensors in the engine are float32 N×C×H×W (or C×H×W for one image) in [0, 1], with
colour channels in RGB order.

Files are decoded and encoded by OpenCV (PNG, JPEG, BMP, TIFF, WebP and the other formats
``cv2.imdecode`` knows). The bytes go through Python's own file I/O, so paths with any
characters work on every platform (``cv2.imread`` fails on non-ASCII paths on Windows).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from workbench.core.errors import DataLoadError
from workbench.core.files import write_bytes_atomic
from workbench.core.spec import InputSpec

# Suffixes of the image files that folders are scanned for (lower case).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

# Full scale of the integer sample types OpenCV decodes to.
_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def convert_to_spec(images: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """Convert N×C×H×W images in [0, 1] (C = 1, 3 or 4) to ``spec``: channels first
    (grey → RGB by repetition, RGB → grey by ITU-R BT.601 luma, alpha dropped), then size
    (stretch, or resize the short side and center-crop, as the spec's policy says)."""
    x = images.float()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.shape[1] == 4:
        x = x[:, :3]
    if x.shape[1] == 1 and spec.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] == 3 and spec.channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * weights).sum(dim=1, keepdim=True)
    h, w = x.shape[-2:]
    if (h, w) != (spec.height, spec.width):
        if spec.resize == "center-crop":
            scale = max(spec.height / h, spec.width / w)
            nh, nw = max(spec.height, round(h * scale)), max(spec.width, round(w * scale))
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
            top, left = (nh - spec.height) // 2, (nw - spec.width) // 2
            x = x[..., top : top + spec.height, left : left + spec.width]
        else:
            x = F.interpolate(
                x, size=(spec.height, spec.width), mode="bilinear", antialias=True, align_corners=False
            )
    return x.clamp(0.0, 1.0).contiguous()


def read_image_array(path: str | Path, *, keep_alpha: bool = False) -> np.ndarray:
    """The pixels of an image file as stored: H×W (grey) or H×W×C with channels in RGB(A)
    order, in the file's sample type (``uint8``, ``uint16`` or ``float32``).

    Alpha is dropped unless ``keep_alpha`` (without it, JPEG orientation tags are applied, and
    grey images with alpha or a palette come out as RGB); multi-page files give their first
    page. Raises :class:`DataLoadError` naming the file when it cannot be read or decoded.
    """
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise DataLoadError(f"{path}: cannot read: {error.strerror or error}") from error
    if data.size == 0:
        raise DataLoadError(f"{path}: the file is empty")
    flags = cv2.IMREAD_UNCHANGED if keep_alpha else cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR
    with _quiet_opencv():
        try:
            pixels = cv2.imdecode(data, flags)
        except cv2.error:
            pixels = None
    if pixels is None:
        raise DataLoadError(f"{path}: not an image that can be decoded (corrupt or unsupported format)")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB
        pixels = cv2.cvtColor(pixels, code)
    return pixels


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as a float32 C×H×W tensor in [0, 1]: C = 1 for plain grey images, else 3
    (RGB); alpha is dropped. 8- and 16-bit samples are scaled by their full range; floating-point
    samples (TIFF) are clipped to [0, 1]."""
    pixels = read_image_array(path)
    return to_unit_float(pixels, path)


def to_unit_float(pixels: np.ndarray, source: str | Path = "image") -> torch.Tensor:
    """H×W or H×W×C pixels as a float32 C×H×W tensor in [0, 1], scaled by the sample type's
    full range (integer types) or clipped (floating-point types)."""
    if pixels.dtype in _FULL_SCALE:
        values = pixels.astype(np.float32) / _FULL_SCALE[pixels.dtype]
    elif np.issubdtype(pixels.dtype, np.floating):
        values = np.nan_to_num(pixels.astype(np.float32), nan=0.0).clip(0.0, 1.0)
    else:
        raise DataLoadError(f"{source}: unsupported sample type {pixels.dtype}")
    if values.ndim == 2:
        values = values[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))


def to_uint8_hwc(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """A C×H×W (or H×W) image in [0, 1] as a contiguous H×W×C ``uint8`` array (RGB order),
    rounded to the nearest of 256 levels: the form PNG files and displays take."""
    array = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[0] not in (1, 3):
        raise DataLoadError(f"an image must be C×H×W with 1 or 3 channels, not {'×'.join(map(str, array.shape))}")
    scaled = np.rint(np.nan_to_num(array, nan=0.0).clip(0.0, 1.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(scaled.transpose(1, 2, 0))


def quantize_perturbation(
    x_adv: torch.Tensor, x: torch.Tensor, *, norm: str | None = None, eps: float | None = None
) -> torch.Tensor:
    """``x_adv`` on the 8-bit grid (values k/255) as a PNG stores it, rounded so that the saved
    perturbation keeps the attack's bound against the *saved* clean image (``x`` rounded).

    Each pixel goes to its nearest level. With ``norm="linf"`` and ``eps``, a level farther
    than ⌊ε·255⌋ levels from the clean pixel's level is stepped back to that bound; with
    ``norm="l2"`` and ``eps``, when the rounded perturbation's L2 norm exceeds ε, the pixels that
    rounding moved away from the clean level are rounded towards it instead, largest excess
    first, until it does not. Pixels where ``x_adv`` equals ``x`` keep the clean level, so a
    mask holds in the saved file too. Shapes C×H×W or N×C×H×W (the L2 bound per image).
    """
    single = x_adv.dim() == 3
    adv = (x_adv[None] if single else x_adv).detach().cpu().double().clamp(0, 1) * 255
    clean = torch.round((x[None] if single else x).detach().cpu().double().clamp(0, 1) * 255)
    delta = adv - clean
    levels = torch.round(delta)
    if eps is not None and norm == "linf":
        bound = float(np.floor(eps * 255 + 1e-6))
        levels = levels.clamp(-bound, bound)
    elif eps is not None and norm == "l2":
        levels = torch.stack([_l2_rounded(d, r, eps * 255 + 1e-6) for d, r in zip(delta, levels)])
    out = ((clean + levels).clamp(0, 255) / 255).float()
    return out[0] if single else out


def _l2_rounded(delta: torch.Tensor, levels: torch.Tensor, bound: float) -> torch.Tensor:
    """``levels`` (rounded ``delta``) with the fewest pixels rounded towards zero instead, in
    order of how far rounding moved them, so that its L2 norm is at most ``bound``."""
    excess = (levels.abs() - delta.abs()).flatten()
    flat = levels.flatten().clone()
    surplus = float((flat**2).sum()) - bound**2
    if surplus <= 0:
        return levels
    order = torch.argsort(excess, descending=True)
    order = order[excess[order] > 0]
    saved = torch.cumsum(2 * flat[order].abs() - 1, dim=0)
    count = int(torch.searchsorted(saved, torch.tensor([surplus], dtype=saved.dtype))[0]) + 1
    chosen = order[:count]
    flat[chosen] -= flat[chosen].sign()
    return flat.reshape(levels.shape)


def save_png(path: str | Path, image: torch.Tensor | np.ndarray) -> None:
    """Write a C×H×W or H×W image in [0, 1] as an 8-bit PNG (grey or RGB), atomically: the
    bytes go to a temporary file beside ``path`` that then replaces it, so a reader never sees
    a half-written file."""
    pixels = to_uint8_hwc(image)
    if pixels.shape[2] == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise DataLoadError(f"{path}: the image could not be encoded as PNG")
    write_bytes_atomic(path, encoded.tobytes())


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own log lines (e.g. "PNG input buffer is incomplete") while decoding:
    the caller reports a failure as a :class:`DataLoadError` instead."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)

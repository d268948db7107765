"""Which mask an attack gets: the policy that the GUI, its "copy as command" and batch runs share.

Masks here are at *model* resolution (H×W arrays of 0 and 1, as the canvas gives them). An empty
mask means "no mask": every pixel may change. A mask that is exactly one filled rectangle can be
written as ``--mask-rect`` on the command line; others need a PNG. In a batch, images with a mask
of their own keep it and the others take the current image's mask (none: every pixel).

The canvas draws at display resolution, an integer multiple ``k`` of the model's:
:func:`enlarge` and :func:`mask_from_model` bring a model-resolution mask there exactly.
"""
from __future__ import annotations

import numpy as np
import torch

from workbench.core.errors import MaskError
from workbench.core.masks import Bitmap, Mask


def effective_mask(mask: np.ndarray | None) -> np.ndarray | None:
    """The mask the attack gets: None (every pixel) when none was drawn or it is empty."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=np.float32)
    return mask if (mask > 0).any() else None


def mask_rectangle(mask: np.ndarray | None) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) if the mask is exactly one filled axis-aligned rectangle, else None."""
    if mask is None:
        return None
    on = np.asarray(mask) > 0
    rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    if rows.size == 0:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if on[y0:y1, x0:x1].all() and on.sum() == (y1 - y0) * (x1 - x0):
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)
    return None


def batch_masks(masks: dict[int, np.ndarray | None], current: int, n: int, shape: tuple[int, int]):
    """(N×1×H×W float32 array or None, a sentence saying which masks apply) for ``n`` images
    whose drawn masks are ``masks`` (index → H×W, None or empty = none), ``current`` being the
    current image (see the module docstring); a single mask, the current image's, comes back
    as 1×1×H×W."""
    own = {i: m for i, m in masks.items() if m is not None and (np.asarray(m) > 0).any() and 0 <= i < n}
    if not own:
        return None, "no mask: every pixel may change"
    default = own.get(current)
    if set(own) == {current}:
        return np.asarray(default, np.float32)[None, None], "the current image's mask on every image"
    fallback = np.ones(shape, np.float32) if default is None else np.asarray(default, np.float32)
    stack = np.stack([np.asarray(own.get(i, fallback), np.float32) for i in range(n)])[:, None]
    others = "the current image's mask" if default is not None else "every pixel"
    return stack, f"{len(own)} images with their own mask, the others {others}"


def as_model_mask(mask, size: tuple[int, int]) -> np.ndarray:
    """``mask`` (numpy or torch; H×W, 1×H×W or 1×1×H×W; {0, 1} or bool) as a bool H×W array of
    ``size`` = (H, W). Raises MaskError on another shape."""
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    a = np.asarray(mask)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.shape != tuple(size):
        raise MaskError(f"the mask is {'×'.join(map(str, np.asarray(mask).shape))}, the image {size[0]}×{size[1]}")
    return a > 0.5


def enlarge(model: np.ndarray, k: int) -> np.ndarray:
    """A model-resolution bool mask at display resolution: each model pixel as k×k display pixels."""
    return np.repeat(np.repeat(model, k, axis=0), k, axis=1)


def mask_from_model(mask, size: tuple[int, int], k: int) -> Mask:
    """A core Mask (display coordinates) for a model-resolution mask of ``size`` = (H, W) shown
    ``k`` times larger (None = empty); exact, since the display is an integer multiple of the
    model size. Raises MaskError on another shape."""
    if mask is None:
        return Mask()
    m = as_model_mask(mask, size)
    if not m.any():
        return Mask()
    if m.all():
        return Mask().fill()
    return Mask().add(Bitmap(enlarge(m, k)))

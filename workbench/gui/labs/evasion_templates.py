"""Fitting mask templates (eyeglass frames, stop-sign stickers) to the images of the Evasion lab.

When the user picks a template, the lab looks for the image's landmarks: the sample set's
``landmarks.json`` (:func:`workbench.core.landmarks.landmarks_for`) or, for templates anchored to
the eyes, the eyes that OpenCV's cascades find (:func:`workbench.core.landmarks.detect_eyes`).
With landmarks, core's :func:`~workbench.core.landmarks.fit_template` maps the template onto
them (rotation, scale and shift for eyeglasses; the sign's perspective for stickers) and the
fitted mask joins the image's mask as one undoable edit. Without, the template is placed for
the user to move and scale by hand. Either way a sentence says which happened.

:class:`TemplateFitter` is what the mask toolbar calls (``fit``, ``fit_all``); it holds no state
beyond the lab it serves.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.gui import theme

# How each kind of template is called in messages.
_NOUNS = {"eyeglasses": "eyeglass frame", "stop-stickers": "stop-sign stickers", "sticker-square": "square sticker"}


def template_anchors(name: str) -> list[str] | None:
    """The landmark names a template is fitted to (its sidecar JSON), None without one."""
    from workbench.core.landmarks import template_files

    try:
        _png, anchors = template_files(name)
        return list(json.loads(anchors.read_text(encoding="utf-8"))["anchors"])
    except (WorkbenchError, OSError, ValueError, KeyError, TypeError):
        return None


class TemplateFitter:
    """Fits templates to the lab's current image, or to every image (see the module docstring)."""

    def __init__(self, lab) -> None:
        self.lab = lab

    def landmarks(self, index: int, anchors: list[str]) -> tuple[dict[str, Any] | None, str]:
        """The landmarks of image ``index`` that ``anchors`` need and where they came from, or
        (None, why there are none)."""
        from workbench.core.landmarks import detect_eyes, landmarks_for

        images = self.lab.state.images
        try:
            marks = landmarks_for(images, index)
        except WorkbenchError:
            marks = None
        if marks is not None and all(key in marks for key in anchors):
            return marks, "the sample set's landmarks"
        if not set(anchors) <= {"left_eye", "right_eye"}:
            return None, "no landmarks known for this image"
        try:
            eyes = detect_eyes(theme.to_display_uint8(images.images[index].numpy()))
        except WorkbenchError as error:  # e.g. an OpenCV without its cascades
            return None, f"no eye landmarks known, and {error}"
        if eyes is None:
            return None, "no eye landmarks known or found in this image"
        return eyes, "the eyes OpenCV found"

    def fitted_mask(self, name: str, index: int) -> tuple[np.ndarray | None, str]:
        """The template fitted to image ``index`` (H×W of 0/1) and where its landmarks came
        from, or (None, why not)."""
        from workbench.core.landmarks import fit_template

        anchors = template_anchors(name)
        noun = _NOUNS.get(name, "template")
        if anchors is None:
            return None, f"the {noun} has no anchor points to fit it with"
        marks, source = self.landmarks(index, anchors)
        if marks is None:
            return None, source
        size = tuple(self.lab.state.images.images.shape[-2:])
        mask = fit_template(name, marks, size)[0, 0].numpy()
        return mask, source

    def fit(self, name: str) -> tuple[bool, str]:
        """Fit ``name`` to the current image and add it to its mask: (True, what happened), or
        (False, why it must be placed by hand)."""
        state = self.lab.state
        noun = _NOUNS.get(name, "template")
        mask, source = self.fitted_mask(name, state.current_index)
        if mask is None:
            return False, f"Place the {noun} by hand ({source}): drag to move, wheel or corner to scale, Enter to stamp."
        self.lab.canvas.add_model_mask(mask)
        share = 100.0 * float(mask.mean())
        return True, f"Fitted the {noun} to {source} ({share:.1f} % of the pixels); Ctrl+Z undoes it."

    def fit_all(self, name: str) -> str:
        """Fit ``name`` to every image with landmarks, each into its own mask (replacing it)."""
        state = self.lab.state
        noun = _NOUNS.get(name, "template")
        fitted, missed = 0, 0
        for index in range(state.image_count()):
            try:
                mask, _source = self.fitted_mask(name, index)
            except WorkbenchError:
                mask = None
            if mask is None:
                missed += 1
                continue
            state.set_mask(index, mask.astype(np.float32))
            fitted += 1
        if not fitted:
            return f"No image has the landmarks the {noun} needs: place it by hand."
        rest = f"; {missed} without landmarks keep their masks" if missed else ""
        return f"Fitted the {noun} to {fitted} images{rest}. Run on all images attacks each with its own mask."

"""What happens to the images when the model changes, and what a model file says about its
input (Qt-free: the window calls these, tests may too).

A model switch keeps the images the user is looking at whenever they can be converted to the
new model's input: the image pipeline (:func:`workbench.core.images.convert_to_spec`) resizes
them and converts grey to RGB and back, so any image set can. Only a built-in model's own
samples give way to the new model's own samples, when it has some. An empty source never
becomes a path: ``Path("")`` is the working directory, which a folder source would scan.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.source import recorded_input_shape


def default_data_for(model: Any) -> str | None:
    """The sample set that goes with a model (``samples:<its card's data set>``), or None when
    it names none (any model file the user brings)."""
    dataset = (getattr(model, "card", None) or {}).get("dataset") if model is not None else None
    return f"samples:{dataset}" if dataset else None


def images_after_switch(previous_model: Any, previous_images: Any, model: Any) -> str | None:
    """The image source to open for ``model`` in place of ``previous_images`` (opened for
    ``previous_model``): the new model's own samples if the previous images were the previous
    model's own samples and the new model has some; otherwise the previous images' source again,
    converted to the new input; None when there were no images (or no source to reopen)."""
    if previous_images is None:
        return None
    source = str(getattr(previous_images, "source", "") or "").strip()
    own_samples = previous_model is not None and source == default_data_for(previous_model)
    new_samples = default_data_for(model)
    if own_samples and new_samples:
        return new_samples
    return source or None


def input_mismatch(path: str | Path, shape: tuple[int, int, int] | None, trust_pickle: bool = False) -> str:
    """Why a torch.export archive refuses input ``shape`` (C×H×W): the shape it was exported
    for, which it records; '' when it records none, or the same one."""
    expected = recorded_input_shape(path, trust_pickle)
    if expected is None or shape is None or tuple(shape) == expected:
        return ""
    wanted, given = "×".join(map(str, expected)), "×".join(map(str, shape))
    return (f"{Path(path).name} expects input {wanted} (channels × height × width, recorded in the archive), "
            f"not {given}: open it with input size {expected[1]}×{expected[2]} and {expected[0]} channel(s)")
